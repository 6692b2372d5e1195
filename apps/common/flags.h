// The command-line flags every training app has (epochs, batch, lr, device, output, resume, seed, bounded
// runs, threads), their help texts, and what they resolve to once parsed.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "apps/common/app_main.h"
#include "apps/common/trainer.h"

namespace engine::apps {

// Value checks for numeric flags with one-line messages ("--lr: must be a finite number > 0, got nan"). CLI11's
// own PositiveNumber and Range let NaN through (every comparison with it is false) and print their limits
// with 309 digits.
CLI::Validator positive_number();                  // finite, > 0
CLI::Validator non_negative_number();              // finite, >= 0
CLI::Validator number_in(double lo, double hi);    // finite, in [lo, hi]
CLI::Validator non_negative_integer();             // for unsigned flags, which would wrap "-1" around
// --threads: 0 (all cores) up to kMaxThreads; far more threads than any machine has crash OpenMP.
constexpr int kMaxThreads = 1024;
CLI::Validator thread_count();

struct CommonFlags {
    std::string device = "cpu";
    std::string out_dir;
    std::string resume;
    int64_t epochs = 10;
    int64_t batch = 4;
    double lr = 1e-3;
    uint64_t seed = 1;
    int64_t max_steps = 0;
    double time_limit = 0;  // minutes
    int threads = 0;
    int64_t workers = 1;
    int64_t log_every = 0;
    double clip_grad_norm = 0;
    std::string precision = "fp32";
    int64_t debug_nan_at_step = 0;
    double debug_init_grad_scale = 0;

    // Adds the flags with these values as defaults.
    void add_to(CLI::App& app);
    nlohmann::json to_json() const;

    bool seed_given() const;
    bool lr_given() const;

private:
    CLI::Option* seed_option_ = nullptr;
    CLI::Option* lr_option_ = nullptr;
};

// What the common flags resolve to: threads set, the device chosen, and with --resume the checkpoint's
// training state read (its seed is used unless --seed was given, so that the data order continues).
struct CommonSetup {
    Device device;
    uint64_t seed = 1;
    std::optional<TrainState> resumed;
};
CommonSetup resolve_common(const CommonFlags& flags, const std::string& app);

// TrainOptions filled from the flags.
TrainOptions train_options(const CommonFlags& flags, const CommonSetup& setup, const std::string& app);

}  // namespace engine::apps
