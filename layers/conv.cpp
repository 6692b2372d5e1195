// Conv2d and ConvTranspose2d modules over the conv2d / conv_transpose2d ops.
#include "layers/conv.h"

#include "layers/init.h"

namespace engine::nn {
namespace {

void check_common(const char* layer, int64_t in_channels, int64_t out_channels, Size2 kernel, Size2 stride,
                  Size2 padding, Size2 dilation, int64_t groups) {
    ENGINE_CHECK(in_channels > 0 && out_channels > 0, layer, ": channels must be positive, got in_channels ",
                 in_channels, ", out_channels ", out_channels);
    ENGINE_CHECK(kernel.h > 0 && kernel.w > 0, layer, ": kernel_size must be positive, got ", kernel.str());
    ENGINE_CHECK(stride.h > 0 && stride.w > 0, layer, ": stride must be positive, got ", stride.str());
    ENGINE_CHECK(padding.h >= 0 && padding.w >= 0, layer, ": padding must be non-negative, got ", padding.str());
    ENGINE_CHECK(dilation.h > 0 && dilation.w > 0, layer, ": dilation must be positive, got ", dilation.str());
    ENGINE_CHECK(groups > 0 && in_channels % groups == 0 && out_channels % groups == 0, layer, ": groups ", groups,
                 " must divide in_channels ", in_channels, " and out_channels ", out_channels);
}

void check_input(const Module& m, const Tensor& x, int64_t in_channels) {
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in_channels, m.type_name(), "(", m.extra_repr(),
                 "): expected an input of shape (N, ", in_channels, ", H, W), got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

std::string conv_repr(int64_t in, int64_t out, Size2 kernel, Size2 stride, Size2 padding, Size2 dilation,
                      Size2 output_padding, int64_t groups, bool bias) {
    std::string s =
        std::to_string(in) + ", " + std::to_string(out) + ", kernel_size=" + kernel.str() + ", stride=" + stride.str();
    if (padding != Size2(0)) s += ", padding=" + padding.str();
    if (dilation != Size2(1)) s += ", dilation=" + dilation.str();
    if (output_padding != Size2(0)) s += ", output_padding=" + output_padding.str();
    if (groups != 1) s += ", groups=" + std::to_string(groups);
    if (!bias) s += ", bias=False";
    return s;
}

}  // namespace

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(const Conv2dOptions& options, Generator& gen) : options_(options) {
    const auto& o = options_;
    check_common("Conv2d", o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(), o.dilation(),
                 o.groups());
    weight_ = register_parameter(
        "weight", empty({o.out_channels(), o.in_channels() / o.groups(), o.kernel_size().h, o.kernel_size().w}));
    if (o.bias()) bias_ = register_parameter("bias", empty({o.out_channels()}));
    reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator& gen) { init::default_layer_init(weight_, bias_, gen); }

Conv2dParams Conv2d::params() const {
    const auto& o = options_;
    return {o.stride().h, o.stride().w, o.padding().h, o.padding().w, o.dilation().h, o.dilation().w, o.groups()};
}

Tensor Conv2d::forward(const Tensor& x) {
    check_input(*this, x, options_.in_channels());
    return conv2d(x, weight_, bias_, params());
}

std::string Conv2d::extra_repr() const {
    const auto& o = options_;
    return conv_repr(o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(), o.dilation(), 0,
                     o.groups(), o.bias());
}

// ---------------------------------------------------------------- ConvTranspose2d

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& options, Generator& gen) : options_(options) {
    const auto& o = options_;
    check_common("ConvTranspose2d", o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(),
                 o.dilation(), o.groups());
    const Size2 op = o.output_padding();
    ENGINE_CHECK(op.h >= 0 && op.w >= 0 && (op.h < o.stride().h || op.h < o.dilation().h) &&
                     (op.w < o.stride().w || op.w < o.dilation().w),
                 "ConvTranspose2d: output_padding ", op.str(), " must be smaller than either stride ", o.stride().str(),
                 " or dilation ", o.dilation().str());
    weight_ = register_parameter(
        "weight", empty({o.in_channels(), o.out_channels() / o.groups(), o.kernel_size().h, o.kernel_size().w}));
    if (o.bias()) bias_ = register_parameter("bias", empty({o.out_channels()}));
    reset_parameters(gen);
}

void ConvTranspose2d::reset_parameters(Generator& gen) { init::default_layer_init(weight_, bias_, gen); }

Conv2dParams ConvTranspose2d::params() const {
    const auto& o = options_;
    return {o.stride().h, o.stride().w, o.padding().h, o.padding().w, o.dilation().h, o.dilation().w, o.groups()};
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
    check_input(*this, x, options_.in_channels());
    return conv_transpose2d(x, weight_, bias_, params(), options_.output_padding().h, options_.output_padding().w);
}

std::string ConvTranspose2d::extra_repr() const {
    const auto& o = options_;
    return conv_repr(o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(), o.dilation(),
                     o.output_padding(), o.groups(), o.bias());
}

}  // namespace engine::nn
