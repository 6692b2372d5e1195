// The accumulator formulas of the reductions, shared by the CPU and CUDA backends so both merge partial results
// the same way: max / min where NaN wins, and variance accumulators merged with Chan's pairwise formula.
#pragma once

#include <limits>
#include <type_traits>

#include "runtime/host_device.h"

namespace engine {

// The start of a max (min) reduction: -inf (+inf) for floats, the lowest (highest) value for integers.
template <class T, bool IsMax>
ENGINE_HOST_DEVICE inline T extreme_identity() {
    if constexpr (std::is_floating_point_v<T>) {
        return IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    } else {
        return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    }
}

// One step of a max (min) reduction: once the accumulator is NaN no comparison replaces it, and a NaN value
// always replaces the accumulator.
template <bool IsMax, class T>
ENGINE_HOST_DEVICE inline T extreme_step(T acc, T v) {
    const bool better = IsMax ? v > acc : v < acc;
    return (better || v != v) ? v : acc;
}

// Count, mean and sum of squared deviations of a set of values. No default member initializers: CUDA kernels
// keep these in __shared__ arrays, which must not have constructors.
struct VarAcc {
    double n, mean, m2;
};

// Chan et al.'s pairwise merge of two disjoint sets.
ENGINE_HOST_DEVICE inline VarAcc var_merge(const VarAcc& a, const VarAcc& b) {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n, delta = b.mean - a.mean;
    return {n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
}

// The variance with `correction` subtracted from the count; PyTorch clamps the degrees of freedom at 0, which
// gives inf (or nan for 0/0).
ENGINE_HOST_DEVICE inline double var_value(const VarAcc& a, double correction) {
    const double dof = a.n - correction;
    return a.m2 / (dof > 0.0 ? dof : 0.0);
}

}  // namespace engine
