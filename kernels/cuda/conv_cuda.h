// Internal interface of the CUDA backend's 2-D convolutions, which share ConvShape (kernels/conv_shape.h): our
// implicit-GEMM kernels (conv_implicit_gemm.cu, always built) and cuDNN (cudnn_conv.cpp, real build only).
// Inputs are contiguous and on the device; outputs are preallocated contiguous tensors of the right shape.
#pragma once

#include "kernels/conv_shape.h"
#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine::cuda {

void conv2d_forward_own(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ConvShape& s,
                        int device);
void conv2d_backward_data_own(const Tensor& grad_y, const Tensor& w, Tensor& grad_x, const ConvShape& s, int device);
void conv2d_backward_weight_own(const Tensor& grad_y, const Tensor& x, Tensor& grad_w, const ConvShape& s,
                                int device);

#if ENGINE_WITH_CUDNN
// false when cuDNN cannot take the problem (sizes beyond int, empty dimensions, an input larger than the output
// needs); the caller then runs our kernels. cuDNN failures throw DeviceError naming the op, shapes and status.
bool conv2d_forward_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ConvShape& s,
                          int device);
bool conv2d_backward_data_cudnn(const Tensor& grad_y, const Tensor& w, Tensor& grad_x, const ConvShape& s,
                                int device);
bool conv2d_backward_weight_cudnn(const Tensor& grad_y, const Tensor& x, Tensor& grad_w, const ConvShape& s,
                                  int device);
#endif

}  // namespace engine::cuda
