// BatchNorm2d with nn.BatchNorm2d's arguments, parameter/buffer names and initialisation: weight 1, bias 0,
// running_mean 0, running_var 1, num_batches_tracked 0 (int64 scalar).
#pragma once

#include <optional>

#include "layers/module.h"
#include "layers/options.h"

namespace engine::nn {

struct BatchNorm2dOptions {
    BatchNorm2dOptions(int64_t num_features)  // NOLINT: BatchNorm2d(64)
        : num_features_(num_features) {}
    ENGINE_NN_OPTION(int64_t, num_features);
    ENGINE_NN_OPTION(double, eps) = 1e-5;
    // nullopt: a cumulative moving average (momentum 1 / num_batches_tracked), as momentum=None in PyTorch.
    ENGINE_NN_OPTION(std::optional<double>, momentum) = 0.1;
    ENGINE_NN_OPTION(bool, affine) = true;
    ENGINE_NN_OPTION(bool, track_running_stats) = true;
};

// Training mode (or track_running_stats false): normalises with the batch's statistics and, when tracking,
// updates running_mean/running_var (unbiased variance) with momentum and increments num_batches_tracked.
// Eval mode with tracking: normalises with the running statistics.
class BatchNorm2d : public Module {
public:
    explicit BatchNorm2d(const BatchNorm2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "BatchNorm2d"; }
    std::string extra_repr() const override;
    // Running statistics back to mean 0, variance 1, count 0.
    void reset_running_stats();

    const BatchNorm2dOptions& options() const { return options_; }
    const Tensor& weight() const { return weight_; }  // undefined unless affine
    const Tensor& bias() const { return bias_; }
    const Tensor& running_mean() const { return running_mean_; }  // undefined unless track_running_stats
    const Tensor& running_var() const { return running_var_; }
    const Tensor& num_batches_tracked() const { return num_batches_tracked_; }

private:
    BatchNorm2dOptions options_;
    Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

}  // namespace engine::nn
