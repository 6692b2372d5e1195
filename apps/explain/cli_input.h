// The explain command's inputs: the model (from an engine checkpoint, or a plain weight file with --model),
// the preprocessing (channels policy, size, normalisation: flags, else the checkpoint's metadata as the training
// apps write it (keys in models/checkpoint.h), else per-model defaults), class names, and the images (files,
// folders, IDX entries) as display images plus model inputs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/explain/cli.h"
#include "models/checkpoint.h"
#include "models/model.h"
#include "models/data/image.h"

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

// Throws apps::UsageError for flag problems (no --weights, --model disagreeing with the checkpoint) and
// engine::Error for file problems (missing, corrupt, weights of another model).
LoadedModel load_model(const ExplainOptions& options);

struct Preprocessing {
    int64_t channels = 1;           // the model's input channels
    int64_t height = 0, width = 0;  // fixed input size; 0: from each image (see size_multiple)
    int64_t size_multiple = 1;      // with height 0: each image resized to the nearest multiple of this
    int64_t min_side = 1;
    std::string size_rule;          // for the report ("28x28 (LeNet)")
    std::vector<double> mean, std;  // one per channel
    std::string normalize_rule;     // "fashion-mnist (0.286 / 0.353)"
    std::string channel_policy;     // safe | luma | strict
    // Photo | label pair files: explain the photo (left half). Forced by --pairs photo (then every image must be
    // a pair), or automatic for a model trained on cityscapes-pairs (then only images twice as wide as high).
    bool pair_photo = false, pair_photo_forced = false;
    std::string pairs_rule;  // for the report
};
Preprocessing resolve_preprocessing(const ExplainOptions& options, const LoadedModel& model);

struct InputImage {
    std::string name;     // file name or "FILE[index]"
    std::string stem;     // safe for output file names, unique within the run
    data::Image display;  // 8-bit, the model's channels, at the model's input size
    Tensor x;             // float32 (1, C, H, W), normalised, on the CPU
    int64_t source_height = 0, source_width = 0, source_channels = 0;
    std::optional<int64_t> label;    // IDX inputs with a labels file
    std::vector<std::string> notes;  // conversions applied
};
std::vector<InputImage> read_inputs(const ExplainOptions& options, const Preprocessing& prep);
// One image file through the same preprocessing (baseline images); `what` names it in errors.
InputImage read_image_input(const std::string& path, const Preprocessing& prep, const std::string& what);

// --class-names FILE, else the checkpoint's "class_names" metadata (a JSON list), else Fashion-MNIST names for an
// IDX input from a fashion folder, else the palette's names (segmentation), else "0".."K-1".
std::vector<std::string> resolve_class_names(const ExplainOptions& options, const LoadedModel& model,
                                             const std::vector<std::string>& palette_names);

// "HxW" or "N" -> (H, W); throws UsageError naming the flag.
std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& flag);

}  // namespace engine::explain::cli
