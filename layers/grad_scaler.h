// Dynamic loss scaling for float16 training, as torch.amp.GradScaler: float16 gradients below 2^-24 flush to
// zero, so the loss is multiplied by a large scale before backward; step() divides the gradients by it and
// runs the optimizer only when every gradient is finite. A step with an Inf or NaN gradient is skipped and
// the scale shrinks (backoff_factor); after growth_interval clean steps in a row it grows (growth_factor).
// bfloat16 has float32's range and needs none of this.
#pragma once

#include <cstdint>

#include "layers/optim.h"

namespace engine::optim {

struct GradScalerOptions {
    double init_scale = 65536.0;
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    int64_t growth_interval = 2000;
};

class GradScaler {
public:
    explicit GradScaler(GradScalerOptions options = {});

    // loss * scale, recorded: call backward() on this.
    Tensor scale(const Tensor& loss) const;
    // Divides the gradients of `optimizer`'s parameters by the scale, in place, once per step (before clipping
    // them, say); step() does it when it was not done. Returns whether every gradient is finite.
    bool unscale(Optimizer& optimizer);
    // Steps when every gradient is finite, else skips the step; updates the scale either way. Returns whether
    // it stepped.
    bool step(Optimizer& optimizer);

    double current_scale() const { return scale_; }
    int64_t clean_steps() const { return clean_steps_; }
    int64_t skipped_steps() const { return skipped_; }
    // For checkpoints: the scale and the clean-step count, restored exactly.
    void restore(double scale, int64_t clean_steps);

private:
    GradScalerOptions options_;
    double scale_;
    int64_t clean_steps_ = 0;
    int64_t skipped_ = 0;
    bool unscaled_ = false, finite_ = true;  // this step's unscale() and what it found
};

}  // namespace engine::optim
