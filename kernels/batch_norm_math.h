// What both backends' batch norm kernels share: the (N, C, inner) layout and the per-channel formulas (invstd,
// running-stat updates with the unbiased variance as PyTorch, and the backward coefficients), so the CPU and
// CUDA results agree.
#pragma once

#include <math.h>

#include <cstdint>

#include "runtime/host_device.h"
#include "runtime/shape.h"

namespace engine {

struct BnLayout {
    int64_t n, c, inner;
    ENGINE_HOST_DEVICE int64_t count() const { return n * inner; }  // values per channel
    // Element offset of the e-th value (in (n, inner) order) of channel ch.
    ENGINE_HOST_DEVICE int64_t at(int64_t ch, int64_t e) const { return ((e / inner) * c + ch) * inner + e % inner; }
};

inline BnLayout bn_layout(const Shape& shape) {
    BnLayout l{shape[0], shape[1], 1};
    for (size_t d = 2; d < shape.size(); ++d) l.inner *= shape[d];
    return l;
}

ENGINE_HOST_DEVICE inline double bn_invstd(double var, double eps) { return 1.0 / ::sqrt(var + eps); }

// A running statistic after one training step that measured `batch_value`.
ENGINE_HOST_DEVICE inline double bn_running_update(double running, double batch_value, double momentum) {
    return momentum * batch_value + (1.0 - momentum) * running;
}

// The running variance takes the unbiased variance of the `count` values of the batch.
ENGINE_HOST_DEVICE inline double bn_unbiased_var(double var, double count) { return var * count / (count - 1.0); }

// grad_x = g * a + b + (x - mean) * c per channel: (g - mean_g - (x - mean) * k) * invstd * w in training (k folds
// in the variance's dependence on x, through the channel's sum_g = sum(g) and dot = sum((x - mean) * g)), and
// g * invstd * w in eval (b = c = 0).
struct BnGradCoefficients {
    double a, b, c;
};

ENGINE_HOST_DEVICE inline BnGradCoefficients bn_grad_coefficients(double sum_g, double dot, double invstd,
                                                                  double weight, double count, bool batch_terms) {
    const double scale = invstd * weight;
    if (!batch_terms) return {scale, 0.0, 0.0};
    return {scale, -sum_g / count * scale, -dot * invstd * invstd / count * scale};
}

}  // namespace engine
