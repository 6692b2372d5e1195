// bench_explain: engine::explain against Captum on the same weights and input, in the same run, ours and
// Captum's alternating round by round, medians reported (Captum runs in bench/captum_reference.py, one
// persistent subprocess that sleeps on its pipe while ours runs). Prints one JSON object.
//   gradcam_lenet  LayerGradCam at conv.3, LeNet, batch --lenet-batch (256), classes = the predictions
//   gradcam_unet   LayerGradCam at --layer (middle) of the seed UNet (--width 64, 3x--size (256), 10 classes),
//                  target: class of the first pixel's argmax, summed over its frozen predicted mask
//   ig_unet        IntegratedGradients, --steps (50) gausslegendre, internal batch --internal-batch (10), zero
//                  baseline, convergence delta on both sides (ours always reports it); --captum-none also times
//                  Captum's internal_batch_size=None (every step in one batch: needs tens of GB at 256x256)
//   fa_unet        FeatureAblation, the clean predicted segments as features, perturbations_per_eval 2
// Weights (seeded init) and inputs are written once to a temporary safetensors file that Captum loads.
//
//   bench_explain [--cases gradcam_lenet,gradcam_unet,ig_unet,fa_unet] [--width 64] [--size 256]
//                 [--lenet-batch 256] [--layer middle] [--steps 50] [--internal-batch 10] [--rounds 3]
//                 [--warmup 1] [--threads 2] [--python PATH] [--captum-none] [--no-captum]
// Quick smoke run: bench_explain --width 8 --size 64 --lenet-batch 16 --rounds 2
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/explain/attribution/explain.h"
#include "bench/bench_util.h"
#include "bench/reference.h"
#include "models/checkpoint.h"
#include "models/model.h"
#include "runtime/parallel.h"
#include "runtime/safetensors.h"

using namespace engine;

