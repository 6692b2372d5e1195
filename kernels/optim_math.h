// The optimizer step formulas of torch.optim.SGD and Adam / AdamW, shared by both backends: the scalars computed
// on the host in double (as torch computes them from Python floats) and then rounded to T, and the per-element
// update. The options are plain arguments: the CPU passes compile-time constants (its loops are instantiated per
// option set, so the branches fold away and the loops vectorise), the CUDA kernels pass runtime values.
#pragma once

#include <cmath>
#include <cstdint>

#include "runtime/host_device.h"
#include "kernels/params.h"
#include "kernels/scalar_math.h"

namespace engine {

enum class SgdMode { Plain, FirstMomentum, Momentum };

template <class T>
struct SgdScalars {
    T lr, decay, momentum, keep;  // keep = 1 - dampening
};

template <class T>
SgdScalars<T> sgd_scalars(const SgdParams& p) {
    return {static_cast<T>(p.lr), static_cast<T>(p.weight_decay), static_cast<T>(p.momentum),
            static_cast<T>(1.0 - p.dampening)};
}

inline SgdMode sgd_mode(const SgdParams& p, bool first_step) {
    return p.momentum == 0.0 ? SgdMode::Plain : (first_step ? SgdMode::FirstMomentum : SgdMode::Momentum);
}

// Element i of one SGD step; `buf` (the momentum buffer) is only touched outside SgdMode::Plain.
template <class T>
ENGINE_HOST_DEVICE inline void sgd_update(T* param, const T* grad, T* buf, int64_t i, const SgdScalars<T>& s,
                                          SgdMode mode, bool use_decay, bool nesterov) {
    T d = grad[i];
    if (use_decay) d = d + s.decay * param[i];
    if (mode == SgdMode::FirstMomentum) {
        buf[i] = d;  // torch clones the gradient into a fresh buffer on the first step
    } else if (mode == SgdMode::Momentum) {
        buf[i] = buf[i] * s.momentum + s.keep * d;
    }
    if (mode != SgdMode::Plain) d = nesterov ? d + s.momentum * buf[i] : buf[i];
    param[i] = param[i] - s.lr * d;
}

enum class AdamDecay { None, L2, Decoupled };

template <class T>
struct AdamScalars {
    T step_size, bias_correction2_sqrt, decay, shrink, w1, beta2, w2, eps;
};

// `step` counts from 1 (the step being taken).
template <class T>
AdamScalars<T> adam_scalars(const AdamParams& p, int64_t step) {
    const double bias_correction1 = 1.0 - std::pow(p.beta1, static_cast<double>(step));
    const double bias_correction2 = 1.0 - std::pow(p.beta2, static_cast<double>(step));
    return {static_cast<T>(p.lr / bias_correction1), static_cast<T>(std::sqrt(bias_correction2)),
            static_cast<T>(p.weight_decay),          static_cast<T>(1.0 - p.lr * p.weight_decay),
            static_cast<T>(1.0 - p.beta1),           static_cast<T>(p.beta2),
            static_cast<T>(1.0 - p.beta2),           static_cast<T>(p.eps)};
}

inline AdamDecay adam_decay(const AdamParams& p) {
    if (p.weight_decay == 0.0) return AdamDecay::None;
    return p.decoupled_weight_decay ? AdamDecay::Decoupled : AdamDecay::L2;
}

// torch.lerp(exp_avg, grad, w) computes exp_avg + w * (grad - exp_avg) when w < 0.5 and
// grad - (grad - exp_avg) * (1 - w) otherwise; w = 1 - beta1.
inline bool adam_small_w1(const AdamParams& p) { return 1.0 - p.beta1 < 0.5; }

// The moment updates of element i of one Adam step for the gradient g (with any L2 term already added): m, v
// and, with amsgrad, v_max; returns m / (sqrt(v or v_max) / bias_correction2_sqrt + eps), which the step scales
// by step_size. The weight decay and the parameter's own update stay with each backend: the CPU keeps the decayed
// parameter in memory and CUDA in a register, which lets the compilers fuse different multiply-adds, so one
// shared form would change one backend's results in the last bit.
template <class T>
ENGINE_HOST_DEVICE inline T adam_moments(T g, T* m, T* v, T* v_max, int64_t i, const AdamScalars<T>& s, bool amsgrad,
                                         bool small_w1) {
    const T diff = g - m[i];
    const T m_new = small_w1 ? m[i] + s.w1 * diff : g - diff * (T(1) - s.w1);
    m[i] = m_new;
    const T v_new = v[i] * s.beta2 + s.w2 * g * g;
    v[i] = v_new;
    T second = v_new;
    if (amsgrad) {
        const T prev = v_max[i];
        const bool keep = (prev != prev) | (prev > second);  // torch.maximum propagates NaN
        second = keep ? prev : second;
        v_max[i] = second;
    }
    const T denom = scalar::sqrt(second) / s.bias_correction2_sqrt + s.eps;
    return m_new / denom;
}

}  // namespace engine
