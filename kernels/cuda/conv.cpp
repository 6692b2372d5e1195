// 2-D convolution on the CUDA backend: cuDNN in the real build (unless ENGINE_CUDA_CONV=own or a
// KernelChoiceGuard says otherwise, or cuDNN cannot take the problem), else our implicit-GEMM kernels.
#include "runtime/cuda_api.h"

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/kernel_choice.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {
namespace {

#if ENGINE_WITH_CUDNN
bool use_cudnn() { return conv_impl() == ConvImpl::Cudnn; }
#endif

}  // namespace

Tensor CudaBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
    if (is_half(x.dtype()))
        return in_float32(*this, x.dtype(), {x, w, bias}, [&](const std::vector<Tensor>& f) {
            return conv2d_forward(f[0], f[1], f[2], p);
        });
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "conv2d");
    const ConvShape s = conv_forward_shape(x.shape(), w.shape(), p);
    Tensor y = empty({s.n, s.o, s.oh, s.ow}, x.dtype(), Device::cuda(device_index_));
    if (y.numel() == 0) return y;
    const Tensor xd = dense(x), wd = dense(w), bd = bias.defined() ? dense(bias) : Tensor();
#if ENGINE_WITH_CUDNN
    if (use_cudnn() && conv2d_forward_cudnn(xd, wd, bd, y, s, device_index_)) {
        record_conv_impl(ConvImpl::Cudnn);
        return y;
    }
#endif
    record_conv_impl(ConvImpl::Own);
    conv2d_forward_own(xd, wd, bd, y, s, device_index_);
    return y;
}

Tensor CudaBackend::conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                                         const Conv2dParams& p) {
    if (is_half(grad_y.dtype()))
        return in_float32(*this, grad_y.dtype(), {grad_y, w}, [&](const std::vector<Tensor>& f) {
            return conv2d_backward_data(f[0], f[1], x_shape, p);
        });
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "conv2d backward");
    const ConvShape s = conv_shape(x_shape, w.shape(), grad_y.size(2), grad_y.size(3), p);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), Device::cuda(device_index_));
    if (grad_x.numel() == 0) return grad_x;
    const Tensor gd = dense(grad_y), wd = dense(w);
#if ENGINE_WITH_CUDNN
    if (use_cudnn() && conv2d_backward_data_cudnn(gd, wd, grad_x, s, device_index_)) {
        record_conv_impl(ConvImpl::Cudnn);
        return grad_x;
    }
#endif
    record_conv_impl(ConvImpl::Own);
    conv2d_backward_data_own(gd, wd, grad_x, s, device_index_);
    return grad_x;
}

Tensor CudaBackend::conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                                           const Conv2dParams& p) {
    if (is_half(grad_y.dtype()))
        return in_float32(*this, grad_y.dtype(), {grad_y, x}, [&](const std::vector<Tensor>& f) {
            return conv2d_backward_weight(f[0], f[1], w_shape, p);
        });
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "conv2d backward");
    const ConvShape s = conv_shape(x.shape(), w_shape, grad_y.size(2), grad_y.size(3), p);
    Tensor grad_w = empty(w_shape, x.dtype(), Device::cuda(device_index_));
    if (grad_w.numel() == 0) return grad_w;
    const Tensor gd = dense(grad_y), xd = dense(x);
#if ENGINE_WITH_CUDNN
    if (use_cudnn() && conv2d_backward_weight_cudnn(gd, xd, grad_w, s, device_index_)) {
        record_conv_impl(ConvImpl::Cudnn);
        return grad_w;
    }
#endif
    record_conv_impl(ConvImpl::Own);
    conv2d_backward_weight_own(gd, xd, grad_w, s, device_index_);
    return grad_w;
}

}  // namespace engine::cuda
