// Internal interface of the CPU convolution kernels: the geometry every implementation shares, the portable
// im2col + GEMM path (any floating dtype) and the oneDNN path (float32, when built with oneDNN).
#pragma once

#include "kernels/conv_shape.h"
#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine::cpu {

// Portable implementation (im2col + our GEMM), for float32 and float64. Inputs may be strided.
Tensor conv2d_forward_im2col(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvShape& g);
Tensor conv2d_backward_data_im2col(const Tensor& grad_y, const Tensor& w, const ConvShape& g);
Tensor conv2d_backward_weight_im2col(const Tensor& grad_y, const Tensor& x, const ConvShape& g);

#if ENGINE_WITH_ONEDNN
// oneDNN primitives (float32 only), cached per geometry.
Tensor conv2d_forward_onednn(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvShape& g);
Tensor conv2d_backward_data_onednn(const Tensor& grad_y, const Tensor& w, const ConvShape& g);
Tensor conv2d_backward_weight_onednn(const Tensor& grad_y, const Tensor& x, const ConvShape& g);
#endif

}  // namespace engine::cpu
