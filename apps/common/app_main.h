// What every training app shares at its top level: one-line errors with fixed exit codes, command-line parsing
// that turns usage mistakes into one line, and --device selection.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "runtime/device.h"
#include "runtime/error.h"

namespace engine::apps {

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

// Runs `body`, turning every exception into ONE line "error: ..." on stderr and the matching exit code.
int run_main(const std::function<int()>& body);

// Parses the command line. Returns an exit code when the app must stop now (--help: 0; a usage error: one line
// "error: ..." on stderr and kExitUsage), nothing when parsing succeeded.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// The footer every app's --help ends with.
std::string exit_code_help();

// --device cpu|cuda|cuda:N|auto. `cuda` without a usable GPU throws DeviceError
// "--device cuda: no CUDA device: <reason>"; `auto` falls back to the CPU and prints a one-line notice.
Device select_device(const std::string& spec);
// "cpu (2 threads)" or "cuda:0 (NVIDIA H100 (sm_90))".
std::string describe_device(Device device);

}  // namespace engine::apps
