// Optimizers (torch.optim.SGD, Adam, AdamW) over the fused sgd_step/adam_step ops, learning-rate schedules
// (StepLR, CosineAnnealingLR with an optional linear warmup) and clip_grad_norm_.
//
// A training step:
//
//     optim::Adam optimizer(model.parameters(), optim::AdamOptions{});   // lr 1e-3
//     optim::CosineAnnealingLR schedule(optimizer, /*t_max=*/epochs);
//     for (...) {
//         optimizer.zero_grad();
//         Tensor loss = criterion(model(x), y);
//         loss.backward();
//         nn::clip_grad_norm_(model.parameters(), 1.0);   // optional
//         optimizer.step();
//     }
//     schedule.step();   // once per epoch (or per iteration: the schedule counts whatever you call it for)
//
// Parameters without a gradient are skipped, as in PyTorch. The optimizer holds Tensor handles: Module::to()
// keeps them valid, and state created on another device/dtype is converted at the next step.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace engine::optim {

// PyTorch's defaults: lr 1e-3, momentum 0, dampening 0, weight_decay 0, nesterov false.
struct SgdOptions : SgdParams {
    SgdOptions() { lr = 1e-3; }
};
using AdamOptions = AdamParams;  // lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0, amsgrad false
// AdamW's defaults differ from Adam's only in weight_decay (0.01) and its decoupling.
struct AdamWOptions : AdamParams {
    AdamWOptions() {
        weight_decay = 1e-2;
        decoupled_weight_decay = true;
    }
};

// What an optimizer saves: hyperparameters and counts as JSON, per-parameter state as tensors named
// "state.<index>.<name>" (index over all groups' parameters in order, as PyTorch numbers them; names:
// momentum_buffer for SGD; step (int64 scalar), exp_avg, exp_avg_sq, max_exp_avg_sq for Adam/AdamW).
struct OptimizerState {
    std::string config;  // {"type": "adam", "steps": 12, "groups": [{"lr": 0.001, ..., "params": 10}]}
    nn::NamedTensors tensors;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    // One update of every parameter that has a gradient (under no-grad).
    virtual void step() = 0;
    // Clears every parameter's gradient (set_to_none, PyTorch's default).
    void zero_grad();
    // "sgd", "adam" or "adamw".
    virtual std::string type_name() const = 0;

    virtual size_t num_groups() const = 0;
    virtual const std::vector<Tensor>& group_params(size_t group) const = 0;
    std::vector<Tensor> parameters() const;
    virtual double lr(size_t group = 0) const = 0;
    virtual void set_lr(size_t group, double lr) = 0;
    void set_lr(double lr);  // every group
    // step() calls so far (saved and restored with the state).
    int64_t steps() const { return steps_; }

    virtual OptimizerState state_dict() const = 0;
    // Validates everything first (type, group and parameter counts, every tensor's name, shape and dtype; the
    // first problem is named), then restores hyperparameters (as PyTorch does), counts and state. State
    // tensors are converted to each parameter's device and dtype.
    virtual void load_state_dict(const OptimizerState& state) = 0;

protected:
    int64_t steps_ = 0;
};

template <class Options>
struct ParamGroup {
    std::vector<Tensor> params;
    Options options;
};

// The parameter groups of an optimizer whose hyperparameters are `Options`, and the group accessors (PyTorch
// keeps param_groups in its Optimizer base class too).
template <class Options>
class GroupedOptimizer : public Optimizer {
public:
    size_t num_groups() const override { return groups_.size(); }
    const std::vector<Tensor>& group_params(size_t group) const override { return groups_.at(group).params; }
    double lr(size_t group = 0) const override { return groups_.at(group).options.lr; }
    void set_lr(size_t group, double lr) override { groups_.at(group).options.lr = lr; }
    using Optimizer::set_lr;
    Options& options(size_t group = 0) { return groups_.at(group).options; }

protected:
    explicit GroupedOptimizer(std::vector<ParamGroup<Options>> groups) : groups_(std::move(groups)) {}

    std::vector<ParamGroup<Options>> groups_;
};

