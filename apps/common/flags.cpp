// The command line: parsing with one-line usage errors, and the training apps' common flags and conventions.
// The only file of apps/common that includes CLI11 (see app_main.h).
#include "apps/common/flags.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "apps/common/app_main.h"
#include "runtime/parallel.h"

namespace engine::apps {
namespace {

// The flag's text as a number, or an explanation of why it is not one.
std::string number_check(const std::string& text, double lo, double hi, bool lo_open, const std::string& wanted) {
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(begin, &end);
    const bool parsed = end != begin && *end == '\0' && errno != ERANGE;
    if (parsed && std::isfinite(value) && (lo_open ? value > lo : value >= lo) && value <= hi) return "";
    return "must be " + wanted + ", got " + text;
}

std::string format_limit(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

}  // namespace

CLI::Validator positive_number() {
    return CLI::Validator(
        [](std::string& text) { return number_check(text, 0, HUGE_VAL, true, "a finite number > 0"); }, "> 0");
}

CLI::Validator non_negative_number() {
    return CLI::Validator(
        [](std::string& text) { return number_check(text, 0, HUGE_VAL, false, "a finite number >= 0"); }, ">= 0");
}

CLI::Validator number_in(double lo, double hi) {
    const std::string range = "[" + format_limit(lo) + ", " + format_limit(hi) + "]";
    return CLI::Validator(
        [=](std::string& text) { return number_check(text, lo, hi, false, "a number in " + range); }, range);
}

CLI::Validator non_negative_integer() {
    return CLI::Validator(
        [](std::string& text) {
            const size_t first = text.find_first_not_of(" \t");
            return first != std::string::npos && text[first] == '-' ? "must be an integer >= 0, got " + text
                                                                     : std::string();
        },
        ">= 0");
}

CLI::Validator thread_count() {
    return CLI::Validator(
        [](std::string& text) {
            return number_check(text, 0, kMaxThreads, false,
                                "0 (all cores) to " + std::to_string(kMaxThreads) + " threads");
        },
        "0-" + std::to_string(kMaxThreads));
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

void use_training_conventions(CLI::App& app) {
    app.get_formatter()->column_width(34);
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

std::optional<int> parse_training_command_line(CLI::App& app, CommonFlags& flags, int argc, char** argv) {
    flags.add_to(app);
    app.footer(exit_code_help());
    return parse_command_line(app, argc, argv);
}

void CommonFlags::add_to(CLI::App& app) {
    app.add_option("--epochs", epochs, "Epochs to train in all (a resumed run continues up to this number)")
        ->capture_default_str()
        ->check(positive_number());
    app.add_option("--batch", batch, "Batch size")->capture_default_str()->check(positive_number());
    lr_option_ = app.add_option("--lr", lr, "Adam learning rate (with --resume: the checkpoint's unless given)")
                     ->capture_default_str()
                     ->check(positive_number());
    app.add_option("--device", device,
                   "cpu, cuda, cuda:N or auto (auto: the first GPU when there is one, else the CPU with a notice)")
        ->capture_default_str();
    app.add_option("--out", out_dir,
                   "Output folder: last.safetensors, best.safetensors, metrics.json, loss.png and pictures")
        ->capture_default_str();
    app.add_option("--resume", resume,
                   "Continue from a checkpoint written by this app (e.g. OUT/last.safetensors): weights, optimizer "
                   "state and the position in the data, so the run continues exactly");
    seed_option_ = app.add_option("--seed", seed,
                                  "Seed of the initial weights, the data order, augmentation and dropout "
                                  "(with --resume: the checkpoint's unless given)")
                       ->capture_default_str()
                       ->check(non_negative_integer());
    app.add_option("--max-steps", max_steps,
                   "Stop after this many optimizer steps in all, counting resumed ones (0 = no limit); the "
                   "checkpoint and report are written at the stop")
        ->capture_default_str()
        ->check(non_negative_number());
    app.add_option("--time-limit", time_limit,
                   "Stop after this many minutes of this run (0 = no limit), with a checkpoint and report")
        ->capture_default_str()
        ->check(non_negative_number());
    app.add_option("--threads", threads, "CPU threads for the math (0 = all cores)")
        ->capture_default_str()
        ->check(thread_count());
    app.add_option("--workers", workers,
                   "Background threads that load and augment batches (0 = load on the training thread)")
        ->capture_default_str()
        ->check(non_negative_number());
    app.add_option("--log-every", log_every,
                   "When the output is not a terminal: a progress line every N steps (0 = about ten per epoch)")
        ->capture_default_str()
        ->check(non_negative_number());
    app.add_option("--clip-grad-norm", clip_grad_norm,
                   "Scale the gradients down to this global L2 norm when larger (0 = off)")
        ->capture_default_str()
        ->check(non_negative_number());
    app.add_option("--precision", precision,
                   "fp32; tf32 (float32 convolutions and matmuls on TF32 tensor cores, CUDA only); bf16 or fp16 "
                   "(mixed precision: products in 16 bits, float32 master weights; fp16 with dynamic loss scaling)")
        ->capture_default_str()
        ->check(CLI::IsMember({"fp32", "tf32", "bf16", "fp16"}));
    // Hidden (no group): makes the loss NaN at this step, for tests of the NaN guard.
    app.add_option("--debug-nan-at-step", debug_nan_at_step)->group("");
    // Hidden: fp16's initial loss scale (tests of skipped steps and of the scale's resume).
    app.add_option("--debug-init-grad-scale", debug_init_grad_scale)->group("")->check(non_negative_number());
}

bool CommonFlags::seed_given() const { return seed_option_ && seed_option_->count() > 0; }
bool CommonFlags::lr_given() const { return lr_option_ && lr_option_->count() > 0; }

nlohmann::json CommonFlags::to_json() const {
    return {{"device", device},         {"out", out_dir},         {"resume", resume},
            {"epochs", epochs},         {"batch", batch},         {"lr", lr},
            {"seed", seed},             {"max_steps", max_steps}, {"time_limit_minutes", time_limit},
            {"threads", threads},       {"workers", workers},     {"clip_grad_norm", clip_grad_norm},
            {"precision", precision}};
}

CommonSetup resolve_common(const CommonFlags& flags, const std::string& app) {
    if (flags.threads > 0) set_num_threads(flags.threads);
    CommonSetup setup;
    setup.device = select_device(flags.device);
    if (flags.precision == "tf32" && setup.device.is_cpu())
        throw UsageError("--precision tf32: TF32 is a CUDA tensor-core format; on the CPU use fp32, bf16 or fp16");
    setup.seed = flags.seed;
    if (!flags.resume.empty()) {
        setup.resumed = read_train_state(flags.resume, app);
        if (!flags.seed_given()) setup.seed = setup.resumed->seed;
    }
    return setup;
}

TrainOptions train_options(const CommonFlags& flags, const CommonSetup& setup, const std::string& app) {
    TrainOptions o;
    o.app = app;
    o.out_dir = flags.out_dir;
    o.epochs = flags.epochs;
    o.max_steps = flags.max_steps;
    o.time_limit_minutes = flags.time_limit;
    o.seed = setup.seed;
    o.resume = flags.resume;
    o.device = setup.device;
    o.debug_nan_at_step = flags.debug_nan_at_step;
    o.clip_grad_norm = flags.clip_grad_norm;
    o.precision = flags.precision;
    o.init_grad_scale = flags.debug_init_grad_scale;
    o.log_every = flags.log_every;
    o.batch_size = flags.batch;
    if (flags.lr_given()) o.lr_override = flags.lr;
    o.config = flags.to_json();
    o.config["seed"] = setup.seed;
    return o;
}

}  // namespace engine::apps
