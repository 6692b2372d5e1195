// Top-level error handling, command-line parsing and device selection shared by the apps, and the training apps'
// common steps.
#include "apps/common/app_main.h"

#include <csignal>
#include <cstdio>
#include <exception>
#include <new>

#include "apps/common/flags.h"
#include "apps/common/trainer.h"
#include "models/model.h"
#include "runtime/cuda_device.h"
#include "runtime/generator.h"
#include "runtime/parallel.h"

namespace engine::apps {

std::string one_line(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

int run_main(const std::function<int()>& body) {
    // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the writers report by name; the
    // default action of SIGXFSZ would instead kill the process mid-write, without a word.
    std::signal(SIGXFSZ, SIG_IGN);
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

std::string exit_code_help() {
    return "Exit codes: 0 success, 1 error (data, checkpoint, device, I/O), 2 usage error, "
           "3 the loss became NaN/Inf (training stopped; the last good checkpoint is kept), 130 interrupted by "
           "Ctrl-C or SIGTERM (OUT/last.safetensors saved after the current step, for --resume; a second Ctrl-C "
           "quits at once without saving).";
}

DeviceRequest parse_device(const std::string& spec) {
    DeviceRequest request;
    request.spec = spec;
    if (spec == "auto") {
        request.automatic = true;
        return request;
    }
    try {
        request.device = Device::parse(spec);
    } catch (const Error&) {
        throw UsageError("--device: expected cpu, cuda, cuda:N or auto, got '" + spec + "'");
    }
    return request;
}

Device select_device(const DeviceRequest& request) {
    if (request.automatic) {
        if (cuda::is_available()) return Device::cuda(0);
        std::printf("notice: --device auto: no CUDA device (%s); using the CPU\n",
                    one_line(cuda::unavailable_reason()).c_str());
        return Device::cpu();
    }
    const Device device = request.device;
    if (device.is_cpu()) return device;
    if (!cuda::is_available())
        throw DeviceError("--device " + request.spec + ": no CUDA device: " + one_line(cuda::unavailable_reason()));
    if (device.index >= cuda::device_count())
        throw DeviceError("--device " + request.spec + ": no such CUDA device (" +
                          std::to_string(cuda::device_count()) + " present)");
    return device;
}

Device select_device(const std::string& spec) { return select_device(parse_device(spec)); }

std::string describe_device(Device device) {
    if (device.is_cpu()) return "cpu (" + std::to_string(num_threads()) + (num_threads() == 1 ? " thread)" : " threads)");
    return device.str() + " (" + cuda::device_name(device.index) + ")";
}

std::shared_ptr<models::Model> make_training_model(const models::ModelConfig& config, const CommonSetup& setup) {
    Generator init(setup.seed);
    std::shared_ptr<models::Model> model = models::make_model(config, init);
    model->to(setup.device);
    return model;
}

std::string training_settings(const CommonFlags& flags, const CommonSetup& setup) {
    char settings[64];
    std::snprintf(settings, sizeof settings, "batch %lld, Adam lr %g; ", static_cast<long long>(flags.batch), flags.lr);
    return settings + describe_device(setup.device);
}

int run_trainer(const TrainOptions& options, models::Model& model, optim::Optimizer& optimizer, TrainingTask& task) {
    std::fflush(stdout);
    Trainer trainer(options, model, optimizer, task);
    return trainer.run();
}

}  // namespace engine::apps
