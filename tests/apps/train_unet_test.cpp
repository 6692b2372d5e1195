// train_unet as a user runs it: exact resume, bad inputs (one error line, non-zero exit), the NaN guard, device
// selection and the files a run writes. Tiny models on tiny synthetic data in temporary folders.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "app_test_util.h"
#include "models/checkpoint.h"
#include "runtime/cuda_device.h"

#ifndef TRAIN_UNET_BIN
#error "tests/apps needs TRAIN_UNET_BIN (set by apps/CMakeLists.txt)"
#endif

using namespace engine;
using namespace engine::apps::test;
namespace fs = std::filesystem;

namespace {

// 6 slices of 32x32: 4 for training (batch 1: 4 steps an epoch), 2 for validation; a width-4 UNet.
std::vector<std::string> tiny_args(const std::string& data, const std::string& out) {
    return {"--data", data, "--out", out, "--size", "32", "--width", "4", "--batch", "1", "--train-range", "0-3",
            "--val-range", "4-5", "--threads", "1", "--lr", "0.01"};
}

AppResult train(const std::vector<std::string>& args) { return run_app(TRAIN_UNET_BIN, args); }

class TrainUnetTest : public ::testing::Test {
protected:
    void SetUp() override { write_segmentation_folder(dir / "seg", 6, 32); }
    TempDir dir;
};

}  // namespace

TEST_F(TrainUnetTest, ResumedRunsContinueTheSameLossCurve) {
    const AppResult whole = train(with(tiny_args(dir / "seg", dir / "whole"), {"--epochs", "2"}));
    ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
    const std::vector<double> expected = step_losses(dir / "whole");
    ASSERT_EQ(expected.size(), 8u);

    // Stopped in the middle of epoch 1, then resumed.
    const AppResult first = train(with(tiny_args(dir / "seg", dir / "mid"), {"--epochs", "2", "--max-steps", "3"}));
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("stopped by --max-steps 3"), std::string::npos) << first.out;
    EXPECT_EQ(step_losses(dir / "mid").size(), 3u);
    const AppResult rest =
        train(with(tiny_args(dir / "seg", dir / "mid"), {"--epochs", "2", "--resume", dir / "mid/last.safetensors"}));
    ASSERT_EQ(rest.exit_code, 0) << rest.out << rest.err;
    EXPECT_EQ(step_losses(dir / "mid"), expected);

    // Stopped at an epoch boundary, resumed into a new output folder.
    const AppResult a = train(with(tiny_args(dir / "seg", dir / "edge"), {"--epochs", "2", "--max-steps", "4"}));
    ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
    const AppResult b = train(
        with(tiny_args(dir / "seg", dir / "edge2"), {"--epochs", "2", "--resume", dir / "edge/last.safetensors"}));
    ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
    EXPECT_EQ(step_losses(dir / "edge2"), expected);
    const nlohmann::json report = read_json(dir / "edge2/metrics.json"), full = read_json(dir / "whole/metrics.json");
    EXPECT_EQ(report.at("epochs").back().at("mean_iou"), full.at("epochs").back().at("mean_iou"));
}

