#include "layers/grad_scaler.h"

#include <cmath>

#include "autograd/finite.h"
#include "autograd/grad_mode.h"
#include "autograd/ops.h"

namespace engine::optim {

GradScaler::GradScaler(GradScalerOptions options) : options_(options), scale_(options.init_scale) {
    ENGINE_CHECK(std::isfinite(options.init_scale) && options.init_scale > 0,
                 "GradScaler: init_scale must be positive and finite, got ", options.init_scale);
    ENGINE_CHECK(options.growth_factor > 1 && options.backoff_factor > 0 && options.backoff_factor < 1 &&
                     options.growth_interval >= 1,
                 "GradScaler: expected growth_factor > 1, 0 < backoff_factor < 1 and growth_interval >= 1, got ",
                 options.growth_factor, ", ", options.backoff_factor, ", ", options.growth_interval);
}

Tensor GradScaler::scale(const Tensor& loss) const { return mul(loss, scale_); }

bool GradScaler::unscale(Optimizer& optimizer) {
    if (unscaled_) return finite_;
    NoGradGuard no_grad;
    finite_ = true;
    for (const Tensor& p : optimizer.parameters()) {
        Tensor g = p.grad();
        if (!g.defined()) continue;
        mul_(g, 1.0 / scale_);
        if (finite_ && !all_finite(g)) finite_ = false;
    }
    unscaled_ = true;
    return finite_;
}

bool GradScaler::step(Optimizer& optimizer) {
    const bool finite = unscale(optimizer);
    unscaled_ = false;
    if (!finite) {
        scale_ *= options_.backoff_factor;
        clean_steps_ = 0;
        ++skipped_;
        return false;
    }
    optimizer.step();
    if (++clean_steps_ >= options_.growth_interval) {
        scale_ *= options_.growth_factor;
        clean_steps_ = 0;
    }
    return true;
}

void GradScaler::restore(double scale, int64_t clean_steps) {
    ENGINE_CHECK(std::isfinite(scale) && scale > 0 && clean_steps >= 0, "GradScaler: cannot restore scale ", scale,
                 " with ", clean_steps, " clean steps");
    scale_ = scale;
    clean_steps_ = clean_steps;
}

}  // namespace engine::optim
