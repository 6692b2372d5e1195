// bench_train: training speed against PyTorch in the same run, ours and theirs alternating, medians reported.
//   lenet  one epoch of LeNet on Fashion-MNIST, batch 32, Adam 1e-3 (bench/train_lenet_torch.py does the same)
//   unet   training steps of the seed notebook's UNet, Adam (bench/train_unet_torch.py builds the same network)
// Prints one JSON object.
//
//   bench_train lenet [--data DIR] [--rounds 3] [--threads 2] [--limit N] [--python PATH] [--app PATH]
//                    (--app: time the train_classifier binary's epoch, from its metrics.json, instead of the
//                    in-process loop)
//   bench_train unet [--width 64] [--size 256] [--batch 1] [--classes 10] [--in-channels 3] [--steps 5]
//                    [--warmup 2] [--rounds 3] [--threads 2] [--python PATH]
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <unistd.h>
#include <vector>

#include "bench/bench_util.h"
#include "bench/reference.h"
#include "layers/loss.h"
#include "layers/optim.h"
#include "models/model.h"
#include "models/data/datasets.h"
#include "models/data/loader.h"
#include "runtime/parallel.h"

using namespace engine;

namespace {

using bench::median;
using bench::shell_quote;

[[noreturn]] void usage(const std::string& message, int status = 2) {
    bench::exit_with_usage("bench_train", message, status,
                           "usage: bench_train lenet [--data DIR] [--rounds N] [--threads N] [--limit N] "
                           "[--python PATH] [--app PATH]\n"
                           "       bench_train unet [--width W] [--size S] [--batch B] [--classes C] "
                           "[--in-channels N] [--steps N] [--warmup N] [--rounds N] [--threads N] [--python PATH]\n");
}

// Runs bench/`script` under `python` and returns the JSON object of its last output line (null on failure).
nlohmann::json run_torch(const std::string& python, const std::string& script, const std::vector<std::string>& args) {
    const auto line = bench::run_script(python, bench::bench_file(script), args);
    return line ? nlohmann::json::parse(*line, nullptr, false) : nlohmann::json(nullptr);
}

// Ours over the reference's median, null when the reference failed every round.
nlohmann::json ratio_or_null(const std::vector<double>& ours, const std::vector<double>& theirs) {
    return theirs.empty() ? nlohmann::json(nullptr) : nlohmann::json(median(ours) / median(theirs));
}

// The medians of both sides and their ratio (the reference's null when it failed every round).
nlohmann::json medians_json(const std::vector<double>& ours, const std::vector<double>& theirs) {
    return {{"ours_median", median(ours)},
            {"torch_median", theirs.empty() ? nlohmann::json(nullptr) : nlohmann::json(median(theirs))},
            {"ratio_ours_to_torch", ratio_or_null(ours, theirs)}};
}

// ---------------------------------------------------------------- LeNet epoch

struct LenetResult {
    double epoch_seconds = 0, test_accuracy = 0;
};

LenetResult lenet_epoch(const data::IdxDataset& train, const data::IdxDataset& test, int64_t limit, uint64_t seed) {
    constexpr double kMean = 0.2860, kStd = 0.3530;
    constexpr int64_t kBatch = 32;
    Generator gen(seed);
    auto model = models::make_model("lenet", {}, gen);
    optim::Adam optimizer(model->parameters(), optim::AdamOptions{});
    nn::CrossEntropyLoss criterion;
    const int64_t n = limit > 0 ? std::min(limit, train.size()) : train.size();
    auto batch_of = [&](const Tensor& images, const Tensor& index) {
        return (index_select(images, 0, index).to(DType::Float32).unsqueeze(1) * (1.0 / 255.0) - kMean) * (1.0 / kStd);
    };
    const Tensor order = from_vector<int64_t>(
        [&] {
            std::vector<int64_t> v(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
            std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
            return v;
        }(),
        {n});
    LenetResult result;
    const bench::Stopwatch clock;
    double loss_sum = 0;
    for (int64_t first = 0; first < n; first += kBatch) {
        const Tensor index = order.narrow(0, first, std::min(kBatch, n - first));
        optimizer.zero_grad();
        Tensor loss = criterion((*model)(batch_of(train.images(), index)), index_select(train.labels(), 0, index));
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>();
    }
    result.epoch_seconds = clock.seconds();
    model->eval();
    NoGradGuard no_grad;
    int64_t correct = 0;
    for (int64_t first = 0; first < test.size(); first += 1000) {
        const Tensor index = arange(static_cast<double>(first), static_cast<double>(std::min(first + 1000, test.size())));
        const Tensor predicted = argmax((*model)(batch_of(test.images(), index)), 1);
        correct += sum(eq(predicted, index_select(test.labels(), 0, index)).to(DType::Int64)).item<int64_t>();
    }
    result.test_accuracy = static_cast<double>(correct) / static_cast<double>(test.size());
    (void)loss_sum;
    return result;
}

// One epoch of the train_classifier app itself: its metrics.json has the epoch's training seconds.
LenetResult app_epoch(const std::string& app, const std::string& dir, int64_t limit, int threads, uint64_t seed) {
    const std::string out = "/tmp/bench_train_lenet_" + std::to_string(::getpid());
    std::string command = shell_quote(app) + " --data " + shell_quote(dir) + " --epochs 1 --batch 32 --threads " +
                          std::to_string(threads) + " --seed " + std::to_string(seed) + " --limit " +
                          std::to_string(limit) + " --out " + shell_quote(out) + " >/dev/null";
    LenetResult r;
    if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "bench_train: %s failed\n", command.c_str());
        return r;
    }
    std::FILE* f = std::fopen((out + "/metrics.json").c_str(), "rb");
    std::string text;
    if (f) {
        std::array<char, 4096> buffer{};
        size_t n;
        while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0) text.append(buffer.data(), n);
        std::fclose(f);
    }
    const nlohmann::json report = nlohmann::json::parse(text, nullptr, false);
    if (report.is_object()) {
        r.epoch_seconds = report.at("epochs")[0].at("seconds").get<double>();
        r.test_accuracy = report.at("epochs")[0].at("accuracy").get<double>();
    }
    std::system(("rm -rf " + shell_quote(out)).c_str());
    return r;
}

