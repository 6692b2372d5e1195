// Internal interface of the CUDA backend's 2-D convolutions: the geometry every implementation shares, our
// implicit-GEMM kernels (conv_implicit_gemm.cu, always built) and cuDNN (cudnn_conv.cpp, real build only).
// Inputs are contiguous and on the device; outputs are preallocated contiguous tensors of the right shape.
#pragma once

#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine::cuda_conv {

// Input (n, c, h, w), weight (o, c / groups, kh, kw), output (n, o, oh, ow). The input may be larger than the
// output needs (transposed convolution's output_padding): input pixels no output reaches get zero gradient.
struct ConvShape {
    int64_t n, c, h, w;
    int64_t o, kh, kw;
    int64_t oh, ow;
    Conv2dParams p;

    int64_t group_in() const { return c / p.groups; }
    int64_t group_out() const { return o / p.groups; }
    std::string str() const;  // "x [2, 3, 9, 9], w [4, 3, 3, 3], y [2, 4, 9, 9], stride 1x1, ..." for errors
};

ConvShape conv_shape(const Shape& x_shape, const Shape& w_shape, int64_t oh, int64_t ow, const Conv2dParams& p);

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

}  // namespace engine::cuda_conv
