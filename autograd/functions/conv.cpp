// 2-D convolution and transposed convolution: validation, the backend calls and their gradients. A transposed
// convolution is the input-gradient of a convolution, so both share the same three backend kernels.
#include <algorithm>

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "kernels/conv_shape.h"

namespace engine {
namespace {

std::string params_str(const Conv2dParams& p) {
    return detail::concat("stride (", p.stride_h, ", ", p.stride_w, "), padding (", p.pad_h, ", ", p.pad_w,
                          "), dilation (", p.dilation_h, ", ", p.dilation_w, "), groups ", p.groups);
}

void check_params(const char* op, const Conv2dParams& p) {
    ENGINE_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op, ": stride must be >= 1, got ", params_str(p));
    ENGINE_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be >= 0, got ", params_str(p));
    ENGINE_CHECK(p.dilation_h >= 1 && p.dilation_w >= 1, op, ": dilation must be >= 1, got ", params_str(p));
    ENGINE_CHECK(p.groups >= 1, op, ": groups must be >= 1, got ", params_str(p));
}

// Shapes, dtypes, devices and parameters shared by both ops (the channel checks differ and stay with each op).
void check_inputs(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
    check_floating(op, x, "input");
    check_floating(op, weight, "weight");
    ENGINE_CHECK(x.dim() == 4, op, ": expected a 4-D input (N, C, H, W), got shape ", shape_str(x.shape()));
    ENGINE_CHECK(weight.dim() == 4, op, ": expected a 4-D weight, got shape ", shape_str(weight.shape()));
    check_same_device(op, x, weight);
    ENGINE_CHECK(x.dtype() == weight.dtype(), op, ": input and weight must have the same dtype, got ",
                 dtype_name(x.dtype()), " and ", dtype_name(weight.dtype()));
    if (bias.defined()) {
        check_floating(op, bias, "bias");
        check_same_device(op, x, bias);
        ENGINE_CHECK(bias.dtype() == x.dtype(), op, ": bias must have the input's dtype ", dtype_name(x.dtype()),
                     ", got ", dtype_name(bias.dtype()));
    }
    check_params(op, p);
    ENGINE_CHECK(weight.size(2) >= 1 && weight.size(3) >= 1, op, ": kernel size must be >= 1, got weight ",
                 shape_str(weight.shape()));
}

void check_bias_shape(const char* op, const Tensor& bias, int64_t channels) {
    if (!bias.defined()) return;
    ENGINE_CHECK(bias.dim() == 1 && bias.size(0) == channels, op, ": bias must have shape [", channels,
                 "], got ", shape_str(bias.shape()));
}

// The input is only needed for the weight gradient and the weight for the input gradient: the first layer of
// a network (input without grad) keeps no weight alive and runs no input-gradient kernel.
struct ConvSaved {
    SavedTensor x, weight;
};

ConvSaved save_for_backward(const Tensor& x, const Tensor& weight) {
    return {weight.requires_grad() ? SavedTensor(x) : SavedTensor(),
            x.requires_grad() ? SavedTensor(weight) : SavedTensor()};
}

// Per-channel sum of the output gradient: the bias gradient.
Tensor bias_grad(const Tensor& grad_y) { return sum(grad_y, {0, 2, 3}); }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
    if (const std::optional<DType> low = autocast_dtype()) {  // autocast: the product in 16 bits
        const AutocastGuard off(std::nullopt);
        return conv2d(autocast::cast_floating(x, *low), autocast::cast_floating(weight, *low),
                      autocast::cast_floating(bias, *low), p);
    }
    const char* op = "conv2d";
    check_inputs(op, x, weight, bias, p);
    const int64_t c = x.size(1), o = weight.size(0);
    ENGINE_CHECK(c % p.groups == 0 && o % p.groups == 0, op, ": input channels ", c, " and output channels ", o,
                 " must be divisible by groups ", p.groups);
    ENGINE_CHECK(c == weight.size(1) * p.groups, op, ": input of shape ", shape_str(x.shape()), " has ", c,
                 " channels but weight of shape ", shape_str(weight.shape()), " with groups ", p.groups,
                 " expects ", weight.size(1) * p.groups);
    check_bias_shape(op, bias, o);
    const int64_t span_h = conv_span(x.size(2), weight.size(2), p.pad_h, p.dilation_h);
    const int64_t span_w = conv_span(x.size(3), weight.size(3), p.pad_w, p.dilation_w);
    ENGINE_CHECK(span_h >= 0 && span_w >= 0, op, ": input of shape ", shape_str(x.shape()), " (padded by ",
                 p.pad_h, ", ", p.pad_w, ") is smaller than the dilated kernel of weight ",
                 shape_str(weight.shape()), " with ", params_str(p), "; the output would be empty");

