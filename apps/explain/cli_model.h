// The explain command's model: an engine checkpoint (with the training apps' metadata), or a plain weight file
// of the model --model names.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "apps/explain/cli_plan.h"
#include "models/model.h"

namespace engine::explain::cli {

struct LoadedModel {
    std::shared_ptr<models::Model> model;
    std::string name;                             // "lenet", "unet", ...
    bool segmentation = false;                    // unet, fcn32s: (N, C, H, W) outputs
    std::map<std::string, std::string> metadata;  // the checkpoint's extra metadata (empty for plain weights)
    std::string source;                           // "engine checkpoint (epoch 3, step 1200)" or "weight file"
    bool multilabel = false;                      // metadata task "multilabel": a sigmoid per class
    std::string training_data;                    // "idx /data/fashion-mnist" from the metadata, or empty
};

// Throws apps::UsageError for flag problems (--model disagreeing with the checkpoint, a weight file without
// --model) and engine::Error for file problems (missing, corrupt, weights of another model). Without weights
// (--list-layers of a named model): the model with fresh weights.
LoadedModel load_model(const ModelPlan& plan);

// --list-layers: every layer path with its type, the conv layers and the default --layer marked.
void print_layers(nn::Module& model);

}  // namespace engine::explain::cli
