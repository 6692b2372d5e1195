// Bounded runs, the non-finite guard, reproducible shuffles and the loss history of the training apps.
#include "apps/common/training.h"

#include <cmath>
#include <cstdio>

#include "apps/common/app_main.h"
#include "apps/common/metrics.h"
#include "runtime/safetensors.h"
#include "runtime/json.h"

namespace engine::apps {

StopRule::StopRule(int64_t max_steps, double time_limit_minutes)
    : max_steps_(max_steps), limit_seconds_(time_limit_minutes * 60.0), start_(std::chrono::steady_clock::now()) {}

double StopRule::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool StopRule::reached(int64_t global_step) const {
    if (max_steps_ > 0 && global_step >= max_steps_) return true;
    return limit_seconds_ > 0 && elapsed_seconds() >= limit_seconds_;
}

std::string StopRule::reason(int64_t global_step) const {
    if (max_steps_ > 0 && global_step >= max_steps_) return "--max-steps " + std::to_string(max_steps_);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "--time-limit %g min", limit_seconds_ / 60.0);
    return buffer;
}

void check_finite(double value, const char* what, int64_t global_step, int64_t epoch, int64_t batch,
                  int64_t batches, const std::string& kept) {
    if (std::isfinite(value)) return;
    throw NonFiniteError(detail::concat("the ", what, " became ", value, " at step ", global_step, " (epoch ", epoch,
                                        ", batch ", batch, " of ", batches, "); training stopped, ", kept,
                                        "; try a lower --lr"));
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    auto mix = [](uint64_t z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    return mix(mix(mix(mix(seed) ^ a) ^ b) ^ c);
}

nlohmann::json LossHistory::to_json() const {
    return {{"step_loss", json_numbers(step_loss)},
            {"epoch_loss", json_numbers(epoch_loss)},
            {"val_loss", json_numbers(val_loss)}};
}

LossHistory LossHistory::from_json(const nlohmann::json& j) {
    auto read = [&](const char* key) {
        std::vector<double> out;
        if (!j.contains(key)) return out;
        for (const auto& v : j.at(key)) out.push_back(v.is_number() ? v.get<double>() : std::nan(""));
        return out;
    };
    return {read("step_loss"), read("epoch_loss"), read("val_loss")};
}

void write_json(const std::string& path, const nlohmann::json& j) {
    safetensors::write_file_atomically(path, dump_json(j, 2) + "\n");
}

std::string fixed(double value, int digits) {
    if (!std::isfinite(value)) return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    return buffer;
}

std::string percent(double value) {
    if (!std::isfinite(value)) return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f%%", 100.0 * value);
    return buffer;
}

}  // namespace engine::apps