int bench_lenet(const bench::Flags& flags, const std::string& python, int threads, int rounds) {
    const std::string dir = flags.get("data", "/usr/share/datasets/fashion-mnist");
    const int64_t limit = flags.get_int("limit", 0);
    auto train = data::fashion_mnist(dir, true);
    auto test = data::fashion_mnist(dir, false);
    std::vector<double> ours, theirs;
    nlohmann::json ours_acc = nlohmann::json::array(), theirs_acc = nlohmann::json::array();
    for (int r = 0; r < rounds; ++r) {
        const std::string app = flags.get("app", "");
        const LenetResult mine = app.empty() ? lenet_epoch(*train, *test, limit, static_cast<uint64_t>(r + 1))
                                             : app_epoch(app, dir, limit, threads, static_cast<uint64_t>(r + 1));
        ours.push_back(mine.epoch_seconds);
        ours_acc.push_back(mine.test_accuracy);
        const nlohmann::json t = run_torch(python, "train_lenet_torch.py",
                                           {"--data", dir, "--threads", std::to_string(threads), "--limit",
                                            std::to_string(limit), "--seed", std::to_string(r + 1)});
        if (t.is_object()) {
            theirs.push_back(t.at("epoch_seconds").get<double>());
            theirs_acc.push_back(t.at("test_accuracy"));
        }
        std::fprintf(stderr, "round %d: ours %.2f s, torch %s s\n", r + 1, mine.epoch_seconds,
                     t.is_object() ? std::to_string(t.at("epoch_seconds").get<double>()).c_str() : "-");
    }
    nlohmann::json report = {
        {"bench", "lenet_epoch"},
        {"recipe", "LeNet, Fashion-MNIST, batch 32, Adam 1e-3, one epoch"},
        {"ours", flags.get("app", "").empty() ? "in-process loop" : "the train_classifier app"},
        {"threads", threads},
        {"images", limit > 0 ? std::min<int64_t>(limit, train->size()) : train->size()},
        {"ours_seconds", ours},
        {"torch_seconds", theirs},
        {"ours_test_accuracy_after_1_epoch", ours_acc},
        {"torch_test_accuracy_after_1_epoch", theirs_acc}};
    report.update(medians_json(ours, theirs));
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
}

