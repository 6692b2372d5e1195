// bench_model: whole-model CPU speed against PyTorch in the same run: a UNet training step (cross-entropy, Adam)
// and eval forward at the seed's full size (width 64, 3x256x256, batch 1) and at width 16 (3x128x128, batch 4),
// a LeNet training step (batch 32, Adam) and LeNet Grad-CAM (batch 256 forward + gradient of the class scores
// w.r.t. the second conv's output). Ours and PyTorch (bench/torch_model_reference.py) alternate over several
// rounds so that load changes hit both; every figure is a median of wall and of CPU (user + sys) time.
//
//   bench_model [--python PATH] [--json PATH] [--only CASE[,CASE...]] [--quick] [--threads N] [--rounds N]
//               [--reps N] [--no-torch] [--script PATH]
//   bench_model --profile CASE [--steps N] [--threads N]     (where our time goes, per module type and op)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "bench/bench_util.h"
#include "bench/reference.h"
#include "layers/layers.h"
#include "models/models.h"
#include "runtime/parallel.h"

using namespace engine;

namespace {

using bench::fmt;
using bench::json_num;
using bench::median;
using bench::wall_ms;

const char* const kCaseNames[] = {"unet64_train", "unet64_eval",  "unet16_train",
                                  "unet16_eval",  "lenet_train", "lenet_gradcam"};

struct Options : bench::ReferenceOptions {
    Options() : ReferenceOptions("torch_model_reference.py", "bench_model.json") {}
    std::vector<std::string> only;
    std::string profile;
    int profile_steps = 5;
    bool no_torch = false;
    int reps = 0;
};

[[noreturn]] void usage(const std::string& msg, int status = 2) {
    bench::exit_with_usage("bench_model", msg, status,
                           "usage: bench_model [--python PATH] [--json PATH] [--only CASE[,CASE...]] [--quick] "
                           "[--threads N] [--rounds N] [--reps N] [--no-torch] [--script PATH]\n"
                           "       bench_model --profile CASE [--steps N] [--threads N]\n"
                           "cases: unet64_train unet64_eval unet16_train unet16_eval lenet_train lenet_gradcam\n");
}

Options parse(int argc, char** argv) {
    Options o;
    bench::Args args(argc, argv, [](const std::string& msg) { usage(msg); });
    while (args.next()) {
        const std::string& arg = args.arg();
        if (o.read(args)) continue;
        if (arg == "--only") o.only = bench::split_commas(args.value());
        else if (arg == "--reps") o.reps = std::atoi(args.value().c_str());
        else if (arg == "--profile") o.profile = args.value();
        else if (arg == "--steps") o.profile_steps = std::max(1, std::atoi(args.value().c_str()));
        else if (arg == "--no-torch") o.no_torch = true;
        else if (arg == "--help" || arg == "-h") usage("whole-model CPU speed against PyTorch", 0);
        else usage("unknown argument " + arg);
    }
    std::vector<std::string> named = o.only;
    if (!o.profile.empty()) named.push_back(o.profile);
    for (const std::string& name : named) {
        bool known = false;
        for (const char* c : kCaseNames) known |= name == c;
        if (!known) usage("unknown case " + name);
    }
    if (o.rounds <= 0) o.rounds = o.quick ? 2 : 5;
    return o;
}

// ------------------------------------------------------------------------------------------------ cases

// One benchmark: `run` is a training step, a forward or a Grad-CAM pass on state built once.
struct Case {
    std::string name, description;
    std::function<void()> run;
    int reps;  // timed calls per round at full size
    std::shared_ptr<nn::Module> model;  // for --profile's forward hooks
};

Tensor class_targets(const Shape& shape, int64_t classes, Generator& gen) {
    return floor(mul(rand(shape, gen), static_cast<double>(classes))).to(DType::Int64);
}

struct TrainState {
    std::shared_ptr<models::Model> model;
    std::unique_ptr<optim::Adam> optimizer;
    Tensor x, target;
    nn::CrossEntropyLoss loss;
};

Case unet_train(const std::string& name, int64_t width, int64_t batch, int64_t size, int reps) {
    auto s = std::make_shared<TrainState>();
    Generator gen(1);
    models::ModelConfig config;
    config.name = "unet";
    config.width = width;
    s->model = models::make_model(config, gen);
    s->model->train();
    s->optimizer = std::make_unique<optim::Adam>(s->model->parameters(), optim::AdamOptions{});
    s->x = rand({batch, 3, size, size}, gen);
    s->target = class_targets({batch, size, size}, 10, gen);
    return {name,
            "UNet w" + std::to_string(width) + " " + std::to_string(batch) + "x3x" + std::to_string(size) + "x" +
                std::to_string(size) + " train step",
            [s] {
                s->optimizer->zero_grad();
                Tensor loss = s->loss((*s->model)(s->x), s->target);
                loss.backward();
                s->optimizer->step();
            },
            reps, s->model};
}

Case unet_eval(const std::string& name, int64_t width, int64_t batch, int64_t size, int reps) {
    Generator gen(2);
    models::ModelConfig config;
    config.name = "unet";
    config.width = width;
    std::shared_ptr<models::Model> model = models::make_model(config, gen);
    model->eval();
    Tensor x = rand({batch, 3, size, size}, gen);
    return {name,
            "UNet w" + std::to_string(width) + " " + std::to_string(batch) + "x3x" + std::to_string(size) + "x" +
                std::to_string(size) + " eval forward",
            [model, x] {
                NoGradGuard no_grad;
                (void)(*model)(x);
            },
            reps, model};
}

Case lenet_train(int reps) {
    auto s = std::make_shared<TrainState>();
    Generator gen(3);
    s->model = models::make_model("lenet", {}, gen);
    s->model->train();
    s->optimizer = std::make_unique<optim::Adam>(s->model->parameters(), optim::AdamOptions{});
    s->x = rand({32, 1, 28, 28}, gen);
    s->target = class_targets({32}, 10, gen);
    return {"lenet_train", "LeNet b32 train step", [s] {
                s->optimizer->zero_grad();
                Tensor loss = s->loss((*s->model)(s->x), s->target);
                loss.backward();
                s->optimizer->step();
            },
            reps, s->model};
}

// Grad-CAM's pass: the activation of conv.3 (kept by a forward hook) and d(sum of the class-3 logits)/d(it).
Case lenet_gradcam(int reps) {
    Generator gen(4);
    std::shared_ptr<models::Model> model = models::make_model("lenet", {}, gen);
    model->eval();
    Tensor x = rand({256, 1, 28, 28}, gen);
    auto activation = std::make_shared<Tensor>();
    model->module("conv.3").register_forward_hook([activation](nn::Module&, const Tensor&, const Tensor& out) {
        *activation = out;
        return std::optional<Tensor>();
    });
    return {"lenet_gradcam", "LeNet b256 Grad-CAM (fwd + grad to conv.3)", [model, x, activation] {
                Tensor score = sum((*model)(x).select(1, 3));
                (void)autograd::grad({score}, {*activation});
            },
            reps, model};
}

Case make_case(const std::string& name) {
    if (name == "unet64_train") return unet_train(name, 64, 1, 256, 3);
    if (name == "unet64_eval") return unet_eval(name, 64, 1, 256, 5);
    if (name == "unet16_train") return unet_train(name, 16, 4, 128, 10);
    if (name == "unet16_eval") return unet_eval(name, 16, 4, 128, 20);
    if (name == "lenet_train") return lenet_train(200);
    return lenet_gradcam(50);
}

struct Result {
    std::string name, description;
    double ours_ms, ours_cpu_ms, torch_ms, torch_cpu_ms;
};

Result run_case(const std::string& name, const Options& o, bench::TorchReference& ref) {
    Case c = make_case(name);
    int reps = o.reps > 0 ? o.reps : c.reps;
    if (o.quick) reps = std::max(2, reps / 3);
    c.run();  // warm-up: primitive creation, optimizer state, first-touch of buffers
    std::ostringstream js;
    js << "{\"kind\": \"model\", \"case\": \"" << name << "\", \"warmup\": 1, \"reps\": " << reps << "}";
    std::vector<double> ow, oc, tw, tc;
    for (int r = 0; r < o.rounds; ++r) {
        const bench::Sample s = bench::measure(c.run, 1, reps);
        ow.push_back(s.wall);
        oc.push_back(s.cpu);
        // TorchReference answers one number per request: the wall median, then the same run's CPU median.
        if (bench::time_reference(ref, js.str(), name, tw)) {
            if (const auto cpu = ref.time_ms("{\"kind\": \"last_cpu\"}")) tc.push_back(*cpu);
        }
    }
    return {name, c.description, median(ow), median(oc), median(tw), median(tc)};
}

// --profile: where our time goes in one case. Forward time per leaf module type (forward hooks), the rest of the
// forward (cat, flatten ...), backward time per op (the engine's backward profile) and the remainder (loss,
// gradient sums, optimizer step). Compare with `python bench/torch_model_reference.py --profile CASE`.
void profile_case(const std::string& name, int steps) {
    Case c = make_case(name);
    c.run();
    c.run();
    struct Slot {
        double ms = 0;
        int64_t calls = 0;
    };
    std::map<std::string, Slot> forward;
    std::map<const nn::Module*, double> started;
    double forward_total = 0;
    std::vector<nn::ScopedHook> hooks;
    for (auto& [path, module] : c.model->named_modules()) {
        const bool root = path.empty();
        if (!root && !module->named_children().empty()) continue;  // containers: their leaves are timed
        hooks.emplace_back(module->register_forward_pre_hook([&started](nn::Module& m, const Tensor&) {
            started[&m] = wall_ms();
            return std::optional<Tensor>();
        }));
        hooks.emplace_back(module->register_forward_hook([&, root](nn::Module& m, const Tensor&, const Tensor&) {
            const double ms = wall_ms() - started[&m];
            if (root) {
                forward_total += ms;
            } else {
                Slot& slot = forward[m.type_name()];
                slot.ms += ms;
                ++slot.calls;
            }
            return std::optional<Tensor>();
        }));
    }
    autograd::set_backward_profiling(true);
    const double t0 = wall_ms(), c0 = bench::cpu_ms();
    for (int i = 0; i < steps; ++i) c.run();
    const double total = (wall_ms() - t0) / steps, cpu_total = (bench::cpu_ms() - c0) / steps;
    autograd::set_backward_profiling(false);
    std::vector<autograd::BackwardProfileRow> backward = autograd::take_backward_profile();
    std::sort(backward.begin(), backward.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });

