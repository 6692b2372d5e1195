// Top-level error handling, command-line parsing and device selection shared by the training apps.
#include "apps/common/app_main.h"

#include <cstdio>
#include <exception>
#include <new>

#include "runtime/cuda_device.h"
#include "runtime/parallel.h"

namespace engine::apps {

namespace {

// Keeps the report to one line whatever the message holds (some library messages span several).
std::string one_line(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

}  // namespace

int run_main(const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
        return kExitUsage;
    } catch (const NonFiniteError& e) {
        std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
        return kExitNonFinite;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "error: out of memory\n");
        return kExitError;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", one_line(e.what()).c_str());
        return kExitError;
    } catch (...) {
        std::fprintf(stderr, "error: unknown exception\n");
        return kExitError;
    }
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "error: %s (see --help)\n", one_line(e.what()).c_str());
        return kExitUsage;
    }
    return std::nullopt;
}

std::string exit_code_help() {
    return "Exit codes: 0 success, 1 error (data, checkpoint, device, I/O), 2 usage error, "
           "3 the loss became NaN/Inf (training stopped; the last good checkpoint is kept), 130 interrupted by "
           "Ctrl-C or SIGTERM (OUT/last.safetensors saved after the current step, for --resume; a second Ctrl-C "
           "quits at once without saving).";
}

Device select_device(const std::string& spec) {
    if (spec == "cpu") return Device::cpu();
    if (spec == "auto") {
        if (cuda::is_available()) return Device::cuda(0);
        std::printf("notice: --device auto: no CUDA device (%s); using the CPU\n",
                    one_line(cuda::unavailable_reason()).c_str());
        return Device::cpu();
    }
    Device device;
    try {
        device = Device::parse(spec);
    } catch (const Error&) {
        throw UsageError("--device: expected cpu, cuda, cuda:N or auto, got '" + spec + "'");
    }
    if (device.is_cpu()) return device;
    if (!cuda::is_available())
        throw DeviceError("--device " + spec + ": no CUDA device: " + one_line(cuda::unavailable_reason()));
    if (device.index >= cuda::device_count())
        throw DeviceError("--device " + spec + ": no such CUDA device (" + std::to_string(cuda::device_count()) +
                          " present)");
    return device;
}

std::string describe_device(Device device) {
    if (device.is_cpu()) return "cpu (" + std::to_string(num_threads()) + (num_threads() == 1 ? " thread)" : " threads)");
    return device.str() + " (" + cuda::device_name(device.index) + ")";
}

}  // namespace engine::apps
