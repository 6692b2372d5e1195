// torch.nn.init's initialisers over the engine's Philox generator.
#include "layers/init.h"

#include <cmath>

namespace engine::nn::init {
namespace {

thread_local bool skip_init = false;

Tensor& fill_from(Tensor& t, const Tensor& values) {
    if (skip_init) return t;
    NoGradGuard no_grad;
    t.copy_(values);
    return t;
}

double kaiming_std(const Tensor& t, double a, FanMode mode) {
    const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
    const int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
    ENGINE_CHECK(fan > 0, "kaiming init: tensor of shape ", shape_str(t.shape()), " has zero fan");
    const double gain = std::sqrt(2.0 / (1.0 + a * a));
    return gain / std::sqrt(static_cast<double>(fan));
}

}  // namespace

SkipInitGuard::SkipInitGuard() : previous_(skip_init) { skip_init = true; }
SkipInitGuard::~SkipInitGuard() { skip_init = previous_; }
bool SkipInitGuard::active() { return skip_init; }

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t) {
    ENGINE_CHECK(t.dim() >= 2, "fan_in_and_fan_out: needs a tensor with at least 2 dims, got shape ",
                 shape_str(t.shape()));
    int64_t receptive = 1;
    for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
    return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double low, double high, Generator& gen) {
    if (skip_init) return t;
    return fill_from(t, uniform(t.shape(), low, high, gen, t.dtype(), t.device()));
}

Tensor& normal_(Tensor& t, double mean, double std, Generator& gen) {
    if (skip_init) return t;
    Tensor values = randn(t.shape(), gen, t.dtype(), t.device());
    return fill_from(t, add(mul(values, std), mean));
}

Tensor& constant_(Tensor& t, double value) {
    if (skip_init) return t;
    NoGradGuard no_grad;
    t.fill_(value);
    return t;
}

Tensor& zeros_(Tensor& t) { return constant_(t, 0.0); }
Tensor& ones_(Tensor& t) { return constant_(t, 1.0); }

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, Generator& gen) {
    const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode);
    return uniform_(t, -bound, bound, gen);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, Generator& gen) {
    return normal_(t, 0.0, kaiming_std(t, a, mode), gen);
}

void default_layer_init(Tensor& weight, Tensor& bias, Generator& gen) {
    kaiming_uniform_(weight, std::sqrt(5.0), FanMode::FanIn, gen);
    if (bias.defined()) {
        const int64_t fan_in = fan_in_and_fan_out(weight).first;
        const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
        uniform_(bias, -bound, bound, gen);
    }
}

}  // namespace engine::nn::init
