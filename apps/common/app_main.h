// What every app shares at its top level: one-line errors with fixed exit codes, command-line parsing that turns
// usage mistakes into one line, and --device selection; and the steps of a training app's run() around its task.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/device.h"
#include "runtime/error.h"

// CLI11 is only declared here: its header costs about ten seconds of compile time in every file that includes it,
// so only the files that build command lines include <CLI/CLI.hpp>.
namespace CLI {
class App;
class Option;
class Validator;
}  // namespace CLI

namespace engine::models {
struct ModelConfig;
class Model;
}  // namespace engine::models

namespace engine::optim {
class Optimizer;
}  // namespace engine::optim

namespace engine::apps {

struct CommonFlags;
struct CommonSetup;
struct TrainOptions;
class TrainingTask;

// Exit codes shared by the apps (documented in each app's --help footer).
constexpr int kExitError = 1;      // bad data, bad checkpoint, device problems, I/O errors
constexpr int kExitUsage = 2;      // bad flags or flag values
constexpr int kExitNonFinite = 3;  // the loss or the gradients became NaN/Inf: training stopped
constexpr int kExitInterrupted = 130;  // Ctrl-C or SIGTERM: training stopped (see interrupt.h)

// A flag combination or value that the parser alone cannot reject.
class UsageError : public Error {
public:
    using Error::Error;
};

// The loss or the gradient norm stopped being finite.
class NonFiniteError : public Error {
public:
    using Error::Error;
};

// Keeps a report to one line whatever the message holds (some library messages span several).
std::string one_line(std::string text);

// Runs `body`, turning every exception into ONE line "error: ..." on stderr and the matching exit code.
int run_main(const std::function<int()>& body);

// Parses the command line (defined in flags.cpp, with the other code that needs CLI11). Returns an exit code when the app must stop now (--help: 0; a usage error: one line
// "error: ..." on stderr and kExitUsage), nothing when parsing succeeded.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// The footer every app's --help ends with.
std::string exit_code_help();

// --device cpu|cuda|cuda:N|auto with its form checked (a malformed one throws UsageError), before anything is
// opened: select_device() then checks that the device is there.
struct DeviceRequest {
    std::string spec = "cpu";  // as given, for messages
    bool automatic = false;    // auto: CUDA device 0 when there is one, else the CPU
    Device device;             // the device named (not auto)
};
DeviceRequest parse_device(const std::string& spec);
// `cuda` without a usable GPU throws DeviceError "--device cuda: no CUDA device: <reason>"; `auto` falls back to
// the CPU and prints a one-line notice.
Device select_device(const DeviceRequest& request);
Device select_device(const std::string& spec);  // select_device(parse_device(spec))
// "cpu (2 threads)" or "cuda:0 (NVIDIA H100 (sm_90))".
std::string describe_device(Device device);

// The training apps' command-line conventions: option names in a 34-character column, and the last value of a
// repeated flag wins. Call before adding options.
void use_training_conventions(CLI::App& app);
// Adds the common flags and the exit-code footer to the app's own options, then parses as parse_command_line.
std::optional<int> parse_training_command_line(CLI::App& app, CommonFlags& flags, int argc, char** argv);
// The model `config` describes, its initial weights drawn from the run's seed, on the run's device.
std::shared_ptr<models::Model> make_training_model(const models::ModelConfig& config, const CommonSetup& setup);
// "batch B, Adam lr LR; DEVICE": the end of every training app's one-line summary.
std::string training_settings(const CommonFlags& flags, const CommonSetup& setup);
// Trains to the end and returns the exit code (Trainer::run). Flushes stdout first, so that the app's summary
// comes before the trainer's progress lines.
int run_trainer(const TrainOptions& options, models::Model& model, optim::Optimizer& optimizer, TrainingTask& task);

}  // namespace engine::apps
