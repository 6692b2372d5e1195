// The command-line flags every training app has (epochs, batch, lr, device, output, resume, seed, bounded
// runs, threads), their help texts, and what they resolve to once parsed.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "apps/common/app_main.h"
#include "apps/common/trainer.h"

namespace engine::apps {

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
    int64_t debug_nan_at_step = 0;

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
