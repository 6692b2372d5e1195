// 2-D convolution on the CPU: forward, gradient w.r.t. the input and w.r.t. the weight. float32 runs on oneDNN
// primitives when the engine is built with oneDNN; float64 (gradient checks) and oneDNN-less builds use
// im2col + our GEMM.
#include <cstdlib>
#include <memory>

#include "runtime/views.h"
#include "kernels/cpu/conv_impl.h"
#include "kernels/cpu/conv_workspace.h"
#include "kernels/cpu/cpu_backend.h"

namespace engine::cpu {

void* conv_workspace(ConvSlot slot, size_t bytes) {
    struct FreeDeleter {
        void operator()(void* p) const { std::free(p); }
    };
    constexpr int kSlots = static_cast<int>(ConvSlot::Count);
    thread_local std::unique_ptr<void, FreeDeleter> buffers[kSlots];
    thread_local size_t capacity[kSlots] = {};
    const int i = static_cast<int>(slot);
    if (capacity[i] < bytes) {
        buffers[i].reset();
        capacity[i] = 0;
        const size_t rounded = (bytes + 4095) / 4096 * 4096;
        void* p = std::aligned_alloc(4096, rounded);
        ENGINE_CHECK(p != nullptr, "conv2d: out of memory allocating a ", rounded, "-byte workspace");
        buffers[i].reset(p);
        capacity[i] = rounded;
    }
    return buffers[i].get();
}

Tensor CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
    if (is_half(x.dtype()))
        return in_float32(*this, x.dtype(), {x, w, bias}, [&](const std::vector<Tensor>& f) {
            return conv2d_forward(f[0], f[1], f[2], p);
        });
    const ConvShape g = conv_forward_shape(x.shape(), w.shape(), p);
    if (x.numel() == 0 || w.numel() == 0) {  // no image, channel or filter: only the bias remains
        Tensor y = zeros({g.n, g.o, g.oh, g.ow}, x.dtype());
        if (bias.defined() && y.numel() > 0) binary_(BinaryOp::Add, y, views::view(bias, {1, g.o, 1, 1}));
        return y;
    }
#if ENGINE_WITH_ONEDNN
    if (x.dtype() == DType::Float32) return conv2d_forward_onednn(x, w, bias, g);
#endif
    return conv2d_forward_im2col(x, w, bias, g);
}

Tensor CpuBackend::conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                                        const Conv2dParams& p) {
    if (is_half(grad_y.dtype()))
        return in_float32(*this, grad_y.dtype(), {grad_y, w}, [&](const std::vector<Tensor>& f) {
            return conv2d_backward_data(f[0], f[1], x_shape, p);
        });
    const ConvShape g = conv_shape(x_shape, w.shape(), grad_y.size(2), grad_y.size(3), p);
    if (grad_y.numel() == 0 || w.numel() == 0 || shape_numel(x_shape) == 0) return zeros(x_shape, grad_y.dtype());
#if ENGINE_WITH_ONEDNN
    if (grad_y.dtype() == DType::Float32) return conv2d_backward_data_onednn(grad_y, w, g);
#endif
    return conv2d_backward_data_im2col(grad_y, w, g);
}

Tensor CpuBackend::conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                                          const Conv2dParams& p) {
    if (is_half(grad_y.dtype()))
        return in_float32(*this, grad_y.dtype(), {grad_y, x}, [&](const std::vector<Tensor>& f) {
            return conv2d_backward_weight(f[0], f[1], w_shape, p);
        });
    const ConvShape g = conv_shape(x.shape(), w_shape, grad_y.size(2), grad_y.size(3), p);
    if (grad_y.numel() == 0 || x.numel() == 0 || shape_numel(w_shape) == 0) return zeros(w_shape, x.dtype());
#if ENGINE_WITH_ONEDNN
    if (x.dtype() == DType::Float32) return conv2d_backward_weight_onednn(grad_y, x, g);
#endif
    return conv2d_backward_weight_im2col(grad_y, x, g);
}

}  // namespace engine::cpu