namespace {

using bench::median;

[[noreturn]] void usage(const std::string& message, int status = 2) {
    bench::exit_with_usage("bench_explain", message, status,
                           "usage: bench_explain [--cases LIST] [--width W] [--size S] [--lenet-batch B] "
                           "[--layer PATH] [--steps N] [--internal-batch N] [--rounds N] [--warmup N] "
                           "[--threads N] [--python PATH] [--captum-none] [--no-captum]\n");
}

struct Case {
    std::string name;
    std::function<void()> ours;
    nlohmann::json captum_setup;  // sent once before the rounds
    nlohmann::json info;
};

// Times `ours` and Captum's `run`, alternating, after `warmup` untimed rounds of each.
nlohmann::json run_case(Case& c, bench::TorchReference* captum, int rounds, int warmup) {
    nlohmann::json result = c.info;
    std::vector<double> ours_ms, captum_ms;
    bool captum_ok = captum && captum->available();
    if (captum_ok) {
        if (!captum->time_ms(c.captum_setup.dump())) {
            result["captum_error"] = captum->last_error();
            captum_ok = false;
        }
    }
    const std::string run = R"({"kind": "run"})";
    for (int r = -warmup; r < rounds; ++r) {
        bench::Stopwatch clock;
        c.ours();
        const double ms = clock.ms();
        if (r >= 0) ours_ms.push_back(ms);
        if (captum_ok) {
            const auto theirs = captum->time_ms(run);
            if (!theirs) {
                result["captum_error"] = captum->last_error();
                captum_ok = false;
            } else if (r >= 0) {
                captum_ms.push_back(*theirs);
            }
        }
        std::fprintf(stderr, "%s round %d: ours %.1f ms%s\n", c.name.c_str(), r, ms,
                     captum_ok && !captum_ms.empty() && r >= 0
                         ? (", captum " + std::to_string(captum_ms.back()) + " ms").c_str()
                         : "");
    }
    result["ours_ms"] = median(ours_ms);
    result["ours_rounds_ms"] = ours_ms;
    if (!captum_ms.empty()) {
        result["captum_ms"] = median(captum_ms);
        result["captum_rounds_ms"] = captum_ms;
        result["ratio"] = median(ours_ms) / median(captum_ms);
        result["target_ratio_met"] = median(ours_ms) <= 0.7 * median(captum_ms);
    }
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h"))
        usage("engine::explain against Captum on the same weights and inputs", 0);
    const bench::Flags flags(argc, argv, 1, {"captum-none", "no-captum"}, [](const std::string& m) { usage(m); });
    static const std::vector<std::string> known{"cases",  "width",          "size",     "lenet-batch", "layer",
                                                "steps",  "internal-batch", "rounds",   "warmup",      "threads",
                                                "python", "captum-none",    "no-captum"};
    for (const auto& [name, value] : flags.values())
        if (std::find(known.begin(), known.end(), name) == known.end()) usage("unknown flag --" + name);

    const int threads = static_cast<int>(flags.get_int("threads", 2));
    const int rounds = static_cast<int>(flags.get_int("rounds", 3));
    const int warmup = static_cast<int>(flags.get_int("warmup", 1));
    const int64_t width = flags.get_int("width", 64), size = flags.get_int("size", 256);
    const int64_t lenet_batch = flags.get_int("lenet-batch", 256);
    const int64_t steps = flags.get_int("steps", 50), internal_batch = flags.get_int("internal-batch", 10);
    const std::string layer = flags.get("layer", "middle");
    const std::vector<std::string> cases =
        bench::split_commas(flags.get("cases", "gradcam_lenet,gradcam_unet,ig_unet,fa_unet"));
    set_num_threads(threads);

    const std::string python = flags.get("python", bench::default_python("/opt/torchenv/bin/python"));
    bench::TorchReference captum;
    nlohmann::json out;
    if (!flags.has("no-captum")) {
        if (!captum.start(python, bench::bench_file("captum_reference.py"), threads))
            out["captum_unavailable"] = captum.reason();
        else
            out["torch"] = captum.torch_version();
    }
    out["threads"] = threads;
    out["rounds"] = rounds;

    // Seeded models and inputs, written once for Captum.
    const std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    Generator gen(1234);
    auto lenet = models::make_model("lenet", {}, gen);
    models::ModelConfig unet_config;
    unet_config.name = "unet";
    unet_config.width = width;
    auto unet = models::make_model(unet_config, gen);
    lenet->eval();
    unet->eval();
    const Tensor lenet_x = uniform({lenet_batch, 1, 28, 28}, 0.0, 1.0, gen);
    const Tensor unet_x = uniform({1, 3, size, size}, -1.0, 1.0, gen);
    std::vector<int64_t> lenet_classes;
    Tensor segments;
    int64_t unet_class = 0, num_segments = 0;
    {
        NoGradGuard no_grad;
        lenet_classes = argmax((*lenet)(lenet_x), 1).to_vector<int64_t>();
        const Tensor out_unet = (*unet)(unet_x);
        segments = argmax(out_unet, 1, true);
        const std::vector<int64_t> seg = segments.to_vector<int64_t>();
        unet_class = seg[0];
        std::vector<int64_t> sorted = seg;
        std::sort(sorted.begin(), sorted.end());
        num_segments = std::unique(sorted.begin(), sorted.end()) - sorted.begin();
    }
    const std::string lenet_path = dir + "/bench_explain_lenet.safetensors";
    const std::string unet_path = dir + "/bench_explain_unet.safetensors";
    auto save = [&](const std::string& path, nn::Module& model, const Tensor& x) {
        nn::NamedTensors tensors;
        for (auto& [name, t] : model.state_dict()) tensors.push_back({"model." + name, t});
        tensors.push_back({"input", x});
        safetensors::save(path, tensors);
    };
    const bool want_lenet = std::find(cases.begin(), cases.end(), "gradcam_lenet") != cases.end();
    if (want_lenet) save(lenet_path, *lenet, lenet_x);
    if (cases.size() > (want_lenet ? 1u : 0u)) save(unet_path, *unet, unet_x);

    const nlohmann::json unet_json = {{"weights", unet_path}, {"width", width}, {"classes", 10}, {"in_channels", 3}};
    for (const std::string& name : cases) {
        Case c;
        c.name = name;
        if (name == "gradcam_lenet") {
            c.ours = [&] {
                explain::grad_cam(*lenet, lenet_x, explain::Target::classes(lenet_classes), "conv.3", false,
                                  explain::Upsample::None);
            };
            c.captum_setup = {{"kind", "setup"},
                              {"case", name},
                              {"weights", lenet_path},
                              {"layer", "conv.3"},
                              {"targets", lenet_classes}};
            c.info = {{"model", "lenet"}, {"batch", lenet_batch}, {"layer", "conv.3"}};
        } else if (name == "gradcam_unet") {
            c.ours = [&] {
                explain::grad_cam(*unet, unet_x, explain::Target::cls(unet_class), layer, false,
                                  explain::Upsample::None);
            };
            c.captum_setup = unet_json;
            c.captum_setup.update({{"kind", "setup"}, {"case", name}, {"layer", layer}, {"target", unet_class}});
            c.info = {{"model", "unet"}, {"width", width}, {"size", size}, {"layer", layer}, {"class", unet_class}};
        } else if (name == "ig_unet") {
            explain::IgOptions options;
            options.n_steps = steps;
            options.internal_batch_size = internal_batch;
            c.ours = [&, options] {
                explain::integrated_gradients(*unet, unet_x, explain::Target::cls(unet_class), options);
            };
            c.captum_setup = unet_json;
            c.captum_setup.update({{"kind", "setup"},
                                   {"case", "ig_unet"},
                                   {"target", unet_class},
                                   {"steps", steps},
                                   {"internal_batch", internal_batch}});
            c.info = {{"model", "unet"},
                      {"width", width},
                      {"size", size},
                      {"steps", steps},
                      {"internal_batch", internal_batch},
                      {"method", "gausslegendre"}};
        } else if (name == "fa_unet") {
            c.ours = [&] {
                explain::AblationOptions options;
                options.perturbations_per_eval = 2;
                explain::feature_ablation(*unet, unet_x, explain::Target::cls(unet_class),
                                          explain::predicted_segments(*unet, unet_x), options);
            };
            c.captum_setup = unet_json;
            c.captum_setup.update({{"kind", "setup"}, {"case", name}, {"target", unet_class}});
            c.info = {{"model", "unet"},
                      {"width", width},
                      {"size", size},
                      {"segments", num_segments},
                      {"perturbations_per_eval", 2},
                      {"note", "ours includes computing the predicted segments"}};
        } else {
            usage("unknown case '" + name + "'; valid: gradcam_lenet, gradcam_unet, ig_unet, fa_unet");
        }
        out[name] = run_case(c, flags.has("no-captum") ? nullptr : &captum, rounds, warmup);
    }
    if (flags.has("captum-none") && captum.available()) {
        // Captum's default internal_batch_size=None: every step of the image in one batch (Captum only).
        nlohmann::json setup = unet_json;
        setup.update({{"kind", "setup"},
                      {"case", "ig_unet"},
                      {"target", unet_class},
                      {"steps", steps},
                      {"internal_batch", nullptr}});
        nlohmann::json none;
        if (captum.time_ms(setup.dump())) {
            const auto ms = captum.time_ms(R"({"kind": "run"})");
            if (ms)
                none["captum_ms"] = *ms;
            else
                none["captum_error"] = captum.last_error();
        } else {
            none["captum_error"] = captum.last_error();
        }
        out["ig_unet_captum_internal_batch_none"] = none;
    }
    std::remove(lenet_path.c_str());
    std::remove(unet_path.c_str());
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
