// CUDA optimizer steps: torch.optim.SGD (momentum, dampening, Nesterov, weight decay) and Adam / AdamW (amsgrad)
// as one fused elementwise kernel each over contiguous parameter, gradient and state buffers, with the CPU
// backend's formulas (kernels/cpu/optim.cpp). Scalars are computed on the host in double, then rounded to T.
#include "runtime/cuda_api.h"

#include <cmath>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/cuda/elementwise_math.cuh"

namespace engine {
namespace {

using namespace cuda_kernels;

enum class SgdMode { Plain, FirstMomentum, Momentum };

template <class T>
struct SgdScalars {
    T lr, decay, momentum, keep;  // keep = 1 - dampening
    SgdMode mode;
    bool use_decay, nesterov;
};

template <class T>
__global__ void sgd_kernel(T* param, const T* grad, T* buf, int64_t n, SgdScalars<T> s) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        T d = grad[i];
        if (s.use_decay) d = d + s.decay * param[i];
        if (s.mode == SgdMode::FirstMomentum) {
            buf[i] = d;  // torch clones the gradient into a fresh buffer on the first step
        } else if (s.mode == SgdMode::Momentum) {
            buf[i] = buf[i] * s.momentum + s.keep * d;
        }
        if (s.mode != SgdMode::Plain) d = s.nesterov ? d + s.momentum * buf[i] : buf[i];
        param[i] = param[i] - s.lr * d;
    }
}

enum class AdamDecay { None, L2, Decoupled };

template <class T>
struct AdamScalars {
    T step_size, bias_correction2_sqrt, decay, shrink, w1, beta2, w2, eps;
    AdamDecay decay_mode;
    bool amsgrad, small_w1;
};

// small_w1: torch.lerp(exp_avg, grad, w) computes exp_avg + w * (grad - exp_avg) when w < 0.5 and
// grad - (grad - exp_avg) * (1 - w) otherwise.
template <class T>
__global__ void adam_kernel(T* param, const T* grad, T* m, T* v, T* v_max, int64_t n, AdamScalars<T> s) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        T g = grad[i];
        T p = param[i];
        if (s.decay_mode == AdamDecay::Decoupled) p = p * s.shrink;
        if (s.decay_mode == AdamDecay::L2) g = g + s.decay * p;
        const T diff = g - m[i];
        const T m_new = s.small_w1 ? m[i] + s.w1 * diff : g - diff * (T(1) - s.w1);
        m[i] = m_new;
        const T v_new = v[i] * s.beta2 + s.w2 * g * g;
        v[i] = v_new;
        T second = v_new;
        if (s.amsgrad) {
            const T prev = v_max[i];
            const bool keep = (prev != prev) | (prev > second);  // torch.maximum propagates NaN
            second = keep ? prev : second;
            v_max[i] = second;
        }
        const T denom = dev_sqrt(second) / s.bias_correction2_sqrt + s.eps;
        param[i] = p - s.step_size * (m_new / denom);
    }
}

}  // namespace

void CudaBackend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                            bool first_step) {
    set_device(device_index_, "sgd_step_");
    const Tensor g = dense(grad);
    const int64_t n = param.numel();
    if (n == 0) return;
    ENGINE_DISPATCH_FLOATING(param.dtype(), "sgd_step_", [&] {
        using T = scalar_t;
        const SgdMode mode = p.momentum == 0.0 ? SgdMode::Plain : (first_step ? SgdMode::FirstMomentum : SgdMode::Momentum);
        const SgdScalars<T> s{static_cast<T>(p.lr), static_cast<T>(p.weight_decay), static_cast<T>(p.momentum),
                              static_cast<T>(1.0 - p.dampening), mode, p.weight_decay != 0.0, p.nesterov};
        T* buf = mode == SgdMode::Plain ? nullptr : momentum_buffer.data<T>();
        cuda::launch("sgd_step_", param.shape(), config_1d(device_index_, n), sgd_kernel<T>, param.data<T>(),
                     g.data<T>(), buf, n, s);
    });
}

void CudaBackend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                             Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) {
    set_device(device_index_, "adam_step_");
    const Tensor g = dense(grad);
    const int64_t n = param.numel();
    if (n == 0) return;
    ENGINE_DISPATCH_FLOATING(param.dtype(), "adam_step_", [&] {
        using T = scalar_t;
        // Bias corrections in double, as torch computes them from Python floats.
        const double bias_correction1 = 1.0 - std::pow(p.beta1, static_cast<double>(step));
        const double bias_correction2 = 1.0 - std::pow(p.beta2, static_cast<double>(step));
        const AdamDecay decay = p.weight_decay == 0.0 ? AdamDecay::None
                                                      : (p.decoupled_weight_decay ? AdamDecay::Decoupled : AdamDecay::L2);
        const AdamScalars<T> s{static_cast<T>(p.lr / bias_correction1), static_cast<T>(std::sqrt(bias_correction2)),
                               static_cast<T>(p.weight_decay),          static_cast<T>(1.0 - p.lr * p.weight_decay),
                               static_cast<T>(1.0 - p.beta1),           static_cast<T>(p.beta2),
                               static_cast<T>(1.0 - p.beta2),           static_cast<T>(p.eps),
                               decay,                                   p.amsgrad,
                               1.0 - p.beta1 < 0.5};
        T* v_max = p.amsgrad ? max_exp_avg_sq.data<T>() : nullptr;
        cuda::launch("adam_step_", param.shape(), config_1d(device_index_, n), adam_kernel<T>, param.data<T>(),
                     g.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), v_max, n, s);
    });
}

}  // namespace engine
