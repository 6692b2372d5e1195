// FCN-32s: VGG-16 features, a convolutional head and a bilinear-initialised 32x transposed convolution.
#include "models/fcn.h"

#include <cmath>

#include "models/vgg.h"

namespace engine::models {

Tensor bilinear_upsampling_weight(int64_t channels, int64_t kernel_size) {
    ENGINE_CHECK(channels > 0 && kernel_size > 0, "bilinear_upsampling_weight: channels and kernel_size must be ",
                 "positive, got ", channels, " and ", kernel_size);
    const int64_t factor = (kernel_size + 1) / 2;
    const double center = kernel_size % 2 == 1 ? factor - 1 : factor - 0.5;
    std::vector<float> filter(static_cast<size_t>(kernel_size * kernel_size));
    for (int64_t i = 0; i < kernel_size; ++i)
        for (int64_t j = 0; j < kernel_size; ++j)
            filter[i * kernel_size + j] =
                static_cast<float>((1.0 - std::abs(i - center) / factor) * (1.0 - std::abs(j - center) / factor));
    std::vector<float> weight(static_cast<size_t>(channels * channels * kernel_size * kernel_size), 0.0f);
    for (int64_t c = 0; c < channels; ++c)
        std::copy(filter.begin(), filter.end(), weight.begin() + (c * channels + c) * kernel_size * kernel_size);
    return from_vector(weight, {channels, channels, kernel_size, kernel_size});
}

FCN32s::FCN32s(const ModelConfig& config, Generator& gen) : Model(checked_name(config, {"fcn32s"}, "FCN32s")) {
    using namespace nn;
    const ModelConfig& c = this->config();
    const int64_t hw = c.head_width, classes = c.num_classes;
    features_ = register_module("features", make_vgg_features(16, false, c.in_channels, gen));
    fc6_ = register_module("fc6", std::make_shared<Sequential>());
    fc6_->emplace_back<Conv2d>(Conv2dOptions(512, hw, 7).padding(3), gen);
    fc6_->emplace_back<ReLU>();
    fc6_->emplace_back<Dropout>(c.dropout);
    fc7_ = register_module("fc7", std::make_shared<Sequential>());
    fc7_->emplace_back<Conv2d>(Conv2dOptions(hw, hw, 1), gen);
    fc7_->emplace_back<ReLU>();
    fc7_->emplace_back<Dropout>(c.dropout);
    score_ = register_module("score", std::make_shared<Conv2d>(Conv2dOptions(hw, classes, 1), gen));
    upscore_ = register_module(
        "upscore", std::make_shared<ConvTranspose2d>(
                       ConvTranspose2dOptions(classes, classes, 64).stride(32).padding(16).bias(false), gen));
    copy_into(upscore_->weight(), bilinear_upsampling_weight(classes, 64));
}

Tensor FCN32s::forward(const Tensor& x) {
    const int64_t in = config().in_channels;
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in && x.size(2) >= 32 && x.size(3) >= 32,
                 "FCN32s: expected an input of shape (N, ", in, ", H, W) with H, W >= 32, got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    Tensor h = (*features_)(x);
    h = (*score_)((*fc7_)((*fc6_)(h)));
    h = (*upscore_)(h);
    if (h.size(2) != x.size(2) || h.size(3) != x.size(3))
        h = interpolate(h, x.size(2), x.size(3), InterpMode::Bilinear, false);
    return h;
}

}  // namespace engine::models
