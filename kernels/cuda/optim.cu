// CUDA optimizer steps: torch.optim.SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW (amsgrad)
// as one fused elementwise kernel each over contiguous parameter, gradient and state buffers, with the CPU
// backend's formulas (kernels/optim_math.h); the options are kernel arguments.
#include "runtime/cuda_api.h"

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/optim_math.h"

namespace engine::cuda {
namespace {

struct SgdOptions {
    SgdMode mode;
    bool use_decay, nesterov;
};

template <class T>
__global__ void sgd_kernel(T* param, const T* grad, T* buf, int64_t n, SgdScalars<T> s, SgdOptions o) {
    for (int64_t i = global_thread(); i < n; i += grid_stride())
        sgd_update(param, grad, buf, i, s, o.mode, o.use_decay, o.nesterov);
}

struct AdamOptions {
    AdamDecay decay;
    bool amsgrad, small_w1;
};

template <class T>
__global__ void adam_kernel(T* param, const T* grad, T* m, T* v, T* v_max, int64_t n, AdamScalars<T> s,
                            AdamOptions o) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        T g = grad[i];
        T p = param[i];
        if (o.decay == AdamDecay::Decoupled) p = p * s.shrink;
        if (o.decay == AdamDecay::L2) g = g + s.decay * p;
        const T step = adam_moments(g, m, v, v_max, i, s, o.amsgrad, o.small_w1);
        param[i] = p - s.step_size * step;
    }
}

}  // namespace

void CudaBackend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                            bool first_step) {
    set_device(device_index_, "sgd_step_");
    const Tensor g = dense(grad);
    const int64_t n = param.numel();
    if (n == 0) return;
    const SgdOptions options{sgd_mode(p, first_step), p.weight_decay != 0.0, p.nesterov};
    ENGINE_DISPATCH_FLOATING(param.dtype(), "sgd_step_", [&] {
        using T = scalar_t;
        T* buf = options.mode == SgdMode::Plain ? nullptr : momentum_buffer.data<T>();
        launch("sgd_step_", param.shape(), config_1d(device_index_, n), sgd_kernel<T>, param.data<T>(), g.data<T>(),
               buf, n, sgd_scalars<T>(p), options);
    });
}

void CudaBackend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                             Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) {
    set_device(device_index_, "adam_step_");
    const Tensor g = dense(grad);
    const int64_t n = param.numel();
    if (n == 0) return;
    const AdamOptions options{adam_decay(p), p.amsgrad, adam_small_w1(p)};
    ENGINE_DISPATCH_FLOATING(param.dtype(), "adam_step_", [&] {
        using T = scalar_t;
        T* v_max = p.amsgrad ? max_exp_avg_sq.data<T>() : nullptr;
        launch("adam_step_", param.shape(), config_1d(device_index_, n), adam_kernel<T>, param.data<T>(), g.data<T>(),
               exp_avg.data<T>(), exp_avg_sq.data<T>(), v_max, n, adam_scalars<T>(p, step), options);
    });
}

}  // namespace engine::cuda
