// train_classifier as a user runs it: LeNet on IDX files with exact resume, VGG on an image folder, multi-label
// training from a CSV with tuned thresholds, the model card in the checkpoints, Ctrl-C/SIGTERM, and bad inputs.
// Tiny synthetic data in temporary folders.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "app_test_util.h"
#include "kernels/factories.h"
#include "models/checkpoint.h"
#include "runtime/safetensors.h"

#ifndef TRAIN_CLASSIFIER_BIN
#error "tests/apps needs TRAIN_CLASSIFIER_BIN (set by apps/CMakeLists.txt)"
#endif

using namespace engine;
using namespace engine::apps::test;
namespace fs = std::filesystem;

namespace {

AppResult train(const std::vector<std::string>& args) { return run_app(TRAIN_CLASSIFIER_BIN, args); }

std::vector<double> numbers(const std::string& json, const char* key) {
    return nlohmann::json::parse(json).at(key).get<std::vector<double>>();
}

class TrainClassifierTest : public ::testing::Test {
protected:
    void SetUp() override { write_idx_set(dir / "idx", 64, 40, 4); }
    // LeNet, 64 samples in batches of 16: 4 steps an epoch.
    std::vector<std::string> idx_args(const std::string& out) const {
        return {"--data", dir / "idx", "--out", out, "--batch", "16", "--threads", "1", "--lr", "0.003"};
    }
    TempDir dir;
};

}  // namespace

