// The explain command's preprocessing rules.
#include "apps/explain/cli_preprocess.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "apps/explain/cli_text.h"
#include "models/checkpoint.h"
#include "runtime/json.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;
namespace keys = checkpoint::keys;
using apps::UsageError;

namespace {

// The checkpoint's metadata as the preprocessing reads it; its errors name the weights file.
struct Metadata {
    const LoadedModel& model;
    std::string bad;  // "--weights FILE: metadata "
    std::optional<std::string> get(const char* key) const {
        const auto it = model.metadata.find(key);
        return it == model.metadata.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    }
};

std::vector<double> per_channel(std::vector<double> v, int64_t channels, const std::string& what) {
    if (v.size() == 1) v.assign(static_cast<size_t>(channels), v[0]);
    if (static_cast<int64_t>(v.size()) != channels)
        throw UsageError(what + ": " + std::to_string(v.size()) + " values for a model with " +
                         std::to_string(channels) + " input channels");
    return v;
}

std::string describe(const std::vector<double>& mean, const std::vector<double>& std) {
    auto join = [](const std::vector<double>& v) {
        std::string s;
        for (double x : v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", x);
            s += (s.empty() ? "" : ",") + std::string(buf);
        }
        return s;
    };
    return "mean " + join(mean) + ", std " + join(std);
}

void resolve_channels_and_pairs(const PreprocessPlan& plan, const Metadata& meta, Preprocessing& p) {
    p.channels = meta.model.model->config().in_channels;
    if (const auto channels = meta.get(keys::kInputChannels))
        ENGINE_CHECK(*channels == std::to_string(p.channels), meta.bad, "input_channels '", *channels,
                     "' disagrees with the model's ", p.channels, " input channel(s)");
    p.channel_policy = plan.channel_policy;
    const bool trained_on_pairs = meta.get(keys::kDatasetKind).value_or("") == "cityscapes-pairs";
    p.pair_photo_forced = plan.pairs == PairsMode::Photo;
    p.pair_photo = p.pair_photo_forced || (plan.pairs == PairsMode::Auto && trained_on_pairs);
    p.pairs_rule = p.pair_photo_forced ? "photo half (--pairs photo)"
                   : p.pair_photo      ? "photo half of images twice as wide as high (trained on cityscapes-pairs)"
                                       : "whole images";
}

// Size: the flag, else the checkpoint's input_size (unless the model trained on crops at the images' own
// scale: then each image keeps its size, as in validation), else the model's rule.
void resolve_size(const PreprocessPlan& plan, const Metadata& meta, Preprocessing& p) {
    const std::string resize = meta.get(keys::kResize).value_or("resize");
    ENGINE_CHECK(resize == "resize" || resize == "crop", meta.bad, "resize '", resize, "' is neither resize nor crop");
    std::optional<std::pair<int64_t, int64_t>> size = plan.size;
    std::string origin = "--size", crop_note, size_text;
    if (size) {
        size_text = std::to_string(size->first) + "x" + std::to_string(size->second);
    } else if (const auto trained = meta.get(keys::kInputSize)) {
        if (resize == "crop") {
            crop_note = "; trained on " + *trained + " crops at the images' scale";
        } else {
            size = parse_size(*trained, "checkpoint input_size");
            size_text = *trained;
            origin = "checkpoint metadata";
        }
    }
    const LoadedModel& m = meta.model;
    if (size) {
        std::tie(p.height, p.width) = *size;
        p.size_rule = std::to_string(p.height) + "x" + std::to_string(p.width) + " (" + origin + ")";
    } else if (m.name == "lenet") {
        p.height = p.width = 28;
        p.size_rule = "28x28 (LeNet)";
    } else if (m.name.rfind("vgg", 0) == 0) {
        const int64_t pool = m.model->config().pool_size;
        p.height = p.width = pool >= 7 ? 224 : 32;
        p.size_rule = std::to_string(p.height) + "x" + std::to_string(p.width) + " (VGG with pool_size " +
                      std::to_string(pool) + ")";
    } else {
        p.size_multiple = m.name == "unet" ? 16 : 32;
        p.min_side = p.size_multiple;
        p.size_rule = "each image's size, rounded to the nearest multiple of " + std::to_string(p.size_multiple);
    }
    p.size_rule += crop_note;
    if (m.name == "lenet" && (p.height != 28 || p.width != 28))
        throw UsageError("--size: LeNet takes 28x28 inputs, got " + size_text);
}

// The checkpoint's "normalize" metadata ([mean, std] or {"mean": .., "std": ..}): what the model trained with.
void normalize_from_metadata(const std::string& stored, const Metadata& meta, Preprocessing& p) {
    try {
        const nlohmann::json j = parse_json(stored);
        const nlohmann::json mean = j.is_array() ? j.at(0) : j.at("mean");
        const nlohmann::json sd = j.is_array() ? j.at(1) : j.at("std");
        p.mean =
            per_channel(mean.is_array() ? mean.get<std::vector<double>>() : std::vector<double>{mean.get<double>()},
                        p.channels, "checkpoint normalize");
        p.std = per_channel(sd.is_array() ? sd.get<std::vector<double>>() : std::vector<double>{sd.get<double>()},
                            p.channels, "checkpoint normalize");
    } catch (const nlohmann::json::exception&) {
        throw Error(meta.bad + "'normalize' is not [mean, std]: " + stored);
    } catch (const UsageError& e) {  // a checkpoint's fault, not the command line's
        throw Error(meta.bad + e.what());
    }
    for (double s : p.std) ENGINE_CHECK(s > 0, meta.bad, "'normalize' has a std <= 0: ", stored);
    p.normalize_rule = "checkpoint metadata: " + describe(p.mean, p.std);
}

// --normalize auto without metadata: what the training apps use for such a model and input. `name` is the
// rule's name in the report: the preset, or the values for gray images.
NormalizePlan default_normalize(const ExplainPlan& plan, const LoadedModel& m, int64_t channels, std::string& name,
                                std::string& note) {
    NormalizePlan n;
    if (channels == 3) {
        n.kind = NormalizeKind::ImageNet;
        note = "default for RGB models, as the training apps";
    } else if (!plan.inputs.idx.empty()) {
        n.kind = fashion_source(plan.inputs) ? NormalizeKind::FashionMnist : NormalizeKind::Mnist;
        note = "default for IDX input, as train_classifier";
    } else {
        n.kind = NormalizeKind::Custom;
        n.mean = {0.5};
        n.std = {m.segmentation ? 0.2 : 0.5};
        name = m.segmentation ? "0.5/0.2" : "0.5/0.5";
        note = m.segmentation ? "train_unet's default for gray images"
                              : "train_classifier's default for gray image folders";
    }
    return n;
}

void resolve_normalize(const ExplainPlan& plan, const Metadata& meta, Preprocessing& p) {
    NormalizePlan n = plan.preprocess.normalize;
    std::string name = "custom", note;
    if (n.kind == NormalizeKind::Auto) n = default_normalize(plan, meta.model, p.channels, name, note);
    if (n.kind != NormalizeKind::Custom) name = kNormalizeKindNames.name(n.kind);
    switch (n.kind) {
        case NormalizeKind::None:
            p.mean.assign(static_cast<size_t>(p.channels), 0.0);
            p.std.assign(static_cast<size_t>(p.channels), 1.0);
            break;
        case NormalizeKind::ImageNet:
            if (p.channels != 3) throw UsageError("--normalize imagenet needs a 3-channel model");
            p.mean = {0.485, 0.456, 0.406};
            p.std = {0.229, 0.224, 0.225};
            break;
        case NormalizeKind::FashionMnist:
            p.mean = per_channel({0.2860}, p.channels, "--normalize");
            p.std = per_channel({0.3530}, p.channels, "--normalize");
            break;
        case NormalizeKind::Mnist:
            p.mean = per_channel({0.1307}, p.channels, "--normalize");
            p.std = per_channel({0.3081}, p.channels, "--normalize");
            break;
        default:  // Custom (Auto is resolved above)
            p.mean = per_channel(n.mean, p.channels, "--normalize");
            p.std = per_channel(n.std, p.channels, "--normalize");
    }
    p.normalize_rule = name + ": " + describe(p.mean, p.std) + (note.empty() ? "" : " (" + note + ")");
}

}  // namespace

bool fashion_source(const InputPlan& inputs) {
    return !inputs.idx.empty() &&
           lower(fs::path(inputs.idx).lexically_normal().string()).find("fashion") != std::string::npos;
}

Preprocessing resolve_preprocessing(const ExplainPlan& plan, const LoadedModel& m) {
    const Metadata meta{m, "--weights " + plan.model.weights + ": metadata "};
    Preprocessing p;
    resolve_channels_and_pairs(plan.preprocess, meta, p);
    resolve_size(plan.preprocess, meta, p);
    // Normalisation: the flag, else the checkpoint's "normalize" metadata, else what the training apps use.
    const std::optional<std::string> stored = plan.preprocess.normalize.kind == NormalizeKind::Auto
                                                  ? meta.get(keys::kNormalize)
                                                  : std::optional<std::string>();
    if (stored)
        normalize_from_metadata(*stored, meta, p);
    else
        resolve_normalize(plan, meta, p);
    return p;
}

}  // namespace engine::explain::cli
