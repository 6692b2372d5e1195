// Optimizer update CPU kernels: torch.optim.SGD and Adam/AdamW single-tensor steps (the formulas of
// kernels/optim_math.h), in place over contiguous parameter, gradient and state buffers. Option branches are
// template flags and each thread's chunk is a function taking its scalars by value (not through the closure,
// where float stores could alias them), so the loop bodies are straight-line arithmetic the compiler vectorises.
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/optim_math.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

template <class F>
void with_flag(bool flag, const F& f) {
    if (flag) {
        f(std::true_type{});
    } else {
        f(std::false_type{});
    }
}

template <class T, SgdMode kMode, bool kDecay, bool kNesterov>
void sgd_chunk(T* param, const T* grad, T* buf, int64_t lo, int64_t hi, SgdScalars<T> s) {
    for (int64_t i = lo; i < hi; ++i) sgd_update(param, grad, buf, i, s, kMode, kDecay, kNesterov);
}

template <class T>
void sgd_run(T* param, const T* grad, T* buf, int64_t n, const SgdParams& p, bool first_step) {
    const SgdScalars<T> s = sgd_scalars<T>(p);
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
    switch (sgd_mode(p, first_step)) {
        case SgdMode::Plain: run(std::integral_constant<SgdMode, SgdMode::Plain>{}); break;
        case SgdMode::FirstMomentum: run(std::integral_constant<SgdMode, SgdMode::FirstMomentum>{}); break;
        case SgdMode::Momentum: run(std::integral_constant<SgdMode, SgdMode::Momentum>{}); break;
    }
}

template <class T, AdamDecay kDecay, bool kAmsgrad, bool kSmallW1>
void adam_chunk(T* param, const T* grad, T* m, T* v, T* v_max, int64_t lo, int64_t hi, AdamScalars<T> s) {
    for (int64_t i = lo; i < hi; ++i) {
        T g = grad[i];
        if constexpr (kDecay == AdamDecay::Decoupled) param[i] = param[i] * s.shrink;
        if constexpr (kDecay == AdamDecay::L2) g = g + s.decay * param[i];
        const T step = adam_moments(g, m, v, v_max, i, s, kAmsgrad, kSmallW1);
        param[i] = param[i] - s.step_size * step;
    }
}

template <class T>
void adam_run(T* param, const T* grad, T* m, T* v, T* v_max, int64_t n, int64_t step, const AdamParams& p) {
    const AdamScalars<T> s = adam_scalars<T>(p, step);
    auto run = [&](auto decay) {
        with_flag(p.amsgrad, [&](auto amsgrad) {
            with_flag(adam_small_w1(p), [&](auto small_w1) {
                parallel_for(0, n, kParallelGrain / 4, [&](int64_t lo, int64_t hi) {
                    adam_chunk<T, decltype(decay)::value, decltype(amsgrad)::value, decltype(small_w1)::value>(
                        param, grad, m, v, v_max, lo, hi, s);
                });
            });
        });
    };
    switch (adam_decay(p)) {
        case AdamDecay::None: run(std::integral_constant<AdamDecay, AdamDecay::None>{}); break;
        case AdamDecay::Decoupled: run(std::integral_constant<AdamDecay, AdamDecay::Decoupled>{}); break;
        case AdamDecay::L2: run(std::integral_constant<AdamDecay, AdamDecay::L2>{}); break;
    }
}

}  // namespace

void CpuBackend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                           bool first_step) {
    const Tensor g = dense(grad);
    ENGINE_DISPATCH_FLOATING(param.dtype(), "sgd_step_", [&] {
        scalar_t* buf = p.momentum != 0.0 ? momentum_buffer.data<scalar_t>() : nullptr;
        sgd_run<scalar_t>(param.data<scalar_t>(), g.data<scalar_t>(), buf, param.numel(), p, first_step);
    });
}

void CpuBackend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                            Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) {
    const Tensor g = dense(grad);
    ENGINE_DISPATCH_FLOATING(param.dtype(), "adam_step_", [&] {
        scalar_t* v_max = p.amsgrad ? max_exp_avg_sq.data<scalar_t>() : nullptr;
        adam_run<scalar_t>(param.data<scalar_t>(), g.data<scalar_t>(), exp_avg.data<scalar_t>(),
                           exp_avg_sq.data<scalar_t>(), v_max, param.numel(), step, p);
    });
}

}  // namespace engine::cpu
