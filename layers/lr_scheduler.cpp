// StepLR and CosineAnnealingLR (closed forms), and clip_grad_norm_.
#include <cmath>

#include "layers/optim.h"

namespace engine::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
    for (size_t g = 0; g < optimizer.num_groups(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRScheduler::apply() {
    for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr_at(last_epoch_, base_lrs_[g]));
}

void LRScheduler::step() {
    ++last_epoch_;
    apply();
}

void LRScheduler::set_last_epoch(int64_t epoch) {
    ENGINE_CHECK(epoch >= 0, "LRScheduler: epoch must be non-negative, got ", epoch);
    last_epoch_ = epoch;
    apply();
}

std::vector<double> LRScheduler::last_lr() const {
    std::vector<double> out;
    for (size_t g = 0; g < base_lrs_.size(); ++g) out.push_back(optimizer_.lr(g));
    return out;
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
    ENGINE_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
    apply();
}

double StepLR::lr_at(int64_t epoch, double base_lr) const {
    return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min, int64_t warmup,
                                     double warmup_start_factor)
    : LRScheduler(optimizer),
      t_max_(t_max),
      eta_min_(eta_min),
      warmup_(warmup),
      warmup_start_factor_(warmup_start_factor) {
    ENGINE_CHECK(t_max > 0, "CosineAnnealingLR: t_max must be positive, got ", t_max);
    ENGINE_CHECK(warmup >= 0, "CosineAnnealingLR: warmup must be non-negative, got ", warmup);
    ENGINE_CHECK(warmup_start_factor > 0.0 && warmup_start_factor <= 1.0,
                 "CosineAnnealingLR: warmup_start_factor must be in (0, 1], got ", warmup_start_factor);
    apply();
}

double CosineAnnealingLR::lr_at(int64_t epoch, double base_lr) const {
    if (epoch < warmup_) {
        const double fraction = static_cast<double>(epoch) / static_cast<double>(warmup_);
        return base_lr * (warmup_start_factor_ + (1.0 - warmup_start_factor_) * fraction);
    }
    const double t = static_cast<double>(epoch - warmup_);
    return eta_min_ + (base_lr - eta_min_) * (1.0 + std::cos(M_PI * t / static_cast<double>(t_max_))) / 2.0;
}

}  // namespace engine::optim

namespace engine::nn {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
    ENGINE_CHECK(max_norm >= 0, "clip_grad_norm_: max_norm must be non-negative, got ", max_norm);
    ENGINE_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be positive (or inf), got ", norm_type);
    NoGradGuard no_grad;
    std::vector<Tensor> grads;
    for (const Tensor& p : params)
        if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
    if (grads.empty()) return 0.0;

    const bool inf_norm = std::isinf(norm_type);
    double total = 0.0;
    for (const Tensor& g : grads) {
        if (g.numel() == 0) continue;
        if (inf_norm) {
            total = std::max(total, max(abs(g)).item<double>());
        } else if (norm_type == 2.0) {
            total += sum(square(g)).item<double>();
        } else if (norm_type == 1.0) {
            total += sum(abs(g)).item<double>();
        } else {
            total += sum(pow(abs(g), norm_type)).item<double>();
        }
    }
    if (!inf_norm) total = norm_type == 1.0 ? total : std::pow(total, 1.0 / norm_type);
    ENGINE_CHECK(!error_if_nonfinite || std::isfinite(total), "clip_grad_norm_: the total norm of order ", norm_type,
                 " of the gradients is ", total, "; set error_if_nonfinite false to clip anyway");
    const double coef = max_norm / (total + 1e-6);
    if (!(coef >= 1.0)) {  // a NaN norm makes every gradient NaN, as in PyTorch
        for (Tensor& g : grads) mul_(g, coef);
    }
    return total;
}

}  // namespace engine::nn