    Tensor y = backend_for(x).conv2d_forward(x, weight, bias, p);
    if (needs_grad({x, weight, bias})) {
        record(op, {x, weight, bias}, {y},
               [p, x_shape = x.shape(), w_shape = weight.shape(), saved = save_for_backward(x, weight)](
                   const TensorList& g, const std::vector<bool>& needs) {
                   Backend& backend = backend_for(g[0]);
                   const Tensor gy = dense(g[0]);  // once for both kernels (a cat's gradient arrives as a view)
                   Tensor gx, gw, gb;
                   if (needs[0]) gx = backend.conv2d_backward_data(gy, saved.weight.get(), x_shape, p);
                   if (needs[1]) gw = backend.conv2d_backward_weight(gy, saved.x.get(), w_shape, p);
                   if (needs[2]) gb = bias_grad(gy);
                   return TensorList{gx, gw, gb};
               });
    }
    return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                        int64_t output_padding_h, int64_t output_padding_w) {
    if (const std::optional<DType> low = autocast_dtype()) {  // autocast: the product in 16 bits
        const AutocastGuard off(std::nullopt);
        return conv_transpose2d(autocast::cast_floating(x, *low), autocast::cast_floating(weight, *low),
                                autocast::cast_floating(bias, *low), p, output_padding_h, output_padding_w);
    }
    const char* op = "conv_transpose2d";
    check_inputs(op, x, weight, bias, p);
    const int64_t c_in = x.size(1);
    ENGINE_CHECK(c_in == weight.size(0), op, ": input of shape ", shape_str(x.shape()), " has ", c_in,
                 " channels but weight of shape ", shape_str(weight.shape()), " expects ", weight.size(0));
    ENGINE_CHECK(c_in % p.groups == 0, op, ": input channels ", c_in, " must be divisible by groups ", p.groups);
    const int64_t c_out = weight.size(1) * p.groups;
    check_bias_shape(op, bias, c_out);
    ENGINE_CHECK(output_padding_h >= 0 && output_padding_w >= 0 &&
                     (output_padding_h < p.stride_h || output_padding_h < p.dilation_h) &&
                     (output_padding_w < p.stride_w || output_padding_w < p.dilation_w),
                 op, ": output_padding (", output_padding_h, ", ", output_padding_w,
                 ") must be non-negative and smaller than either stride or dilation, got ", params_str(p));
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t out_h =
        conv_transpose_output_size(h, weight.size(2), p.pad_h, p.stride_h, p.dilation_h, output_padding_h);
    const int64_t out_w =
        conv_transpose_output_size(w, weight.size(3), p.pad_w, p.stride_w, p.dilation_w, output_padding_w);
    ENGINE_CHECK(h >= 1 && w >= 1 && out_h >= 1 && out_w >= 1, op, ": input of shape ", shape_str(x.shape()),
                 " with weight ", shape_str(weight.shape()), ", ", params_str(p),
                 " gives an output size of (", out_h, ", ", out_w, "), which must be >= 1");
    const Shape y_shape{x.size(0), c_out, out_h, out_w};

    Backend& backend = backend_for(x);
    // y is the input-gradient of the convolution y -> x whose weight is `weight`, read as (O = C_in, C_out/g).
    Tensor y = backend.conv2d_backward_data(x, weight, y_shape, p);
    if (bias.defined()) backend.binary_(BinaryOp::Add, y, bias.detach().view({1, c_out, 1, 1}));
    if (needs_grad({x, weight, bias})) {
        record(op, {x, weight, bias}, {y},
               [p, x_shape = x.shape(), w_shape = weight.shape(), saved = save_for_backward(x, weight)](
                   const TensorList& g, const std::vector<bool>& needs) {
                   Backend& be = backend_for(g[0]);
                   const Tensor gy = dense(g[0]);  // once for both kernels (a cat's gradient arrives as a view)
                   Tensor gx, gw, gb;
                   if (needs[0]) {
                       gx = be.conv2d_forward(gy, saved.weight.get(), Tensor(), p);
                       // output_padding >= stride (allowed when < dilation) gives the convolution of y extra
                       // output rows that x never had.
                       if (gx.size(2) != x_shape[2] || gx.size(3) != x_shape[3])
                           gx = gx.narrow(2, 0, x_shape[2]).narrow(3, 0, x_shape[3]).contiguous();
                   }
                   if (needs[1]) gw = be.conv2d_backward_weight(saved.x.get(), gy, w_shape, p);
                   if (needs[2]) gb = bias_grad(gy);
                   return TensorList{gx, gw, gb};
               });
    }
    return y;
}

}  // namespace engine
