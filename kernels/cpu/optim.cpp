// Optimizer update CPU kernels: torch.optim.SGD and Adam/AdamW single-tensor steps, in place over contiguous
// parameter, gradient and state buffers. Option branches are template flags and each thread's chunk is a
// function taking its scalars by value (not through the closure, where float stores could alias them), so the
// loop bodies are straight-line arithmetic the compiler vectorises.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "runtime/parallel.h"

namespace engine {
namespace {

template <class F>
void with_flag(bool flag, const F& f) {
    if (flag) {
        f(std::true_type{});
    } else {
        f(std::false_type{});
    }
}

enum class SgdMode { Plain, FirstMomentum, Momentum };

template <class T>
struct SgdScalars {
    T lr, decay, momentum, keep;  // keep = 1 - dampening
};

template <class T, SgdMode kMode, bool kDecay, bool kNesterov>
void sgd_chunk(T* param, const T* grad, T* buf, int64_t lo, int64_t hi, SgdScalars<T> s) {
    for (int64_t i = lo; i < hi; ++i) {
        T d = grad[i];
        if constexpr (kDecay) d = d + s.decay * param[i];
        if constexpr (kMode == SgdMode::FirstMomentum) {
            buf[i] = d;  // torch clones the gradient into a fresh buffer on the first step
        } else if constexpr (kMode == SgdMode::Momentum) {
            buf[i] = buf[i] * s.momentum + s.keep * d;
        }
        if constexpr (kMode != SgdMode::Plain) d = kNesterov ? d + s.momentum * buf[i] : buf[i];
        param[i] = param[i] - s.lr * d;
    }
}

template <class T>
void sgd_run(T* param, const T* grad, T* buf, int64_t n, const SgdParams& p, bool first_step) {
    const SgdScalars<T> s{static_cast<T>(p.lr), static_cast<T>(p.weight_decay), static_cast<T>(p.momentum),
                          static_cast<T>(1.0 - p.dampening)};
    auto run = [&](auto mode) {
        with_flag(p.weight_decay != 0.0, [&](auto decay) {
            with_flag(p.nesterov, [&](auto nesterov) {
                parallel_for(0, n, kParallelGrain, [&](int64_t lo, int64_t hi) {
                    sgd_chunk<T, decltype(mode)::value, decltype(decay)::value, decltype(nesterov)::value>(
                        param, grad, buf, lo, hi, s);
                });
            });
        });
    };
    if (p.momentum == 0.0) {
        run(std::integral_constant<SgdMode, SgdMode::Plain>{});
    } else if (first_step) {
        run(std::integral_constant<SgdMode, SgdMode::FirstMomentum>{});
    } else {
        run(std::integral_constant<SgdMode, SgdMode::Momentum>{});
    }
}

enum class AdamDecay { None, L2, Decoupled };

template <class T>
struct AdamScalars {
    T step_size, bias_correction2_sqrt, decay, shrink, w1, beta2, w2, eps;
};

// kSmallW1: torch.lerp(exp_avg, grad, w) computes exp_avg + w * (grad - exp_avg) when w < 0.5 and
// grad - (grad - exp_avg) * (1 - w) otherwise.
template <class T, AdamDecay kDecay, bool kAmsgrad, bool kSmallW1>
void adam_chunk(T* param, const T* grad, T* m, T* v, T* v_max, int64_t lo, int64_t hi, AdamScalars<T> s) {
    for (int64_t i = lo; i < hi; ++i) {
        T g = grad[i];
        if constexpr (kDecay == AdamDecay::Decoupled) param[i] = param[i] * s.shrink;
        if constexpr (kDecay == AdamDecay::L2) g = g + s.decay * param[i];
        const T diff = g - m[i];
        if constexpr (kSmallW1) {
            m[i] = m[i] + s.w1 * diff;
        } else {
            m[i] = g - diff * (T(1) - s.w1);
        }
        v[i] = v[i] * s.beta2 + s.w2 * g * g;
        T second = v[i];
        if constexpr (kAmsgrad) {
            const T prev = v_max[i];
            const bool keep = (prev != prev) | (prev > second);  // torch.maximum propagates NaN
            v_max[i] = keep ? prev : second;
            second = v_max[i];
        }
        const T denom = std::sqrt(second) / s.bias_correction2_sqrt + s.eps;
        param[i] = param[i] - s.step_size * (m[i] / denom);
    }
}

template <class T>
void adam_run(T* param, const T* grad, T* m, T* v, T* v_max, int64_t n, int64_t step, const AdamParams& p) {
    // Bias corrections in double, as torch computes them from Python floats.
    const double bias_correction1 = 1.0 - std::pow(p.beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(p.beta2, static_cast<double>(step));
    const AdamScalars<T> s{static_cast<T>(p.lr / bias_correction1), static_cast<T>(std::sqrt(bias_correction2)),
                           static_cast<T>(p.weight_decay),          static_cast<T>(1.0 - p.lr * p.weight_decay),
                           static_cast<T>(1.0 - p.beta1),           static_cast<T>(p.beta2),
                           static_cast<T>(1.0 - p.beta2),           static_cast<T>(p.eps)};
    auto run = [&](auto decay) {
        with_flag(p.amsgrad, [&](auto amsgrad) {
            with_flag(1.0 - p.beta1 < 0.5, [&](auto small_w1) {
                parallel_for(0, n, kParallelGrain / 4, [&](int64_t lo, int64_t hi) {
                    adam_chunk<T, decltype(decay)::value, decltype(amsgrad)::value, decltype(small_w1)::value>(
                        param, grad, m, v, v_max, lo, hi, s);
                });
            });
        });
    };
    if (p.weight_decay == 0.0) {
        run(std::integral_constant<AdamDecay, AdamDecay::None>{});
    } else if (p.decoupled_weight_decay) {
        run(std::integral_constant<AdamDecay, AdamDecay::Decoupled>{});
    } else {
        run(std::integral_constant<AdamDecay, AdamDecay::L2>{});
    }
}

}  // namespace

void CpuBackend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                           bool first_step) {
    const Tensor g = grad.is_contiguous() ? grad : grad.detach().contiguous();
    ENGINE_DISPATCH_FLOATING(param.dtype(), "sgd_step_", [&] {
        scalar_t* buf = p.momentum != 0.0 ? momentum_buffer.data<scalar_t>() : nullptr;
        sgd_run<scalar_t>(param.data<scalar_t>(), g.data<scalar_t>(), buf, param.numel(), p, first_step);
    });
}

void CpuBackend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                            Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) {
    const Tensor g = grad.is_contiguous() ? grad : grad.detach().contiguous();
    ENGINE_DISPATCH_FLOATING(param.dtype(), "adam_step_", [&] {
        scalar_t* v_max = p.amsgrad ? max_exp_avg_sq.data<scalar_t>() : nullptr;
        adam_run<scalar_t>(param.data<scalar_t>(), g.data<scalar_t>(), exp_avg.data<scalar_t>(),
                           exp_avg_sq.data<scalar_t>(), v_max, param.numel(), step, p);
    });
}

}  // namespace engine
