// The apps' shared pieces: progress output, bounded runs, the NaN message, seeds, device selection, exit codes,
// and the training apps' command-line conventions, model set-up and summary line.
#include <CLI/CLI.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "apps/common/app_main.h"
#include "apps/common/flags.h"
#include "apps/common/progress.h"
#include "apps/common/training.h"
#include "common/test_util.h"
#include "models/model.h"
#include "runtime/cuda_device.h"

using namespace engine;
using namespace engine::apps;

namespace {

std::string read_stream(FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
    return out;
}

// parse_training_command_line on `args` (the program name comes first).
std::optional<int> parse_training(CLI::App& app, CommonFlags& flags, std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    return parse_training_command_line(app, flags, static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST(ProgressTest, PlainLinesEveryNSteps) {
    FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Progress p("epoch 1/2", 25, 10, f, 0);
    for (int64_t i = 1; i <= 25; ++i) p.update(i, 1.0 / static_cast<double>(i), 4);
    p.finish("done");
    const std::string text = read_stream(f);
    std::fclose(f);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;  // steps 10, 20, 25 and the summary
    EXPECT_NE(text.find("epoch 1/2 10/25"), std::string::npos) << text;
    EXPECT_NE(text.find("epoch 1/2 25/25"), std::string::npos) << text;
    EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(ProgressTest, TerminalRedrawsInPlace) {
    FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Progress p("epoch 1/1", 3, 0, f, 1);
    for (int64_t i = 1; i <= 3; ++i) p.update(i, 0.5, 2);
    p.finish("");
    const std::string text = read_stream(f);
    std::fclose(f);
    EXPECT_NE(text.find('\r'), std::string::npos);
    EXPECT_NE(text.find("3/3"), std::string::npos);
    EXPECT_NE(text.find("ETA"), std::string::npos);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
}

TEST(ProgressTest, FormatsDurations) {
    EXPECT_EQ(format_duration(0), "0:00");
    EXPECT_EQ(format_duration(65), "1:05");
    EXPECT_EQ(format_duration(3723), "1:02:03");
    EXPECT_EQ(format_duration(std::nan("")), "?");
}

TEST(TrainingTest, StopRuleCountsSteps) {
    StopRule rule(5, 0);
    EXPECT_FALSE(rule.reached(4));
    EXPECT_TRUE(rule.reached(5));
    EXPECT_EQ(rule.reason(5), "--max-steps 5");
    EXPECT_FALSE(StopRule(0, 0).reached(1000000));
}

TEST(TrainingTest, NonFiniteLossNamesStepAndEpoch) {
    EXPECT_NO_THROW(check_finite(1.5, "loss", 3, 1, 3, 10, "kept"));
    try {
        check_finite(std::nan(""), "loss", 17, 2, 7, 10, "last.safetensors is kept");
        FAIL() << "no error";
    } catch (const NonFiniteError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("step 17"), std::string::npos) << what;
        EXPECT_NE(what.find("epoch 2"), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos);
    }
}

TEST(TrainingTest, MixSeedSeparatesCoordinates) {
    EXPECT_EQ(mix_seed(1, 2, 3), mix_seed(1, 2, 3));
    EXPECT_NE(mix_seed(1, 2, 3), mix_seed(1, 3, 2));
    EXPECT_NE(mix_seed(1, 2), mix_seed(2, 2));
}

TEST(TrainingTest, LossHistoryRoundTripsThroughJson) {
    LossHistory h{{1.0, 0.5}, {0.75}, {std::nan("")}};
    const LossHistory back = LossHistory::from_json(nlohmann::json::parse(h.to_json().dump()));
    EXPECT_EQ(back.step_loss, h.step_loss);
    EXPECT_EQ(back.epoch_loss, h.epoch_loss);
    ASSERT_EQ(back.val_loss.size(), 1u);
    EXPECT_TRUE(std::isnan(back.val_loss[0]));
}

TEST(DeviceSelectionTest, CpuAndBadSpecs) {
    EXPECT_TRUE(select_device("cpu").is_cpu());
    EXPECT_THROW(select_device("tpu"), UsageError);
    if (!cuda::is_available()) {
        EXPECT_TRUE(select_device("auto").is_cpu());
        try {
            select_device("cuda");
            FAIL() << "no error";
        } catch (const DeviceError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("--device cuda: no CUDA device: ", 0), 0u) << e.what();
        }
    }
}

TEST(RunMainTest, MapsExceptionsToExitCodes) {
    EXPECT_EQ(run_main([] { return 0; }), 0);
    EXPECT_EQ(run_main([]() -> int { throw Error("bad"); }), kExitError);
    EXPECT_EQ(run_main([]() -> int { throw UsageError("bad flag"); }), kExitUsage);
    EXPECT_EQ(run_main([]() -> int { throw NonFiniteError("nan"); }), kExitNonFinite);
    EXPECT_EQ(run_main([]() -> int { throw std::runtime_error("other"); }), kExitError);
}

TEST(TrainingAppTest, CommandLineTakesTheLastOfARepeatedFlagAndAddsTheCommonFlags) {
    CLI::App app{"test", "test"};
    use_training_conventions(app);
    int64_t width = 0;
    app.add_option("--width", width);
    CommonFlags flags;
    const std::optional<int> code = parse_training(
        app, flags, {"test", "--width", "4", "--width", "8", "--batch", "2", "--batch", "16", "--lr", "0.5"});
    EXPECT_FALSE(code.has_value());
    EXPECT_EQ(width, 8);
    EXPECT_EQ(flags.batch, 16);
    EXPECT_EQ(flags.lr, 0.5);
    EXPECT_NE(app.get_footer().find("Exit codes:"), std::string::npos) << app.get_footer();
}

TEST(TrainingAppTest, SettingsNameBatchLearningRateAndDevice) {
    CommonFlags flags;
    flags.batch = 16;
    flags.lr = 0.003;
    CommonSetup setup;
    setup.device = Device::cpu();
    EXPECT_EQ(training_settings(flags, setup), "batch 16, Adam lr 0.003; " + describe_device(Device::cpu()));
    EXPECT_EQ(describe_device(Device::cpu()).rfind("cpu (", 0), 0u);
}

TEST(TrainingAppTest, ModelWeightsFollowTheSeed) {
    models::ModelConfig config;
    config.name = "lenet";
    config.in_channels = 1;
    config.num_classes = 4;
    CommonSetup setup;
    setup.device = Device::cpu();
    setup.seed = 7;
    const auto first = make_training_model(config, setup)->parameters();
    const auto again = make_training_model(config, setup)->parameters();
    setup.seed = 8;
    const auto other = make_training_model(config, setup)->parameters();
    ASSERT_FALSE(first.empty());
    ASSERT_EQ(first.size(), other.size());
    EXPECT_TRUE(test::all_close(again[0], first[0], 0.0, 0.0));
    EXPECT_FALSE(test::all_close(other[0], first[0], 0.0, 0.0));
    EXPECT_TRUE(first[0].device().is_cpu());
}
