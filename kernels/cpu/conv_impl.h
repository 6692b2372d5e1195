// Internal interface of the CPU convolution kernels: the geometry every implementation shares, the portable
// im2col + GEMM path (any floating dtype) and the oneDNN path (float32, when built with oneDNN).
#pragma once

#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine::cpu {

// Sizes of one convolution: input (n, c, h, w), weight (o, c / groups, kh, kw), output (n, o, oh, ow).
// The input may be larger than the output needs (transposed convolution's output_padding): rows and columns
// that no output reaches get zero gradient.
struct ConvGeometry {
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
};

ConvGeometry conv_geometry(const Shape& x_shape, const Shape& w_shape, int64_t oh, int64_t ow, const Conv2dParams& p);

// Portable implementation (im2col + our GEMM), for float32 and float64. Inputs may be strided.
Tensor conv2d_forward_im2col(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_backward_data_im2col(const Tensor& grad_y, const Tensor& w, const ConvGeometry& g);
Tensor conv2d_backward_weight_im2col(const Tensor& grad_y, const Tensor& x, const ConvGeometry& g);

#if ENGINE_WITH_ONEDNN
// oneDNN primitives (float32 only), cached per geometry.
Tensor conv2d_forward_onednn(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeometry& g);
Tensor conv2d_backward_data_onednn(const Tensor& grad_y, const Tensor& w, const ConvGeometry& g);
Tensor conv2d_backward_weight_onednn(const Tensor& grad_y, const Tensor& x, const ConvGeometry& g);
#endif

}  // namespace engine::cpu
