// train_classifier as a user runs it: LeNet on IDX files with exact resume, VGG on an image folder, multi-label
// training from a CSV with tuned thresholds, and bad inputs. Tiny synthetic data in temporary folders.
#include <gtest/gtest.h>

#include <filesystem>

#include "app_test_util.h"
#include "models/checkpoint.h"

#ifndef TRAIN_CLASSIFIER_BIN
#error "tests/apps needs TRAIN_CLASSIFIER_BIN (set by apps/CMakeLists.txt)"
#endif

using namespace engine;
using namespace engine::apps::test;
namespace fs = std::filesystem;

namespace {

AppResult train(const std::vector<std::string>& args) { return run_app(TRAIN_CLASSIFIER_BIN, args); }

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

void expect_one_error_line(const AppResult& r, const std::string& what, int code = 1) {
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    const std::vector<std::string> lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("error: ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
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
    write_multilabel_csv(dir / "ml", 4, 32);
    expect_one_error_line(train({"--data", dir / "ml/labels.csv", "--out", dir / "out"}), "--multilabel");
    fs::create_directories(dir / "empty");
    expect_one_error_line(train({"--data", dir / "empty", "--out", dir / "out"}), "empty");

    write_idx_set(dir / "cut", 64, 40, 4);
    truncate_file(dir / "cut/train-images-idx3-ubyte", 1000);
    expect_one_error_line(train({"--data", dir / "cut", "--out", dir / "out"}), "train-images-idx3-ubyte");
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
