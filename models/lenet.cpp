// LeNet (the Grad-CAM tutorial's layout).
#include "models/lenet.h"

namespace engine::models {

LeNet::LeNet(const ModelConfig& config, Generator& gen) : Model(checked_name(config, {"lenet"}, "LeNet")) {
    using namespace nn;
    const int64_t in = this->config().in_channels, classes = this->config().num_classes;
    conv_ = register_module("conv", std::make_shared<Sequential>());
    conv_->push_back(std::make_shared<Conv2d>(Conv2dOptions(in, 6, 5), gen));
    conv_->push_back(std::make_shared<ReLU>());
    conv_->push_back(std::make_shared<MaxPool2d>(MaxPool2dOptions(2).stride(2)));
    conv_->push_back(std::make_shared<Conv2d>(Conv2dOptions(6, 16, 5), gen));
    conv_->push_back(std::make_shared<ReLU>());
    conv_->push_back(std::make_shared<MaxPool2d>(MaxPool2dOptions(2).stride(2)));
    fc_ = register_module("fc", std::make_shared<Sequential>());
    fc_->push_back(std::make_shared<Linear>(256, 120, gen));
    fc_->push_back(std::make_shared<ReLU>());
    fc_->push_back(std::make_shared<Linear>(120, 84, gen));
    fc_->push_back(std::make_shared<ReLU>());
    fc_->push_back(std::make_shared<Linear>(84, classes, gen));
}

Tensor LeNet::forward(const Tensor& x) {
    const int64_t in = config().in_channels;
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in && x.size(2) == 28 && x.size(3) == 28,
                 "LeNet: expected an input of shape (N, ", in, ", 28, 28), got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    return (*fc_)((*conv_)(x).flatten(1));
}

}  // namespace engine::models