TEST_F(TrainClassifierTest, LenetOnIdxReportsAccuracyAndConfusion) {
    const AppResult r = train(with(idx_args(dir / "out"), {"--epochs", "3"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_EQ(report.at("data").at("layout"), "idx");
    EXPECT_EQ(report.at("model").at("name"), "lenet");
    ASSERT_EQ(report.at("epochs").size(), 3u);
    const nlohmann::json& last = report.at("epochs").back();
    // IDX files carry no class names: the MNIST layout's ten digits are the classes (only 0-3 occur here).
    const auto matrix = last.at("confusion").get<std::vector<std::vector<int64_t>>>();
    ASSERT_EQ(matrix.size(), 10u);
    int64_t total = 0, correct = 0;
    for (size_t t = 0; t < 10; ++t)
        for (size_t p = 0; p < 10; ++p) total += matrix[t][p], correct += t == p ? matrix[t][p] : 0;
    EXPECT_EQ(total, 40);
    EXPECT_DOUBLE_EQ(last.at("accuracy").get<double>(), static_cast<double>(correct) / 40.0);
    EXPECT_GT(last.at("accuracy").get<double>(), 0.5) << "bands of light are easy to tell apart";
    EXPECT_NE(r.out.find("confusion"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(dir / "out/loss.png"));
    EXPECT_TRUE(fs::exists(dir / "out/best.safetensors"));
}

TEST_F(TrainClassifierTest, ResumedRunContinuesTheSameLossCurve) {
    ASSERT_EQ(train(with(idx_args(dir / "whole"), {"--epochs", "2"})).exit_code, 0);
    const auto expected = read_json(dir / "whole/metrics.json").at("loss").at("step_loss").get<std::vector<double>>();
    ASSERT_EQ(expected.size(), 8u);
    const AppResult first = train(with(idx_args(dir / "part"), {"--epochs", "2", "--max-steps", "2"}));
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    const AppResult rest =
        train(with(idx_args(dir / "part"), {"--epochs", "2", "--resume", dir / "part/last.safetensors"}));
    ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
    EXPECT_EQ(read_json(dir / "part/metrics.json").at("loss").at("step_loss").get<std::vector<double>>(), expected);
}

TEST_F(TrainClassifierTest, LenetOnAnImageFolder) {
    write_image_folder(dir / "folder", {"train", "val"}, 3, 4, 20);
    const AppResult r = train({"--data", dir / "folder", "--batch", "4", "--threads", "1", "--epochs", "2", "--out",
                               dir / "out"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_EQ(report.at("data").at("layout"), "image-folder");
    EXPECT_EQ(report.at("model").at("num_classes"), 3);
    EXPECT_EQ(report.at("epochs").back().at("val_samples"), 12);
    EXPECT_EQ(report.at("epochs").back().at("confusion").size(), 3u);
}

// VGG's classifier has dropout: a resumed run must draw the same masks. (VGG checkpoints are ~110 MB: few runs.)
TEST_F(TrainClassifierTest, VggWithDropoutResumesExactly) {
    write_image_folder(dir / "folder", {"train", "val"}, 3, 2, 32);
    const std::vector<std::string> args = {"--data", dir / "folder", "--model", "vgg11", "--classifier-width", "16",
                                           "--batch", "3", "--threads", "1", "--epochs", "1"};
    const AppResult whole = train(with(args, {"--out", dir / "a"}));
    ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
    const nlohmann::json report = read_json(dir / "a/metrics.json");
    EXPECT_EQ(report.at("model").at("name"), "vgg11");
    ASSERT_EQ(report.at("loss").at("step_loss").size(), 2u);
    ASSERT_EQ(train(with(args, {"--out", dir / "b", "--max-steps", "1"})).exit_code, 0);
    const AppResult rest = train(with(args, {"--out", dir / "b", "--resume", dir / "b/last.safetensors"}));
    ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
    EXPECT_EQ(read_json(dir / "b/metrics.json").at("loss").at("step_loss"), report.at("loss").at("step_loss"));
}

TEST_F(TrainClassifierTest, MultiLabelCsvTunesThresholds) {
    write_multilabel_csv(dir / "ml", 40, 28);
    const AppResult r = train({"--data", dir / "ml/labels.csv", "--multilabel", "--batch", "8", "--epochs", "2",
                               "--threads", "1", "--out", dir / "out"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_EQ(report.at("data").at("layout"), "multilabel-csv");
    EXPECT_EQ(report.at("data").at("val"), 8);
    const nlohmann::json& last = report.at("epochs").back();
    ASSERT_EQ(last.at("thresholds").size(), 3u);
    for (const char* name : {"red", "green", "blue"}) EXPECT_TRUE(last.at("per_class").contains(name)) << name;
    EXPECT_TRUE(last.contains("macro_f1"));
    EXPECT_TRUE(last.contains("micro_f1_at_0.5"));
    EXPECT_NE(r.out.find("macro F1"), std::string::npos) << r.out;
}

TEST_F(TrainClassifierTest, BadInputsGiveOneLine) {
    expect_one_error_line(train({"--data", dir / "nowhere", "--out", dir / "out"}), "nowhere");
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--model", "resnet"})), "--model resnet", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--size", "30"})), "--size", 2);
    // Values CLI11's own checks let through: NaN compares false with every limit, -1 wraps around unsigned.
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--lr", "nan"})),
                          "--lr: must be a finite number > 0, got nan", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--lr", "inf"})), "--lr", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--time-limit", "nan"})), "--time-limit", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--clip-grad-norm", "nan"})), "--clip-grad-norm", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--seed", "-1"})), "--seed: must be an integer >= 0",
                          2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--threads", "100000"})),
                          "--threads: must be 0 (all cores) to 1024 threads, got 100000", 2);
    const AppResult range = train(with(idx_args(dir / "out"), {"--batch", "-3"}));
    expect_one_error_line(range, "--batch", 2);
    EXPECT_LT(range.err.size(), 200u) << "a range message without a 309-digit limit: " << range.err;
    EXPECT_FALSE(fs::exists(dir / "out")) << "flag errors come before anything is written";
    write_multilabel_csv(dir / "ml", 4, 32);
    expect_one_error_line(train({"--data", dir / "ml/labels.csv", "--out", dir / "out"}), "--multilabel");
    fs::create_directories(dir / "empty");
    expect_one_error_line(train({"--data", dir / "empty", "--out", dir / "out"}), "empty");

    // An output folder that cannot be written is named before the first step, not after an epoch.
    expect_one_error_line(train(with(idx_args("/proc/self"), {"--epochs", "50"})), "--out /proc/self: cannot write");
    std::ofstream(dir / "a_file") << "x";
    expect_one_error_line(train(with(idx_args(dir / "a_file/out"), {"--epochs", "50"})), "cannot create the folder");

    write_idx_set(dir / "cut", 64, 40, 4);
    truncate_file(dir / "cut/train-images-idx3-ubyte", 1000);
    expect_one_error_line(train({"--data", dir / "cut", "--out", dir / "out"}), "train-images-idx3-ubyte");
}