TEST_F(TrainUnetTest, WritesReportPicturesAndCheckpoints) {
    const AppResult r = train(with(tiny_args(dir / "seg", dir / "out"), {"--epochs", "2"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    for (const char* file : {"last.safetensors", "best.safetensors", "metrics.json", "loss.png", "val_grid.png"})
        EXPECT_TRUE(fs::exists(dir / ("out/" + std::string(file)))) << file;
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_EQ(report.at("status"), "completed");
    ASSERT_EQ(report.at("epochs").size(), 2u);
    const nlohmann::json& epoch = report.at("epochs")[1];
    for (const char* key : {"pixel_accuracy", "mean_iou", "mean_dice", "iou", "dice", "train_loss", "val_loss"})
        EXPECT_TRUE(epoch.contains(key)) << key;
    EXPECT_TRUE(epoch.at("iou").contains("membrane"));
    EXPECT_EQ(epoch.at("val_pixels"), 2 * 32 * 32);
    EXPECT_EQ(report.at("model").at("width"), 4);
    EXPECT_EQ(report.at("model").at("in_channels"), 1);
    EXPECT_EQ(report.at("device").get<std::string>().rfind("cpu", 0), 0u);
    const checkpoint::Info info = checkpoint::read_info(dir / "out/last.safetensors");
    EXPECT_EQ(info.epoch, 2);
    EXPECT_EQ(info.step, 8);
    EXPECT_NO_THROW(checkpoint::load_model(dir / "out/best.safetensors"));
    // The model card: ISBI-style binary masks, gray input normalised with 0.5 / 0.2, trained on 32x32 crops.
    const std::map<std::string, std::string>& extra = info.extra;
    EXPECT_EQ(nlohmann::json::parse(extra.at("class_names")), nlohmann::json({"cell", "membrane"}));
    EXPECT_EQ(extra.at("task"), "segmentation");
    EXPECT_EQ(extra.at("input_channels"), "1");
    EXPECT_EQ(nlohmann::json::parse(extra.at("normalize")), nlohmann::json::parse(R"({"mean": [0.5], "std": [0.2]})"));
    EXPECT_EQ(extra.at("input_size"), "32x32");
    EXPECT_EQ(extra.at("resize"), "crop");
    EXPECT_EQ(extra.at("dataset_kind"), "image-label-folder");
    EXPECT_EQ(extra.at("dataset_path"), dir / "seg");
    EXPECT_EQ(checkpoint::read_info(dir / "out/best.safetensors").extra.at("class_names"), extra.at("class_names"));
    // One line per epoch summary: the plain progress output stays short.
    EXPECT_NE(r.out.find("epoch 2/2: train loss"), std::string::npos) << r.out;
}

TEST_F(TrainUnetTest, MissingOrEmptyDataFolder) {
    expect_one_error_line(train(tiny_args(dir / "nowhere", dir / "out")), "nowhere");
    fs::create_directories(dir / "empty");
    expect_one_error_line(train(tiny_args(dir / "empty", dir / "out")), "empty");
    fs::create_directories(dir / "no_images/image");
    fs::create_directories(dir / "no_images/label");
    expect_one_error_line(train(tiny_args(dir / "no_images", dir / "out")), "no_images");
}

TEST_F(TrainUnetTest, CorruptOrTruncatedImages) {
    truncate_file(dir / "seg/image/2.png", 60);
    expect_one_error_line(train(tiny_args(dir / "seg", dir / "out")), "2.png");

    write_segmentation_folder(dir / "seg2", 6, 32);
    write_text(dir / "seg2/label/3.png", "this is not a PNG file");
    expect_one_error_line(train(tiny_args(dir / "seg2", dir / "out")), "3.png");
}

TEST_F(TrainUnetTest, LabelOfAnotherSizeThanItsImage) {
    data::Image label(48, 48, 1, 255);
    data::write_png(dir / "seg/label/1.png", label);
    expect_one_error_line(train(tiny_args(dir / "seg", dir / "out")), "1.png");
}

TEST_F(TrainUnetTest, ImagesTooSmallForTheCropOrValidationSizeAreNamedBeforeTraining) {
    // Validation image 5 is 24x24, smaller than the first image's 32x32; image and label agree.
    data::write_png(dir / "seg/image/5.png", data::Image(24, 24, 1, 128));
    data::write_png(dir / "seg/label/5.png", data::Image(24, 24, 1, 255));
    const AppResult val = train(tiny_args(dir / "seg", dir / "out"));
    expect_one_error_line(val, "5.png: 24x24 is smaller than the validation size 32x32");
    EXPECT_FALSE(fs::exists(dir / "out/last.safetensors")) << "no epoch is trained and thrown away";
    // Training image 1 smaller than --size 32.
    write_segmentation_folder(dir / "seg2", 6, 32);
    data::write_png(dir / "seg2/image/1.png", data::Image(16, 16, 1, 128));
    data::write_png(dir / "seg2/label/1.png", data::Image(16, 16, 1, 255));
    expect_one_error_line(train(tiny_args(dir / "seg2", dir / "out")), "1.png: 16x16 is smaller than the training crop");
}

TEST_F(TrainUnetTest, CityscapesPairsTrainAndBadPairsAreNamed) {
    write_cityscapes_pairs(dir / "city/train", 3, true, 1);
    write_cityscapes_pairs(dir / "city/val", 2, true, 2);
    const std::vector<std::string> args = {"--data", dir / "city", "--out", dir / "out", "--size", "32", "--width",
                                           "4", "--batch", "2", "--epochs", "1", "--threads", "1"};
    const AppResult ok = train(args);
    ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    const nlohmann::json report = read_json(dir / "out/metrics.json");
    EXPECT_EQ(report.at("data").at("layout"), "cityscapes-pairs");
    EXPECT_EQ(report.at("model").at("num_classes"), 8);
    EXPECT_TRUE(fs::exists(dir / "out/val_grid.png"));
    // Pairs are resized to --size: the card says so, with RGB input and ImageNet's normalisation.
    const std::map<std::string, std::string> extra = checkpoint::read_info(dir / "out/last.safetensors").extra;
    EXPECT_EQ(extra.at("resize"), "resize");
    EXPECT_EQ(extra.at("input_size"), "32x32");
    EXPECT_EQ(extra.at("input_channels"), "3");
    EXPECT_EQ(nlohmann::json::parse(extra.at("normalize")).at("std"), nlohmann::json({0.229, 0.224, 0.225}));
    EXPECT_EQ(nlohmann::json::parse(extra.at("class_names")).size(), 8u);
    EXPECT_EQ(extra.at("dataset_kind"), "cityscapes-pairs");

    // A pair of another size.
    write_text(dir / "city/val/2.jpg", encode_jpeg(make_cityscapes_pair(9, 500, 256)));
    expect_one_error_line(train(args), "2.jpg");
    // A truncated JPEG.
    write_cityscapes_pairs(dir / "city/val", 2, true, 2);
    const std::string bytes = read_text(dir / "city/train/2.jpg");
    write_text(dir / "city/train/2.jpg", bytes.substr(0, bytes.size() / 2));
    expect_one_error_line(train(args), "2.jpg");
    // An unsupported class count.
    write_cityscapes_pairs(dir / "city/train", 3, true, 1);
    expect_one_error_line(train(with(args, {"--classes", "5"})), "--classes 5", 2);
}

TEST_F(TrainUnetTest, ResumeRefusesAnotherModelOrATruncatedCheckpoint) {
    const AppResult r = train(with(tiny_args(dir / "seg", dir / "out"), {"--epochs", "1"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string ckpt = dir / "out/last.safetensors";
    expect_one_error_line(train(with(tiny_args(dir / "seg", dir / "b"), {"--width", "8", "--resume", ckpt})),
                          "last.safetensors");
    fs::copy_file(ckpt, dir / "cut.safetensors");
    truncate_file(dir / "cut.safetensors", fs::file_size(ckpt) / 2);
    expect_one_error_line(train(with(tiny_args(dir / "seg", dir / "c"), {"--resume", dir / "cut.safetensors"})),
                          "cut.safetensors");
    expect_one_error_line(train(with(tiny_args(dir / "seg", dir / "d"), {"--resume", dir / "missing.safetensors"})),
                          "missing.safetensors");
}

TEST_F(TrainUnetTest, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
    // Step 6 is epoch 2, batch 2: epoch 1's checkpoint (step 4) must survive untouched.
    const AppResult r =
        train(with(tiny_args(dir / "seg", dir / "out"), {"--epochs", "3", "--debug-nan-at-step", "6"}));
    expect_one_error_line(r, "step 6", 3);
    EXPECT_NE(r.err.find("epoch 2"), std::string::npos) << r.err;
    const checkpoint::Info info = checkpoint::read_info(dir / "out/last.safetensors");
    EXPECT_EQ(info.step, 4);
    EXPECT_NO_THROW(checkpoint::load_model(dir / "out/last.safetensors"));
    EXPECT_NE(read_json(dir / "out/metrics.json").at("status").get<std::string>().find("step 6"), std::string::npos);
    const AppResult resumed =
        train(with(tiny_args(dir / "seg", dir / "out"), {"--epochs", "2", "--resume", dir / "out/last.safetensors"}));
    EXPECT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
}

TEST_F(TrainUnetTest, HugeLearningRateIsCaughtBeforeACheckpointGoesBad) {
    const AppResult r = train(with(tiny_args(dir / "seg", dir / "out"), {"--epochs", "3", "--lr", "1e30"}));
    if (r.exit_code == 0) GTEST_SKIP() << "training stayed finite with lr 1e30";
    expect_one_error_line(r, "became", 3);
}

TEST_F(TrainUnetTest, DeviceSelection) {
    const AppResult automatic = train(with(tiny_args(dir / "seg", dir / "out"), {"--device", "auto", "--max-steps", "1"}));
    if (cuda::is_available()) GTEST_SKIP() << "a GPU is present";
    ASSERT_EQ(automatic.exit_code, 0) << automatic.out << automatic.err;
    EXPECT_NE(automatic.out.find("notice: --device auto: no CUDA device"), std::string::npos) << automatic.out;
    EXPECT_EQ(read_json(dir / "out/metrics.json").at("device").get<std::string>().rfind("cpu", 0), 0u);

    const AppResult cuda = train(with(tiny_args(dir / "seg", dir / "out2"), {"--device", "cuda"}));
    expect_one_error_line(cuda, "--device cuda: no CUDA device: ");
    EXPECT_EQ(cuda.err.rfind("error: --device cuda: no CUDA device: ", 0), 0u) << cuda.err;
    expect_one_error_line(train(with(tiny_args(dir / "seg", dir / "out3"), {"--device", "tpu"})), "tpu", 2);
}

TEST(TrainUnetCliTest, HelpListsEveryFlagAndUsageErrorsAreOneLine) {
    const AppResult help = run_app(TRAIN_UNET_BIN, {"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* flag : {"--data", "--classes", "--width", "--size", "--epochs", "--batch", "--lr", "--device",
                             "--out", "--resume", "--seed", "--max-steps", "--time-limit", "--threads",
                             "--train-range", "--val-range"})
        EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
    EXPECT_EQ(help.out.find("--debug-nan-at-step"), std::string::npos);
    const AppResult bad = run_app(TRAIN_UNET_BIN, {"--data", "x", "--bogus"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.err_lines().size(), 1u) << bad.err;
    const AppResult missing = run_app(TRAIN_UNET_BIN, {});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("--data"), std::string::npos) << missing.err;
}
