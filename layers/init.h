// Parameter initialisers with torch.nn.init's names and formulas, drawing from an engine Generator. They fill
// the tensor in place (under no-grad) and return it.
#pragma once

#include <utility>

#include "autograd/ops.h"

namespace engine::nn::init {

// (fan_in, fan_out) as torch.nn.init._calculate_fan_in_and_fan_out: size(1) * receptive field and
// size(0) * receptive field (for a ConvTranspose2d weight (in, out/groups, kh, kw) that makes fan_in
// out/groups*kh*kw, as in PyTorch).
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t);

enum class FanMode { FanIn, FanOut };

Tensor& uniform_(Tensor& t, double low, double high, Generator& gen = default_generator());
Tensor& normal_(Tensor& t, double mean, double std, Generator& gen = default_generator());
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
// gain sqrt(2 / (1 + a^2)) (leaky_relu with slope a; a = 0 is ReLU); U(-bound, bound) with
// bound = gain * sqrt(3 / fan).
Tensor& kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                         Generator& gen = default_generator());
// N(0, gain / sqrt(fan)) with the same gain.
Tensor& kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn, Generator& gen = default_generator());

// While one is alive (in this thread) every initialiser above and below leaves its tensor as it is (allocated,
// not filled), as torch.nn.utils.skip_init: for building a model whose weights are loaded right afterwards
// (checkpoint::load_model does), or a layer that is re-initialised differently at once (VGG's init).
class SkipInitGuard {
public:
    SkipInitGuard();
    ~SkipInitGuard();
    SkipInitGuard(const SkipInitGuard&) = delete;
    SkipInitGuard& operator=(const SkipInitGuard&) = delete;
    static bool active();

private:
    bool previous_;
};

// PyTorch's default for Conv2d/ConvTranspose2d/Linear: kaiming_uniform_(weight, a=sqrt(5)), which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then the bias (when defined) from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void default_layer_init(Tensor& weight, Tensor& bias, Generator& gen = default_generator());

}  // namespace engine::nn::init
