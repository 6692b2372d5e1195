// Tests of the `explain` command, run as a child process on tiny checkpoints and images made here: the outputs of
// a classifier run, an IDX run and a segmentation run, the training apps' model card in the checkpoint metadata
// (used, and overridden by flags), --help and --list-layers, and one-line errors with a non-zero exit for bad
// inputs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "kernels/factories.h"
#include "models/checkpoint.h"
#include "models/model.h"
#include "models/data/image.h"
#include "runtime/safetensors.h"

namespace engine::explain {
namespace {

namespace fs = std::filesystem;

std::string explain_binary() {
#ifdef EXPLAIN_BIN
    return EXPLAIN_BIN;
#else
    // <build>/tests/explain_tests -> <build>/apps/explain/explain
    return (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "apps" / "explain" / "explain").string();
#endif
}

struct ChildRun {
    int code = -1;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs the explain binary with `args`, stdout and stderr captured through files.
ChildRun run_explain(const std::vector<std::string>& args, const fs::path& scratch) {
    const fs::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
    std::vector<std::string> argv_s{explain_binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0) _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        ::setenv("OMP_NUM_THREADS", "2", 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ChildRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

std::string describe(const ChildRun& r) {
    return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// A gray 28x28 picture: a bright block on a dark background.
data::Image shirt(int64_t h = 28, int64_t w = 28) {
    data::Image image(h, w, 1, 10);
    for (int64_t y = h / 5; y < h * 4 / 5; ++y)
        for (int64_t x = w / 4; x < w * 3 / 4; ++x) image.pixel(y, x)[0] = static_cast<uint8_t>(150 + (x * 3 + y) % 90);
    return image;
}

void write_be32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
}

class ExplainCliTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("explain_cli_" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        Generator gen(3);
        // LeNet with class names (one needing escaping) in the checkpoint metadata.
        auto lenet = models::make_model("lenet", {}, gen);
        checkpoint::Info info;
        info.extra["class_names"] =
            R"(["tee", "trouser", "pullover", "dress", "coat", "sandal", "<shirt>", "sneaker", "bag", "boot"])";
        checkpoint::save(path("lenet.safetensors"), *lenet, nullptr, info);
        checkpoint::save_weights(path("lenet_plain.safetensors"), *lenet);
        // The same weights with the model card train_classifier writes (keys of models/checkpoint.h).
        namespace keys = checkpoint::keys;
        checkpoint::Info card;
        card.extra = {{keys::kClassNames, R"(["zero","one","two","three","four","five","six","seven","eight","nine"])"},
                      {keys::kTask, "classification"},
                      {keys::kInputChannels, "1"},
                      {keys::kNormalize, R"({"mean": [0.25], "std": [0.125]})"},
                      {keys::kInputSize, "28x28"},
                      {keys::kResize, "resize"},
                      {keys::kDatasetKind, "idx"},
                      {keys::kDatasetPath, "/data/digits"}};
        checkpoint::save(path("lenet_card.safetensors"), *lenet, nullptr, card);
        card.extra[keys::kInputChannels] = "3";
        checkpoint::save(path("lenet_bad_card.safetensors"), *lenet, nullptr, card);
        models::ModelConfig rgb;
        rgb.in_channels = 3;
        checkpoint::save(path("lenet_rgb.safetensors"), *models::make_model("lenet", rgb, gen), nullptr, {});
        models::ModelConfig unet;
        unet.width = 2;
        unet.in_channels = 1;
        unet.num_classes = 3;
        std::shared_ptr<models::Model> unet_model = models::make_model("unet", unet, gen);
        checkpoint::save(path("unet.safetensors"), *unet_model, nullptr, {});
        // train_unet's card: trained on 16x16 crops at the images' scale, or on images resized to 16x16.
        checkpoint::Info crops;
        crops.extra = {{keys::kInputSize, "16x16"}, {keys::kResize, "crop"}, {keys::kClassNames, R"(["a","b","c"])"}};
        checkpoint::save(path("unet_crop.safetensors"), *unet_model, nullptr, crops);
        crops.extra[keys::kResize] = "resize";
        checkpoint::save(path("unet_resize.safetensors"), *unet_model, nullptr, crops);

        // train_unet's card for Cityscapes image pairs, and a 16x32 photo | label pair whose halves differ.
        crops.extra[keys::kDatasetKind] = "cityscapes-pairs";
        checkpoint::save(path("unet_pairs.safetensors"), *unet_model, nullptr, crops);
        data::Image pair(16, 32, 1);
        for (int64_t y = 0; y < 16; ++y)
            for (int64_t x = 0; x < 32; ++x) pair.pixel(y, x)[0] = static_cast<uint8_t>(x < 16 ? 8 * y + x : 250);
        data::write_png(path("pair.png"), pair);

        data::write_png(path("shirt.png"), shirt());
        data::write_png(path("cells.png"), shirt(32, 32));
        data::Image colour(28, 28, 3);
        for (int64_t i = 0; i < 28 * 28; ++i) {
            colour.pixels[3 * i] = static_cast<uint8_t>(i % 256);
            colour.pixels[3 * i + 1] = 40;
            colour.pixels[3 * i + 2] = 200;
        }
        data::write_png(path("colour.png"), colour);
        const char corrupt[] = "\x89PNG\r\n\x1a\nthis is not a png";
        std::ofstream(path("corrupt.png"), std::ios::binary) << std::string(corrupt, sizeof corrupt - 1);

        // An IDX images file of 3 images and its labels, named as Fashion-MNIST's.
        std::string images, labels;
        write_be32(images, 0x00000803);
        write_be32(images, 3);
        write_be32(images, 28);
        write_be32(images, 28);
        for (int k = 0; k < 3; ++k) {
            const data::Image s = shirt();
            for (uint8_t p : s.pixels) images += static_cast<char>(k == 2 ? 255 - p : p);
        }
        write_be32(labels, 0x00000801);
        write_be32(labels, 3);
        labels += std::string("\x03\x06\x08", 3);
        std::ofstream(path("t10k-images-idx3-ubyte"), std::ios::binary) << images;
        std::ofstream(path("t10k-labels-idx1-ubyte"), std::ios::binary) << labels;
    }
    static void TearDownTestSuite() {
        if (!std::getenv("EXPLAIN_KEEP_OUTPUT")) fs::remove_all(dir_);
    }
    static std::string path(const std::string& name) { return (dir_ / name).string(); }

    ChildRun run(std::vector<std::string> args) { return run_explain(args, dir_); }

    // The run failed with ONE line on stderr, "error: ...", containing `phrase`.
    void expect_error(const std::vector<std::string>& args, const std::string& phrase, int code = -1) {
        const ChildRun r = run(args);
        EXPECT_NE(r.code, 0) << describe(r);
        if (code >= 0) {
            EXPECT_EQ(r.code, code) << describe(r);
        }
        EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << describe(r);
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << describe(r);
        EXPECT_NE(r.err.find(phrase), std::string::npos) << "expected '" << phrase << "'\n" << describe(r);
    }

    static fs::path dir_;
};

fs::path ExplainCliTest::dir_;

TEST_F(ExplainCliTest, HelpExplainsEveryFlag) {
    const ChildRun r = run({"--help"});
    ASSERT_EQ(r.code, 0) << describe(r);
    for (const char* flag : {"--model",
                             "--weights",
                             "--image",
                             "--idx",
                             "--index",
                             "--method",
                             "--layer",
                             "--target",
                             "--out",
                             "--ig-steps",
                             "--ig-method",
                             "--baseline",
                             "--internal-batch",
                             "--segments",
                             "--n-segments",
                             "--lime-samples",
                             "--perturbations-per-eval",
                             "--outlier-perc",
                             "--colormap",
                             "--sign",
                             "--metrics",
                             "--device",
                             "--class-names",
                             "--size",
                             "--list-layers",
                             "--normalize",
                             "--channel-policy",
                             "Exit codes"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST_F(ExplainCliTest, ListLayers) {
    const ChildRun r = run({"--weights", path("lenet.safetensors"), "--list-layers"});
    ASSERT_EQ(r.code, 0) << describe(r);
    EXPECT_NE(r.out.find("conv.0"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fc.4"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("conv.3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(default --layer)"), std::string::npos) << r.out;
}

TEST_F(ExplainCliTest, ClassifierRunWritesPicturesReportAndResults) {
    const fs::path out = dir_ / "out_lenet";
    const ChildRun r = run({"--model",         "lenet",
                            "--weights",       path("lenet.safetensors"),
                            "--image",         path("shirt.png"),
                            "--method",        "gradcam,gradcam++,activations,saliency,ixg,ig,ablation,occlusion,lime",
                            "--ig-steps",      "8",
                            "--lime-samples",  "40",
                            "--n-segments",    "12",
                            "--metric-steps",  "5",
                            "--sanity-layers", "1",
                            "--out",           out.string()});
    ASSERT_EQ(r.code, 0) << describe(r);
    for (const char* file : {"report.html", "results.json", "0-shirt_input.png", "0-shirt_activations_conv-3.png"})
        EXPECT_TRUE(fs::exists(out / file)) << file;
    const nlohmann::json results = nlohmann::json::parse(slurp(out / "results.json"));
    ASSERT_EQ(results.at("images").size(), 1u);
    const nlohmann::json& image = results["images"][0];
    const int64_t predicted = image.at("prediction").at("top").at(0).at("class").get<int64_t>();
    EXPECT_EQ(image.at("targets").at(0).at("class").get<int64_t>(), predicted);  // auto: the predicted class
    std::set<std::string> methods;
    for (const nlohmann::json& m : image.at("methods")) {
        methods.insert(m.at("method").get<std::string>());
        if (m.contains("files")) {
            for (const auto& [kind, file] : m["files"].items())
                EXPECT_TRUE(fs::exists(out / file.get<std::string>())) << file;
        }
        if (m["method"] != "activations") {
            EXPECT_TRUE(m.at("metrics").contains("deletion_auc")) << m.dump();
            EXPECT_TRUE(m.at("metrics").contains("insertion_auc")) << m.dump();
        }
    }
    EXPECT_EQ(image["methods"].size(), 9u);  // one record per method: the CAMs share a pass, not a record
    EXPECT_EQ(methods, (std::set<std::string>{"gradcam", "gradcam++", "activations", "saliency", "ixg", "ig",
                                              "ablation", "occlusion", "lime"}));
    for (const nlohmann::json& m : image["methods"]) {
        const std::string key = m["method"].get<std::string>();
        const nlohmann::json& metrics = m["metrics"];
        if (key == "ig") {
            EXPECT_TRUE(metrics.contains("ig_gap"));
        }
        if (key == "gradcam") {
            EXPECT_TRUE(metrics.contains("sanity_spearman"));
        }
        if (key == "lime") {
            EXPECT_TRUE(metrics.contains("lime_r2"));
        }
    }
    const std::string c = "c" + std::to_string(predicted);
    for (const std::string& file : {"0-shirt_" + c + "_gradcam_conv-3_map.png", "0-shirt_" + c + "_ig_panel.png",
                                    "0-shirt_" + c + "_lime_top.png", "0-shirt_" + c + "_ig.npy"})
        EXPECT_TRUE(fs::exists(out / file)) << file;
    const data::Image map = data::read_image((out / ("0-shirt_" + c + "_gradcam_conv-3_map.png")).string());
    EXPECT_EQ(map.height, 28);
    const std::string html = slurp(out / "report.html");
    for (const char* text : {"Grad-CAM", "Grad-CAM++", "Activations", "Saliency", "Input x Gradient",
                             "Integrated Gradients", "Feature Ablation", "Occlusion", "LIME", "deletion AUC",
                             "completeness gap", "sanity rank corr.", "&lt;shirt&gt;"})
        EXPECT_NE(html.find(text), std::string::npos) << text;
    EXPECT_EQ(html.find("<shirt>"), std::string::npos);
    EXPECT_EQ(html.find("src=\"0-"), std::string::npos);  // pictures are embedded, not linked
}

TEST_F(ExplainCliTest, IdxInputWithLabels) {
    const fs::path out = dir_ / "out_idx";
    const ChildRun r =
        run({"--weights", path("lenet.safetensors"), "--idx", path("t10k-images-idx3-ubyte"), "--index", "1-2",
             "--method", "saliency", "--target", "all", "--metrics", "off", "--out", out.string()});
    ASSERT_EQ(r.code, 0) << describe(r);
    const nlohmann::json results = nlohmann::json::parse(slurp(out / "results.json"));
    ASSERT_EQ(results.at("images").size(), 2u);
    EXPECT_EQ(results["images"][0].at("name"), "t10k-images-idx3-ubyte[1]");
    EXPECT_EQ(results["images"][0].at("label"), 6);
    EXPECT_EQ(results["images"][1].at("label"), 8);
    EXPECT_EQ(results["images"][1].at("targets").size(), 10u);  // --target all on a 10-class model
    EXPECT_TRUE(fs::exists(out / "1-idx2_c9_saliency_map.png"));
}

TEST_F(ExplainCliTest, SegmentationRun) {
    // Every predicted class; ablation and LIME over the predicted segments and SLIC superpixels side by side.
    const fs::path out = dir_ / "out_unet";
    const ChildRun r = run({"--weights",       path("unet.safetensors"),
                            "--image",         path("cells.png"),
                            "--method",        "gradcam,ablation,lime",
                            "--target",        "all",
                            "--segments",      "semantic,slic",
                            "--n-segments",    "8",
                            "--lime-samples",  "30",
                            "--lime-seeds",    "2",
                            "--metric-steps",  "4",
                            "--sanity-layers", "0",
                            "--out",           out.string()});
    ASSERT_EQ(r.code, 0) << describe(r);
    const nlohmann::json results = nlohmann::json::parse(slurp(out / "results.json"));
    const nlohmann::json& image = results.at("images").at(0);
    EXPECT_TRUE(fs::exists(out / image.at("prediction").at("segmentation").get<std::string>()));
    const size_t present = image["prediction"].at("classes").size();
    EXPECT_EQ(image.at("targets").size(), present);      // every predicted class
    EXPECT_EQ(image.at("methods").size(), 5 * present);  // Grad-CAM, ablation x 2 masks, LIME x 2 masks
    std::set<std::string> lime_masks;
    for (const nlohmann::json& m : image["methods"]) {
        if (m["method"] == "ablation" || m["method"] == "lime") {
            const std::string features = m.at("features").get<std::string>();
            EXPECT_TRUE(features.rfind("semantic", 0) == 0 || features.rfind("slic", 0) == 0) << features;
        }
        if (m["method"] == "lime") {
            lime_masks.insert(m["features"].get<std::string>().substr(0, 4));
            EXPECT_TRUE(m["metrics"].contains("lime_seed_spearman")) << m["metrics"].dump();
            const bool slic = m["features"].get<std::string>().rfind("slic", 0) == 0;
            EXPECT_TRUE(m["metrics"].contains(slic ? "lime_topk_iou_semantic" : "lime_topk_iou_slic"));
        }
    }
    EXPECT_EQ(lime_masks, (std::set<std::string>{"sema", "slic"}));
    const std::string c = "c" + std::to_string(image["targets"][0]["class"].get<int64_t>());
    EXPECT_TRUE(fs::exists(out / ("0-cells_" + c + "_lime_slic_top.png")));
    EXPECT_TRUE(fs::exists(out / ("0-cells_" + c + "_ablation_semantic_segments.png")));
    const std::string html = slurp(out / "report.html");
    EXPECT_NE(html.find("predicted segmentation"), std::string::npos);
    EXPECT_NE(html.find("class=\"swatch\""), std::string::npos);
    EXPECT_NE(html.find("top-k overlap vs slic"), std::string::npos);
}

// What train_classifier stores in a checkpoint (class names, normalisation, input size, the data) is used; a
// flag given on the command line wins over it.
TEST_F(ExplainCliTest, CheckpointModelCardIsUsedAndFlagsWin) {
    auto explain = [&](const std::string& name, std::vector<std::string> args) {
        const fs::path out = dir_ / ("out_card_" + name);
        const std::vector<std::string> common{"--image",   path("shirt.png"), "--method", "saliency",
                                              "--metrics", "off",             "--out",    out.string()};
        args.insert(args.end(), common.begin(), common.end());
        const ChildRun r = run(args);
        EXPECT_EQ(r.code, 0) << name << ": " << describe(r);
        return r.code == 0 ? nlohmann::json::parse(slurp(out / "results.json")) : nlohmann::json::object();
    };
    const std::vector<std::string> stored_names{"zero", "one", "two", "three", "four",
                                                "five", "six", "seven", "eight", "nine"};
    const nlohmann::json card = explain("card", {"--weights", path("lenet_card.safetensors")});
    ASSERT_TRUE(card.contains("images"));
    EXPECT_EQ(card.at("class_names").get<std::vector<std::string>>(), stored_names);
    const nlohmann::json& top = card["images"][0]["prediction"]["top"][0];
    EXPECT_EQ(top.at("name"), stored_names.at(top.at("class").get<size_t>()));
    EXPECT_EQ(card.at("preprocessing").at("normalize").get<std::string>().rfind("checkpoint metadata", 0), 0u)
        << card["preprocessing"].dump();
    EXPECT_NE(card["preprocessing"]["size"].get<std::string>().find("28x28 (checkpoint metadata)"), std::string::npos);
    EXPECT_EQ(card.at("trained_on"), "idx /data/digits");
    const std::string html = slurp(dir_ / "out_card_card" / "report.html");
    EXPECT_NE(html.find(top.at("name").get<std::string>()), std::string::npos);
    EXPECT_NE(html.find("/data/digits"), std::string::npos);

    // The stored normalisation is what the model saw: the same weights without a card, normalised by hand with
    // the same values, give the same logits; other values give other logits.
    const nlohmann::json by_hand = explain(
        "plain", {"--model", "lenet", "--weights", path("lenet_plain.safetensors"), "--normalize", "0.25/0.125"});
    ASSERT_TRUE(by_hand.contains("images"));
    auto logits = [](const nlohmann::json& results) {
        std::map<int64_t, double> out;
        for (const nlohmann::json& t : results.at("images").at(0).at("prediction").at("top"))
            out[t.at("class").get<int64_t>()] = t.at("logit").get<double>();
        return out;
    };
    EXPECT_EQ(logits(by_hand), logits(card));
    EXPECT_EQ(by_hand.at("class_names").at(3), "3");  // no card: plain ids
    EXPECT_EQ(by_hand.at("trained_on"), nullptr);
    const nlohmann::json flag =
        explain("flag", {"--weights", path("lenet_card.safetensors"), "--normalize", "0.5/0.5"});
    ASSERT_TRUE(flag.contains("images"));
    EXPECT_EQ(flag.at("preprocessing").at("normalize").get<std::string>().rfind("custom", 0), 0u);
    EXPECT_NE(logits(flag), logits(card));

    // --class-names wins over the stored names; --target takes a stored name.
    std::ofstream(path("names.txt")) << "n0\nn1\nn2\nn3\nn4\nn5\nn6\nn7\nn8\nn9\n";
    const nlohmann::json named =
        explain("names", {"--weights", path("lenet_card.safetensors"), "--class-names", path("names.txt")});
    ASSERT_TRUE(named.contains("class_names"));
    EXPECT_EQ(named.at("class_names").at(7), "n7");
    const nlohmann::json target =
        explain("target", {"--weights", path("lenet_card.safetensors"), "--target", "three,Seven"});
    ASSERT_TRUE(target.contains("images"));
    const nlohmann::json& targets = target["images"][0].at("targets");
    ASSERT_EQ(targets.size(), 2u);
    EXPECT_EQ(targets[0].at("class"), 3);
    EXPECT_EQ(targets[1].at("class"), 7);
    EXPECT_NE(targets[0].at("label").get<std::string>().find("(three)"), std::string::npos) << targets.dump();

    expect_error({"--weights", path("lenet_bad_card.safetensors"), "--image", path("shirt.png"), "--out",
                  (dir_ / "out_card_bad").string()},
                 "input_channels '3' disagrees with the model's 1 input channel(s)", 1);
}

// A model trained on crops keeps each image's scale; one trained on resized images gets them resized to its
// input size; --size overrides both.
TEST_F(ExplainCliTest, CheckpointInputSizeFollowsTheResizePolicy) {
    auto input_side = [&](const std::string& weights, const std::string& name, std::vector<std::string> extra) {
        const fs::path out = dir_ / ("out_size_" + name);
        std::vector<std::string> args{"--weights", path(weights), "--image", path("cells.png"), "--method",
                                      "saliency", "--metrics", "off", "--out", out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        const ChildRun r = run(args);
        EXPECT_EQ(r.code, 0) << describe(r);
        if (r.code != 0) return int64_t{-1};
        const nlohmann::json results = nlohmann::json::parse(slurp(out / "results.json"));
        EXPECT_EQ(results.at("class_names"), nlohmann::json({"a", "b", "c"}));
        return data::read_image((out / "0-cells_input.png").string()).height;
    };
    EXPECT_EQ(input_side("unet_crop.safetensors", "crop", {}), 32);  // cells.png is 32x32
    EXPECT_EQ(input_side("unet_resize.safetensors", "resize", {}), 16);
    EXPECT_EQ(input_side("unet_resize.safetensors", "flag", {"--size", "48"}), 48);
}

TEST_F(ExplainCliTest, PhotoHalfOfImagePairsForModelsTrainedOnThem) {
    // What the model saw: the input picture explain writes, and the notes of results.json.
    auto explain = [&](const std::string& weights, const std::string& name, std::vector<std::string> extra) {
        const fs::path out = dir_ / ("out_pairs_" + name);
        std::vector<std::string> args{"--weights", path(weights), "--image", path("pair.png"), "--method",
                                      "saliency", "--metrics", "off", "--out", out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        const ChildRun r = run(args);
        EXPECT_EQ(r.code, 0) << name << ": " << describe(r);
        if (r.code != 0) return std::make_pair(data::Image(), std::string());
        const nlohmann::json results = nlohmann::json::parse(slurp(out / "results.json"));
        return std::make_pair(data::read_image((out / "0-pair_input.png").string(), 1),
                              results.at("images").at(0).at("notes").dump());
    };
    const data::Image pair = data::read_image(path("pair.png"), 1);
    auto is_left_half = [&](const data::Image& seen) {
        if (seen.height != 16 || seen.width != 16) return false;
        for (int64_t y = 0; y < 16; ++y)
            for (int64_t x = 0; x < 16; ++x)
                if (seen.pixel(y, x)[0] != pair.pixel(y, x)[0]) return false;
        return true;
    };
    const auto [photo, photo_notes] = explain("unet_pairs.safetensors", "auto", {});
    EXPECT_TRUE(is_left_half(photo));
    EXPECT_NE(photo_notes.find("left half"), std::string::npos) << photo_notes;
    const auto [whole, whole_notes] = explain("unet_pairs.safetensors", "whole", {"--pairs", "whole"});
    EXPECT_FALSE(is_left_half(whole));
    EXPECT_NE(whole_notes.find("resized from 16x32"), std::string::npos) << whole_notes;
    // A model not trained on pairs takes the whole file unless told.
    EXPECT_FALSE(is_left_half(explain("unet_resize.safetensors", "other", {}).first));
    EXPECT_TRUE(is_left_half(explain("unet_resize.safetensors", "forced", {"--pairs", "photo"}).first));
    expect_error({"--weights", path("unet_pairs.safetensors"), "--image", path("cells.png"), "--pairs", "photo",
                  "--out", (dir_ / "out_pairs_bad").string()},
                 "not a photo | label pair");
}

TEST_F(ExplainCliTest, BadInputsAreOneLineErrors) {
    const std::string lenet = path("lenet.safetensors"), out = (dir_ / "out_bad").string();
    const std::vector<std::string> base{"--weights", lenet, "--image", path("shirt.png"), "--out", out};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> args = base;
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    };
    expect_error(with({"--layer", "conv.9"}), "conv.3", 2);  // lists the valid paths
    expect_error(with({"--target", "12"}), "out of range", 2);
    expect_error(with({"--target", "sock"}), "not a class id", 2);
    expect_error(with({"--method", "deeplift"}), "unknown method", 2);
    expect_error(with({"--segments", "semantic"}), "segmentation model", 2);
    expect_error({"--weights", lenet, "--image", path("colour.png"), "--out", out}, "colour image");
    expect_error({"--weights", path("lenet_rgb.safetensors"), "--image", path("shirt.png"), "--channel-policy",
                  "strict", "--out", out},
                 "strict");
    expect_error(with({"--model", "unet"}), "holds a lenet", 2);  // weights of another model
    expect_error(
        {"--model", "unet", "--weights", path("lenet_plain.safetensors"), "--image", path("cells.png"), "--out", out},
        "weights");
    expect_error({"--weights", lenet, "--image", path("missing.png"), "--out", out}, "no such file");
    expect_error({"--weights", lenet, "--image", path("corrupt.png"), "--out", out}, "corrupt.png");
    expect_error({"--weights", path("missing.safetensors"), "--image", path("shirt.png"), "--out", out},
                 "no such file");
    expect_error({"--weights", lenet, "--image", path("shirt.png")}, "--out", 2);
    expect_error(with({"--baseline", "blur:x"}), "sigma", 2);
    expect_error(with({"--target", ","}), "--target: expected auto, all, or comma-separated", 2);
    expect_error(with({"--threads", "100000"}), "--threads: must be 0 (all cores) to 1024 threads", 2);
    expect_error(with({"--threads", "-5"}), "--threads", 2);
    expect_error(with({"--seed", "-1"}), "--seed: must be an integer >= 0", 2);
    expect_error(with({"--compactness", "nan"}), "--compactness: must be a finite number > 0, got nan", 2);
    expect_error(with({"--outlier-perc", "nan"}), "--outlier-perc: must be a number in [0, 100]", 2);
    expect_error({"--weights", dir_.string(), "--image", path("shirt.png"), "--out", out}, "is a folder");

    // Weights holding NaN: refused at load; accepted with --allow-nonfinite, and then the NaN output is refused.
    safetensors::Contents nan_weights = safetensors::load(lenet);
    for (auto& [name, t] : nan_weights.tensors)
        if (name == "model.fc.4.bias") t = full(t.shape(), NAN, t.dtype());
    const std::string nan_lenet = path("lenet_nan.safetensors");
    safetensors::save(nan_lenet, nan_weights.tensors, nan_weights.metadata);
    std::vector<std::string> nan_args = base;
    nan_args[1] = nan_lenet;
    expect_error(nan_args, "tensor model.fc.4.bias (10 NaN, 0 infinite of 10 values) holds NaN or infinite values");
    expect_error(nan_args, "--allow-nonfinite loads it anyway", 1);
    nan_args.push_back("--allow-nonfinite");
    const ChildRun allowed = run(nan_args);
    EXPECT_EQ(allowed.code, 1) << describe(allowed);
    EXPECT_NE(allowed.err.find("warning: --weights " + nan_lenet + ": fc.4.bias (10 NaN"), std::string::npos)
        << describe(allowed);
    EXPECT_NE(allowed.err.find("shirt.png: the model's output (10 NaN, 0 infinite of 10 values) is not finite"),
              std::string::npos)
        << describe(allowed);
    // --skip-bad: the corrupt file and the colour one (refused by the safe channel policy) are reported, the
    // shirt explained.
    const ChildRun skipping = run({"--weights", lenet, "--image", path("corrupt.png"), "--image", path("shirt.png"),
                                   "--image", path("colour.png"), "--skip-bad", "--method", "saliency", "--metrics",
                                   "off", "--out", (dir_ / "out_skip").string()});
    EXPECT_EQ(skipping.code, 0) << describe(skipping);
    EXPECT_NE(skipping.err.find("warning: --skip-bad: skipped " + path("corrupt.png")), std::string::npos)
        << describe(skipping);
    EXPECT_NE(skipping.err.find("skipped " + path("colour.png")), std::string::npos) << describe(skipping);
    EXPECT_TRUE(fs::exists(dir_ / "out_skip" / "report.html")) << describe(skipping);
    const ChildRun none = run({"--weights", lenet, "--image", path("corrupt.png"), "--skip-bad", "--out", out});
    EXPECT_EQ(none.code, 1) << describe(none);
    EXPECT_NE(none.err.find("error: --skip-bad: every input was skipped"), std::string::npos) << describe(none);
    // A colour image converts under --channel-policy luma.
    const ChildRun luma = run({"--weights", lenet, "--image", path("colour.png"), "--channel-policy", "luma",
                               "--method", "saliency", "--metrics", "off", "--out", out});
    EXPECT_EQ(luma.code, 0) << describe(luma);
}

}  // namespace
}  // namespace engine::explain
