// VGG in torchvision's layout (cfgs A/B/D/E) with torchvision's initialisation.
#include "models/vgg.h"

namespace engine::models {
const std::vector<int64_t>& vgg_layer_widths(int64_t depth) {
    constexpr int64_t M = 0;  // max pool
    static const std::vector<int64_t> a{64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    static const std::vector<int64_t> b{64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
    static const std::vector<int64_t> d{64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M};
    static const std::vector<int64_t> e{64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
                                        512, 512, 512, 512, M,   512, 512, 512, 512, M};
    switch (depth) {
        case 11:
            return a;
        case 13:
            return b;
        case 16:
            return d;
        case 19:
            return e;
        default:
            throw Error(detail::concat("VGG: depth must be 11, 13, 16 or 19, got ", depth));
    }
}

namespace {

void init_linear(nn::Linear& layer, Generator& gen) {
    Tensor w = layer.weight(), b = layer.bias();
    nn::init::normal_(w, 0.0, 0.01, gen);
    nn::init::zeros_(b);
}

}  // namespace

std::shared_ptr<nn::Sequential> make_vgg_features(int64_t depth, bool batch_norm, int64_t in_channels, Generator& gen) {
    using namespace nn;
    ENGINE_CHECK(in_channels > 0, "VGG: in_channels must be positive, got ", in_channels);
    auto features = std::make_shared<Sequential>();
    int64_t channels = in_channels;
    for (int64_t v : vgg_layer_widths(depth)) {
        if (v == 0) {
            features->push_back(std::make_shared<MaxPool2d>(MaxPool2dOptions(2).stride(2)));
            continue;
        }
        std::shared_ptr<Conv2d> conv;
        {
            init::SkipInitGuard replaced_below;  // no default draw that kaiming_normal_ overwrites at once
            conv = std::make_shared<Conv2d>(Conv2dOptions(channels, v, 3).padding(1), gen);
        }
        Tensor w = conv->weight(), b = conv->bias();
        init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, gen);
        init::zeros_(b);
        features->push_back(conv);
        if (batch_norm) features->push_back(std::make_shared<BatchNorm2d>(BatchNorm2dOptions(v)));
        features->push_back(std::make_shared<ReLU>());
        channels = v;
    }
    return features;
}

VGG::VGG(const ModelConfig& config, Generator& gen)
    : Model(checked_name(config, {"vgg16", "vgg11", "vgg13", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"},
                         "VGG")) {
    using namespace nn;
    const ModelConfig& c = this->config();
    depth_ = std::stoll(c.name.substr(3, 2));
    batch_norm_ = c.name.size() > 5;
    features_ = register_module("features", make_vgg_features(depth_, batch_norm_, c.in_channels, gen));
    avgpool_ = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(c.pool_size));
    const int64_t flat = 512 * c.pool_size * c.pool_size, hidden = c.classifier_width;
    classifier_ = register_module("classifier", std::make_shared<Sequential>());
    std::shared_ptr<Linear> fc1, fc2, fc3;
    {
        init::SkipInitGuard replaced_below;  // init_linear draws the weights
        fc1 = classifier_->emplace_back<Linear>(flat, hidden, gen);
        classifier_->emplace_back<ReLU>();
        classifier_->emplace_back<Dropout>(c.dropout);
        fc2 = classifier_->emplace_back<Linear>(hidden, hidden, gen);
        classifier_->emplace_back<ReLU>();
        classifier_->emplace_back<Dropout>(c.dropout);
        fc3 = classifier_->emplace_back<Linear>(hidden, c.num_classes, gen);
    }
    for (const auto& fc : {fc1, fc2, fc3}) init_linear(*fc, gen);
}

Tensor VGG::forward(const Tensor& x) {
    const int64_t in = config().in_channels;
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in && x.size(2) >= 32 && x.size(3) >= 32,
                 "VGG: expected an input of shape (N, ", in, ", H, W) with H, W >= 32, got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    return (*classifier_)((*avgpool_)((*features_)(x)).flatten(1));
}

}  // namespace engine::models
