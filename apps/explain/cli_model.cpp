// Loading the explain command's model.
#include "apps/explain/cli_model.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/explain/attribution/common.h"
#include "models/checkpoint.h"
#include "runtime/safetensors.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;
using apps::UsageError;

namespace {

bool is_segmentation_model(const std::string& name) { return name == "unet" || name == "fcn32s"; }

checkpoint::NonFinite nonfinite_policy(const ModelPlan& plan) {
    return plan.allow_nonfinite ? checkpoint::NonFinite::Accept : checkpoint::NonFinite::Refuse;
}

void warn_nonfinite(const nn::Module& model, const std::string& weights) {
    for (const std::string& tensor : checkpoint::nonfinite_tensors(model.state_dict()))
        std::fprintf(stderr, "warning: --weights %s: %s (loaded with --allow-nonfinite)\n", weights.c_str(),
                     tensor.c_str());
}

// An engine checkpoint: its model, config and metadata (class names, normalisation, training data, ...).
void load_checkpoint(const ModelPlan& plan, LoadedModel& out) {
    const checkpoint::Info info = checkpoint::read_info(plan.weights);
    ENGINE_CHECK(!info.model_config.empty(), "--weights ", plan.weights,
                 ": the checkpoint has no model config (pass a weight file with --model instead)");
    const models::ModelConfig stored = models::ModelConfig::from_json(info.model_config);
    if (!plan.name.empty() && plan.name != stored.name)
        throw UsageError("--model " + plan.name + " disagrees with --weights " + plan.weights + ", which holds a " +
                         stored.name);
    out.model = checkpoint::load_model(plan.weights, nonfinite_policy(plan));
    out.metadata = info.extra;
    out.source = "engine checkpoint (epoch " + std::to_string(info.epoch) + ", step " + std::to_string(info.step) + ")";
    const auto value = [&](const char* key) {
        const auto it = info.extra.find(key);
        return it == info.extra.end() ? std::string() : it->second;
    };
    out.multilabel = value(checkpoint::keys::kTask) == "multilabel";
    const std::string kind = value(checkpoint::keys::kDatasetKind), path = value(checkpoint::keys::kDatasetPath);
    out.training_data = kind + (kind.empty() || path.empty() ? "" : " ") + path;
}

LoadedModel load_model_of(const ModelPlan& plan) {
    LoadedModel out;
    if (plan.weights.empty()) {  // --list-layers of a named model (the plan allows nothing else)
        out.model = models::make_model(*plan.config);
        out.name = out.model->config().name;
        out.segmentation = is_segmentation_model(out.name);
        out.source = "fresh weights (no --weights)";
        return out;
    }
    std::error_code ec;
    ENGINE_CHECK(!fs::is_directory(plan.weights, ec), "--weights ", plan.weights,
                 " is a folder: expected a checkpoint (e.g. ", (fs::path(plan.weights) / "best.safetensors").string(),
                 ") or a weight file");
    ENGINE_CHECK(fs::is_regular_file(plan.weights, ec), "--weights ", plan.weights, ": no such file");
    // The header alone tells a checkpoint from a plain weight file: the tensors are read once, below.
    const safetensors::Header header = safetensors::read_header(plan.weights);
    const auto format = header.metadata.find("format");
    if (format != header.metadata.end() && format->second == checkpoint::kFormat) {
        load_checkpoint(plan, out);
    } else {
        if (!plan.config)
            throw UsageError("--weights " + plan.weights +
                             " is a plain weight file without a model config: name the "
                             "model with --model (and --model-config for non-default sizes)");
        out.model = models::make_model(*plan.config);
        checkpoint::load_weights(plan.weights, *out.model, true, nonfinite_policy(plan));
        out.source = "weight file";
    }
    if (plan.allow_nonfinite) warn_nonfinite(*out.model, plan.weights);
    out.name = out.model->config().name;
    out.segmentation = is_segmentation_model(out.name);
    out.model->eval();
    return out;
}

}  // namespace

LoadedModel load_model(const ModelPlan& plan) {
    try {
        return load_model_of(plan);
    } catch (const checkpoint::NonFiniteWeights& e) {
        throw checkpoint::NonFiniteWeights(std::string(e.what()) + "; --allow-nonfinite loads it anyway");
    }
}

void print_layers(nn::Module& model) {
    const std::vector<std::string> convs = conv_layer_paths(model);
    const std::string last = convs.empty() ? "" : default_cam_layer(model);
    for (const auto& [path, module] : model.named_modules()) {
        if (path.empty()) continue;
        const bool conv = std::find(convs.begin(), convs.end(), path) != convs.end();
        std::printf("%-28s %-18s%s%s\n", path.c_str(), module->type_name().c_str(), conv ? " conv" : "",
                    path == last ? " (default --layer)" : "");
    }
}

}  // namespace engine::explain::cli
