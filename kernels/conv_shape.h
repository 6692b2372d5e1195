// Output geometry of 2-D convolution (PyTorch's conv output size and its transposed inverse) and the sizes of one
// convolution, ConvShape: input (n, c, h, w), weight (o, c / groups, kh, kw), output (n, o, oh, ow) and the
// parameters. Shared by both backends' convolution kernels and by the ops that validate convolution parameters
// before calling a backend (autograd/functions/conv.cpp).
#pragma once

#include <cstdint>
#include <string>

#include "kernels/params.h"
#include "runtime/error.h"
#include "runtime/shape.h"

namespace engine {

// in + 2*pad - dilation*(kernel-1) - 1: the distance between the first and the last possible window start in the
// padded input; negative when the dilated kernel does not fit the padded input (then there is no output).
inline int64_t conv_span(int64_t in, int64_t kernel, int64_t pad, int64_t dilation) {
    return in + 2 * pad - dilation * (kernel - 1) - 1;
}

// Output size of a convolution along one axis, span / stride + 1, for a span >= 0.
inline int64_t conv_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation) {
    return conv_span(in, kernel, pad, dilation) / stride + 1;
}

// Output size of a transposed convolution along one axis: the smallest input whose convolution has `in` outputs,
// plus output_padding rows that the stride leaves unread.
inline int64_t conv_transpose_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                                          int64_t output_padding) {
    return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1;
}

// The input may be larger than the output needs (transposed convolution's output_padding): rows and columns
// that no output reaches get zero gradient.
struct ConvShape {
    int64_t n, c, h, w;
    int64_t o, kh, kw;
    int64_t oh, ow;
    Conv2dParams p;

    int64_t group_in() const { return c / p.groups; }
    int64_t group_out() const { return o / p.groups; }
    // Right/bottom padding that makes (h + pad_h + pad_bottom - kernel extent) / stride + 1 == oh exactly;
    // negative when trailing input rows are unused.
    int64_t pad_bottom() const { return (oh - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1 - h - p.pad_h; }
    int64_t pad_right() const { return (ow - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1 - w - p.pad_w; }
    // "x [2, 3, 9, 9], w [4, 3, 3, 3], y [2, 4, 9, 9], stride 1x1, ..." for errors.
    std::string str() const {
        return detail::concat("x ", shape_str({n, c, h, w}), ", w ", shape_str({o, group_in(), kh, kw}), ", y ",
                              shape_str({n, o, oh, ow}), ", stride ", p.stride_h, "x", p.stride_w, ", padding ",
                              p.pad_h, "x", p.pad_w, ", dilation ", p.dilation_h, "x", p.dilation_w, ", groups ",
                              p.groups);
    }
};

// The convolution of an input of x_shape by a weight of w_shape with an output of (oh, ow): the backward passes
// take the output size from the gradient, whose input may exceed the forward formula's minimum.
inline ConvShape conv_shape(const Shape& x_shape, const Shape& w_shape, int64_t oh, int64_t ow,
                            const Conv2dParams& p) {
    return ConvShape{x_shape[0], x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[2], w_shape[3], oh, ow, p};
}

// The forward convolution of an input of x_shape by a weight of w_shape: the output size from the formula.
inline ConvShape conv_forward_shape(const Shape& x_shape, const Shape& w_shape, const Conv2dParams& p) {
    return conv_shape(x_shape, w_shape, conv_output_size(x_shape[2], w_shape[2], p.pad_h, p.stride_h, p.dilation_h),
                      conv_output_size(x_shape[3], w_shape[3], p.pad_w, p.stride_w, p.dilation_w), p);
}

}  // namespace engine