// ---------------------------------------------------------------- UNet step

int bench_unet(const bench::Flags& flags, const std::string& python, int threads, int rounds) {
    models::ModelConfig config;
    config.name = "unet";
    config.width = flags.get_int("width", 64);
    config.in_channels = flags.get_int("in-channels", 3);
    config.num_classes = flags.get_int("classes", 10);
    const int64_t size = flags.get_int("size", 256), batch = flags.get_int("batch", 1);
    const int64_t steps = flags.get_int("steps", 5), warmup = flags.get_int("warmup", 2);
    std::vector<double> ours, theirs, ours_eval, theirs_eval;
    for (int r = 0; r < rounds; ++r) {
        Generator gen(static_cast<uint64_t>(r + 1));
        auto model = models::make_model(config, gen);
        optim::Adam optimizer(model->parameters(), optim::AdamOptions{});
        nn::CrossEntropyLoss criterion;
        const Tensor x = randn({batch, config.in_channels, size, size}, gen);
        const Tensor y = floor(rand({batch, size, size}, gen) * static_cast<double>(config.num_classes)).to(DType::Int64);
        std::vector<double> times;
        for (int64_t s = 0; s < warmup + steps; ++s) {
            const bench::Stopwatch clock;
            optimizer.zero_grad();
            Tensor loss = criterion((*model)(x), y);
            loss.backward();
            optimizer.step();
            (void)loss.item<double>();
            if (s >= warmup) times.push_back(clock.seconds());
        }
        ours.push_back(median(times));
        {
            model->eval();
            NoGradGuard no_grad;
            (void)(*model)(x);
            const bench::Stopwatch clock;
            (void)sum((*model)(x)).item<double>();
            ours_eval.push_back(clock.seconds());
        }
        const nlohmann::json t = run_torch(
            python, "train_unet_torch.py",
            {"--width", std::to_string(config.width), "--in-channels", std::to_string(config.in_channels),
             "--classes", std::to_string(config.num_classes), "--size", std::to_string(size), "--batch",
             std::to_string(batch), "--steps", std::to_string(steps), "--warmup", std::to_string(warmup),
             "--threads", std::to_string(threads)});
        if (t.is_object()) {
            theirs.push_back(t.at("step_seconds").get<double>());
            theirs_eval.push_back(t.at("eval_seconds").get<double>());
        }
        std::fprintf(stderr, "round %d: ours %.3f s/step, torch %s s/step\n", r + 1, ours.back(),
                     t.is_object() ? std::to_string(t.at("step_seconds").get<double>()).c_str() : "-");
    }
    nlohmann::json report = {
        {"bench", "unet_train_step"},
        {"model", nlohmann::json::parse(config.resolved().to_json())},
        {"input", {batch, config.in_channels, size, size}},
        {"threads", threads},
        {"steps_per_round", steps},
        {"ours_step_seconds", ours},
        {"torch_step_seconds", theirs},
        {"ours_eval_seconds", ours_eval},
        {"torch_eval_seconds", theirs_eval},
        {"eval_ratio_ours_to_torch", ratio_or_null(ours_eval, theirs_eval)}};
    report.update(medians_json(ours, theirs));
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) usage("which bench: lenet or unet");
    const std::string which = argv[1];
    if (which == "--help" || which == "-h") usage("training speed against PyTorch, ours and theirs alternating", 0);
    const bench::Flags flags(argc, argv, 2, {}, [](const std::string& m) { usage(m); });
    const std::string python = flags.get("python", bench::default_python("/opt/torchenv/bin/python"));
    const int threads = static_cast<int>(flags.get_int("threads", 2));
    const int rounds = static_cast<int>(flags.get_int("rounds", 3));
    set_num_threads(threads);
    try {
        if (which == "lenet") return bench_lenet(flags, python, threads, rounds);
        if (which == "unet") return bench_unet(flags, python, threads, rounds);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    usage("unknown bench " + which);
}