class SGD : public GroupedOptimizer<SgdParams> {
public:
    SGD(std::vector<Tensor> params, const SgdParams& options = SgdOptions());
    explicit SGD(std::vector<ParamGroup<SgdParams>> groups);
    void step() override;
    std::string type_name() const override { return "sgd"; }
    OptimizerState state_dict() const override;
    void load_state_dict(const OptimizerState& state) override;

private:
    std::vector<Tensor> momentum_;  // per parameter; undefined until its first step with momentum
};

// Adam, or AdamW when options.decoupled_weight_decay (use the AdamW class, which sets it).
class Adam : public GroupedOptimizer<AdamOptions> {
public:
    Adam(std::vector<Tensor> params, const AdamOptions& options = AdamOptions());
    explicit Adam(std::vector<ParamGroup<AdamOptions>> groups);
    void step() override;
    std::string type_name() const override { return decoupled_ ? "adamw" : "adam"; }
    OptimizerState state_dict() const override;
    void load_state_dict(const OptimizerState& state) override;

protected:
    Adam(std::vector<ParamGroup<AdamOptions>> groups, bool decoupled);

private:
    struct State {
        int64_t step = 0;
        Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
    };
    std::vector<State> state_;  // per parameter
    bool decoupled_;
};

class AdamW : public Adam {
public:
    AdamW(std::vector<Tensor> params, const AdamOptions& options = AdamWOptions());
    explicit AdamW(std::vector<ParamGroup<AdamOptions>> groups);
};

// ---------------------------------------------------------------- learning-rate schedules
// A schedule computes each group's lr from the lr the group had when the schedule was built (base_lrs) and an
// epoch counter; constructing it sets the epoch-0 lr (as PyTorch's initial step), step() advances by one.
class LRScheduler {
public:
    explicit LRScheduler(Optimizer& optimizer);
    virtual ~LRScheduler() = default;
    void step();
    // Jumps to `epoch` and sets its lr (resuming from a checkpoint's epoch).
    void set_last_epoch(int64_t epoch);
    int64_t last_epoch() const { return last_epoch_; }
    std::vector<double> last_lr() const;
    const std::vector<double>& base_lrs() const { return base_lrs_; }
    // The closed form of the schedule.
    virtual double lr_at(int64_t epoch, double base_lr) const = 0;

protected:
    // Derived constructors call this last (a base constructor cannot call lr_at).
    void apply();

private:
    Optimizer& optimizer_;
    std::vector<double> base_lrs_;
    int64_t last_epoch_ = 0;
};

// lr = base_lr * gamma ^ floor(epoch / step_size)  (torch.optim.lr_scheduler.StepLR).
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
    double lr_at(int64_t epoch, double base_lr) const override;

private:
    int64_t step_size_;
    double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2 with t = epoch - warmup
// (torch.optim.lr_scheduler.CosineAnnealingLR's closed form; past t_max it continues the cosine, as PyTorch).
// With warmup > 0 the first `warmup` epochs ramp linearly from warmup_start_factor * base_lr to base_lr:
// exactly SequentialLR([LinearLR(start_factor=warmup_start_factor, total_iters=warmup),
// CosineAnnealingLR(t_max, eta_min)], milestones=[warmup]). warmup_start_factor is in (0, 1], default 1/3 as
// LinearLR's.
class CosineAnnealingLR : public LRScheduler {
public:
    CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0.0, int64_t warmup = 0,
                      double warmup_start_factor = 1.0 / 3.0);
    double lr_at(int64_t epoch, double base_lr) const override;

private:
    int64_t t_max_;
    double eta_min_;
    int64_t warmup_;
    double warmup_start_factor_;
};

}  // namespace engine::optim

namespace engine::nn {

// torch.nn.utils.clip_grad_norm_: the norm_type norm of all gradients together (inf for the max norm); when it
// exceeds max_norm every gradient is scaled by max_norm / (total + 1e-6). Returns the total norm before
// clipping. Parameters without a gradient are skipped; with error_if_nonfinite a NaN/Inf norm is an error.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

}  // namespace engine::nn