    auto line = [&](const std::string& what, double ms, double calls) {
        std::printf("%-36s %10.2f %8s %6.1f%%\n", what.c_str(), ms, calls > 0 ? fmt(calls, 1).c_str() : "",
                    100.0 * ms / total);
    };
    std::printf("profile of %s (%d steps, %d threads): %.1f ms per step wall, %.1f ms CPU\n", c.description.c_str(),
                steps, num_threads(), total, cpu_total);
    std::printf("%-36s %10s %8s %7s\n", "forward (module type)", "ms/step", "calls", "share");
    double leaves = 0;
    for (const auto& [type, slot] : forward) {
        leaves += slot.ms / steps;
        line(type, slot.ms / steps, double(slot.calls) / steps);
    }
    line("forward outside modules (cat ...)", forward_total / steps - leaves, 0);
    std::printf("%-36s %10s %8s %7s\n", "backward (op)", "ms/step", "calls", "share");
    double backward_total = 0;
    for (const auto& row : backward) {
        backward_total += row.ms / steps;
        line(row.name, row.ms / steps, double(row.calls) / steps);
    }
    line("rest (loss, grad sums, optimizer)", total - forward_total / steps - backward_total, 0);
}

void write_json(const Options& o, int threads, double load_before, double load_after,
                const bench::TorchReference& ref, const std::vector<Result>& results) {
    std::ostringstream f;
    f << "{\n  \"threads\": " << threads << ",\n  \"rounds\": " << o.rounds
      << ",\n  \"load_average_before\": " << json_num(load_before)
      << ",\n  \"load_average_after\": " << json_num(load_after) << ",\n  \"torch\": "
      << bench::torch_version_json(ref) << ",\n  \"cases\": [";
    for (size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        f << (i ? "," : "") << "\n    {\"name\": \"" << r.name << "\", \"description\": \"" << r.description
          << "\", \"ours_ms\": " << json_num(r.ours_ms) << ", \"torch_ms\": " << json_num(r.torch_ms)
          << ", \"ratio\": " << json_num(r.ours_ms / r.torch_ms) << ", \"ours_cpu_ms\": " << json_num(r.ours_cpu_ms)
          << ", \"torch_cpu_ms\": " << json_num(r.torch_cpu_ms)
          << ", \"cpu_ratio\": " << json_num(r.ours_cpu_ms / r.torch_cpu_ms) << "}";
    }
    f << "\n  ]\n}\n";
    bench::write_text_file(o.json_path, f.str(), "bench_model");
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.threads > 0) set_num_threads(o.threads);
    const int threads = num_threads();
    if (!o.profile.empty()) {
        profile_case(o.profile, o.profile_steps);
        return 0;
    }
    const double load_before = bench::load_average_noted();

    bench::TorchReference ref;
    if (o.no_torch)
        std::printf("%d threads, %d rounds, no PyTorch reference (--no-torch)\n", threads, o.rounds);
    else
        bench::start_reported(ref, o.python, o.script, threads, o.rounds);
    std::printf("\n%-44s %9s %9s %6s | %9s %9s %6s\n", "case (ms, medians)", "ours", "PyTorch", "ratio", "ours cpu",
                "torch cpu", "ratio");
    std::fflush(stdout);

    std::vector<Result> results;
    for (const char* name : kCaseNames) {
        if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), name) == o.only.end()) continue;
        results.push_back(run_case(name, o, ref));
        const Result& r = results.back();
        std::printf("%-44s %9s %9s %6s | %9s %9s %6s\n", r.description.c_str(), fmt(r.ours_ms, 1).c_str(),
                    fmt(r.torch_ms, 1).c_str(), fmt(r.ours_ms / r.torch_ms, 2).c_str(), fmt(r.ours_cpu_ms, 1).c_str(),
                    fmt(r.torch_cpu_ms, 1).c_str(), fmt(r.ours_cpu_ms / r.torch_cpu_ms, 2).c_str());
        std::fflush(stdout);
    }
    const double load_after = bench::load_average();
    write_json(o, threads, load_before, load_after, ref, results);
    std::printf("ratio = ours / PyTorch (wall, then CPU = user + sys over all threads); load average %.2f -> %.2f\n"
                "wrote %s\n",
                load_before, load_after, o.json_path.c_str());
    return 0;
}
