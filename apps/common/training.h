// Pieces of the training loops shared by the apps: bounded runs (--max-steps, --time-limit), the non-finite loss
// guard, per-step seeds (so that a resumed run continues exactly), the loss history, and writing JSON reports
// atomically.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine::apps {

// Stops a run after `max_steps` global steps (0 = no limit) or `time_limit_minutes` of wall time (0 = none).
class StopRule {
public:
    StopRule(int64_t max_steps, double time_limit_minutes);
    // True once `global_step` steps are done or the time is up.
    bool reached(int64_t global_step) const;
    // Why reached() said so ("--max-steps 100", "--time-limit 30 min").
    std::string reason(int64_t global_step) const;
    double elapsed_seconds() const;

private:
    int64_t max_steps_;
    double limit_seconds_;
    std::chrono::steady_clock::time_point start_;
};

// Throws NonFiniteError "the loss became nan at step S (epoch E, batch B of N); ..." when `value` is NaN/Inf.
// `what` names the quantity ("loss", "gradient norm"); `kept` says which checkpoint is left untouched.
void check_finite(double value, const char* what, int64_t global_step, int64_t epoch, int64_t batch,
                  int64_t batches, const std::string& kept);

// A 64-bit mix of a seed and up to three coordinates (SplitMix64 finaliser): a stream per (seed, step, ...) that
// does not depend on what ran before, e.g. the dropout seed of each training step.
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0);

// Losses per step and per epoch, kept across resumes (stored in the checkpoint's metadata).
struct LossHistory {
    std::vector<double> step_loss;   // one per global step
    std::vector<double> epoch_loss;  // mean training loss of each finished epoch
    std::vector<double> val_loss;    // validation loss of each finished epoch (NaN when not measured)
    nlohmann::json to_json() const;
    static LossHistory from_json(const nlohmann::json& j);
};

// Writes `j` (pretty, with a trailing newline) to `path` atomically.
void write_json(const std::string& path, const nlohmann::json& j);

// "%.4f" or "-" for NaN.
std::string fixed(double value, int digits = 4);
// 100 * value as "%.2f%%".
std::string percent(double value);

}  // namespace engine::apps