TEST_F(TrainClassifierTest, AFailedCheckpointWriteIsTheErrorShownNotTheReports) {
    // Files may not grow past 4 KiB: the first checkpoint (about 0.5 MB with Adam's state) cannot be written, and
    // the report written on the way out may fail too; the user must see the checkpoint's error.
    std::vector<std::string> args{"--fsize=4096", TRAIN_CLASSIFIER_BIN};
    for (const std::string& a : with(idx_args(dir / "out"), {"--epochs", "1"})) args.push_back(a);
    const AppResult r = run_app("/usr/bin/prlimit", args);
    expect_one_error_line(r, "last.safetensors.tmp: File too large");
    EXPECT_EQ(r.err.find("metrics.json"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out/last.safetensors"));
}

TEST_F(TrainClassifierTest, ResumeRefusesCheckpointsOfOtherModelsAndApps) {
    ASSERT_EQ(train(with(idx_args(dir / "lenet"), {"--epochs", "1"})).exit_code, 0);
    write_image_folder(dir / "folder", {"train", "val"}, 4, 2, 32);
    expect_one_error_line(train({"--data", dir / "folder", "--model", "vgg11", "--classifier-width", "16", "--out",
                                 dir / "vgg", "--resume", dir / "lenet/last.safetensors"}),
                          "lenet");
    write_segmentation_folder(dir / "seg", 3, 32);
    const AppResult unet = run_app(TRAIN_UNET_BIN, {"--data", dir / "seg", "--out", dir / "unet", "--size", "32",
                                                    "--width", "4", "--epochs", "1", "--threads", "1"});
    ASSERT_EQ(unet.exit_code, 0) << unet.out << unet.err;
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--resume", dir / "unet/last.safetensors"})),
                          "train_unet");

    // A checkpoint whose weights diverged is refused by name, not resumed into "try a lower --lr".
    safetensors::Contents diverged = safetensors::load(dir / "lenet/last.safetensors");
    for (auto& [name, t] : diverged.tensors)
        if (name == "model.conv.0.bias") t = full(t.shape(), INFINITY, t.dtype());
    safetensors::save(dir / "lenet/last.safetensors", diverged.tensors, diverged.metadata);
    expect_one_error_line(train(with(idx_args(dir / "lenet"), {"--epochs", "2", "--resume", dir / "lenet/last.safetensors"})),
                          "tensor model.conv.0.bias (0 NaN, 6 infinite of 6 values) holds NaN or infinite values");
}

TEST_F(TrainClassifierTest, NanLossBeforeAnyCheckpoint) {
    const AppResult r = train(with(idx_args(dir / "out"), {"--epochs", "2", "--debug-nan-at-step", "2"}));
    expect_one_error_line(r, "step 2", 3);
    EXPECT_NE(r.err.find("epoch 1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no checkpoint was written yet"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out/last.safetensors"));
}

TEST(TrainClassifierCliTest, HelpListsTheFlags) {
    const AppResult help = run_app(TRAIN_CLASSIFIER_BIN, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* flag : {"--data", "--model", "--size", "--multilabel", "--epochs", "--batch", "--lr", "--device",
                             "--out", "--resume", "--seed", "--max-steps", "--time-limit", "--threads"})
        EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
}

TEST_F(TrainClassifierTest, CheckpointsCarryTheModelCard) {
    ASSERT_EQ(train(with(idx_args(dir / "out"), {"--epochs", "1"})).exit_code, 0);
    for (const char* file : {"last.safetensors", "best.safetensors"}) {
        SCOPED_TRACE(file);
        const std::map<std::string, std::string> extra =
            checkpoint::read_info(dir / ("out/" + std::string(file))).extra;
        // The folder's name has no "fashion": the MNIST layout, digits as names and MNIST's normalisation.
        EXPECT_EQ(nlohmann::json::parse(extra.at("class_names")),
                  nlohmann::json({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
        EXPECT_EQ(extra.at("task"), "classification");
        EXPECT_EQ(extra.at("input_channels"), "1");
        EXPECT_EQ(numbers(extra.at("normalize"), "mean"), std::vector<double>{0.1307});
        EXPECT_EQ(numbers(extra.at("normalize"), "std"), std::vector<double>{0.3081});
        EXPECT_EQ(extra.at("input_size"), "28x28");
        EXPECT_EQ(extra.at("resize"), "resize");
        EXPECT_EQ(extra.at("dataset_kind"), "idx");
        EXPECT_EQ(extra.at("dataset_path"), dir / "idx");
    }

    write_image_folder(dir / "folder", {"train", "val"}, 3, 2, 20);
    ASSERT_EQ(train({"--data", dir / "folder", "--batch", "4", "--threads", "1", "--epochs", "1", "--out",
                     dir / "folder_out"})
                  .exit_code,
              0);
    const std::map<std::string, std::string> extra = checkpoint::read_info(dir / "folder_out/last.safetensors").extra;
    EXPECT_EQ(nlohmann::json::parse(extra.at("class_names")), nlohmann::json({"class0", "class1", "class2"}));
    EXPECT_EQ(extra.at("input_channels"), "1");  // LeNet reads the RGB images as gray
    EXPECT_EQ(numbers(extra.at("normalize"), "mean"), std::vector<double>{0.5});
    EXPECT_EQ(extra.at("dataset_kind"), "image-folder");

    write_multilabel_csv(dir / "ml", 12, 28);
    ASSERT_EQ(train({"--data", dir / "ml/labels.csv", "--multilabel", "--batch", "4", "--epochs", "1", "--threads",
                     "1", "--out", dir / "ml_out"})
                  .exit_code,
              0);
    const std::map<std::string, std::string> ml = checkpoint::read_info(dir / "ml_out/last.safetensors").extra;
    EXPECT_EQ(ml.at("task"), "multilabel");
    EXPECT_EQ(ml.at("dataset_kind"), "multilabel-csv");
    auto names = nlohmann::json::parse(ml.at("class_names")).get<std::vector<std::string>>();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"blue", "green", "red"}));
}

// Ctrl-C: the current step finishes, last.safetensors is saved at the position reached, one line says how to
// resume, the exit status is 130, and --resume continues the same loss curve.
TEST_F(TrainClassifierTest, InterruptSavesACheckpointThatResumesExactly) {
    // Far more epochs than run before the signal; --time-limit ends a run whose handler failed.
    const std::vector<std::string> args =
        with(idx_args(dir / "out"), {"--epochs", "100000", "--log-every", "1", "--time-limit", "2"});
    AppResult r;
    {
        RunningApp app(TRAIN_CLASSIFIER_BIN, args);
        ASSERT_TRUE(app.wait_for_output("epoch 1/100000 1/4", 60)) << app.wait().err;
        app.send(SIGINT);
        r = app.wait();
    }
    EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
    const std::vector<std::string> lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[0], m,
                                 std::regex(R"(interrupted at epoch (\d+) step (\d+); saved (\S+); )"
                                            R"(resume with the same command and --resume (\S+))")))
        << lines[0];
    const int64_t epoch = std::stoll(m[1]), step = std::stoll(m[2]);
    const std::string last = dir / "out/last.safetensors";
    EXPECT_EQ(m[3], last);
    EXPECT_EQ(m[4], last);
    ASSERT_GE(step, 1);
    EXPECT_EQ(epoch, step / 4 + 1);  // 4 steps an epoch; an epoch's last step finishes the epoch first
    EXPECT_EQ(checkpoint::read_info(last).step, step);
    EXPECT_NO_THROW(checkpoint::load_model(last));
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_NE(report.at("status").get<std::string>().find("interrupted by SIGINT"), std::string::npos);
    EXPECT_EQ(step_losses(dir / "out").size(), static_cast<size_t>(step));

    // Resumed two steps further: the losses of an uninterrupted run of that length.
    const std::string until = std::to_string(step + 2);
    const AppResult rest = train(with(args, {"--resume", last, "--max-steps", until}));
    ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
    const AppResult whole = train(with(idx_args(dir / "whole"), {"--epochs", "100000", "--max-steps", until}));
    ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
    EXPECT_EQ(step_losses(dir / "out"), step_losses(dir / "whole"));
}

// A second signal quits at once; whether it landed before, during or after the save, last.safetensors is a whole
// checkpoint (the previous one or the new one) and resumes.
TEST_F(TrainClassifierTest, SecondSignalQuitsWithoutCorruptingTheCheckpoint) {
    AppResult r;
    {
        RunningApp app(TRAIN_CLASSIFIER_BIN,
                       with(idx_args(dir / "out"), {"--epochs", "100000", "--log-every", "1", "--time-limit", "2"}));
        ASSERT_TRUE(app.wait_for_output("epoch 2/100000 1/4", 60)) << app.wait().err;  // epoch 1 is saved
        app.send(SIGTERM);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        app.send(SIGTERM);
        r = app.wait();
    }
    EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
    EXPECT_TRUE(r.err.find("second interrupt: quitting without saving") != std::string::npos ||
                r.err.find("interrupted at epoch") != std::string::npos)
        << r.err;
    const std::string last = dir / "out/last.safetensors";
    const checkpoint::Info info = checkpoint::read_info(last);
    EXPECT_GE(info.step, 4);
    EXPECT_NO_THROW(checkpoint::load_model(last));
    const AppResult rest = train(with(idx_args(dir / "out"), {"--epochs", std::to_string(info.epoch + 1), "--resume",
                                                             last}));
    EXPECT_EQ(rest.exit_code, 0) << rest.out << rest.err;
}

// --precision: bf16 and fp16 train with autocast (fp16 with loss scaling, whose scale a resumed run restores,
// so the resumed loss curve is the uninterrupted one), the checkpoint records the precision, and tf32 is a
// CUDA format: refused on the CPU before anything is written.
TEST_F(TrainClassifierTest, MixedPrecisionTrainsRecordsItselfAndResumesExactly) {
    for (const std::string precision : {"bf16", "fp16"}) {
        SCOPED_TRACE(precision);
        const std::string out = dir / ("mixed_" + precision);
        const AppResult r = train(with(idx_args(out), {"--epochs", "2", "--precision", precision}));
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        const nlohmann::json report = read_json(out + "/metrics.json");
        EXPECT_EQ(report.at("config").at("precision"), precision);
        EXPECT_GT(report.at("epochs").back().at("accuracy").get<double>(), 0.5);
        const checkpoint::Info info = checkpoint::read_info(out + "/last.safetensors");
        EXPECT_EQ(info.extra.at("precision"), precision);
        const auto state = nlohmann::json::parse(info.extra.at("train_state"));
        if (precision == "fp16") {
            EXPECT_GT(state.at("grad_scale").get<double>(), 0.0);  // 65536 halved once per skipped step
        } else {
            EXPECT_EQ(state.at("grad_scale").get<double>(), 0.0);
        }
    }
    // A first loss scale of 2^24 overflows float16 gradients: the first steps are skipped and the scale halves
    // until they fit. A resumed run must continue from the halved scale, or it skips steps the whole run took.
    const std::vector<std::string> fp16 = {"--epochs", "2", "--precision", "fp16", "--debug-init-grad-scale",
                                           "16777216"};
    ASSERT_EQ(train(with(idx_args(dir / "whole"), fp16)).exit_code, 0);
    const auto expected = read_json(dir / "whole/metrics.json").at("loss").at("step_loss");
    const auto whole_state = nlohmann::json::parse(
        checkpoint::read_info(dir / "whole/last.safetensors").extra.at("train_state"));
    EXPECT_LT(whole_state.at("grad_scale").get<double>(), 16777216.0) << "no step was skipped: the test is void";
    ASSERT_EQ(train(with(with(idx_args(dir / "part"), fp16), {"--max-steps", "3"})).exit_code, 0);
    const AppResult rest = train(with(with(idx_args(dir / "part"), fp16), {"--resume", dir / "part/last.safetensors"}));
    ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
    EXPECT_EQ(read_json(dir / "part/metrics.json").at("loss").at("step_loss"), expected);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--precision", "tf32"})), "--precision tf32", 2);
    expect_one_error_line(train(with(idx_args(dir / "out"), {"--precision", "int8"})), "--precision", 2);
    EXPECT_FALSE(fs::exists(dir / "out"));
}
