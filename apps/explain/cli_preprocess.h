// How the explain command turns images into model inputs: channels policy, size and normalisation, from the
// flags, else the checkpoint's metadata as the training apps write it (keys in models/checkpoint.h), else
// per-model defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/explain/cli_model.h"
#include "apps/explain/cli_plan.h"

namespace engine::explain::cli {

struct Preprocessing {
    int64_t channels = 1;           // the model's input channels
    int64_t height = 0, width = 0;  // fixed input size; 0: from each image (see size_multiple)
    int64_t size_multiple = 1;      // with height 0: each image resized to the nearest multiple of this
    int64_t min_side = 1;
    std::string size_rule;          // for the report ("28x28 (LeNet)")
    std::vector<double> mean, std;  // one per channel
    std::string normalize_rule;     // "fashion-mnist (0.286 / 0.353)"
    ChannelPolicy channel_policy = ChannelPolicy::Safe;
    // Photo | label pair files: explain the photo (left half). Forced by --pairs photo (then every image must be
    // a pair), or automatic for a model trained on cityscapes-pairs (then only images twice as wide as high).
    bool pair_photo = false, pair_photo_forced = false;
    std::string pairs_rule;  // for the report
};

// Throws apps::UsageError where a flag does not fit the model (--normalize imagenet for a gray model, per-channel
// values of another count, --size for LeNet) and engine::Error for contradictory checkpoint metadata.
Preprocessing resolve_preprocessing(const ExplainPlan& plan, const LoadedModel& model);

// The --idx file looks like Fashion-MNIST's (its path names it): its normalisation and class names.
bool fashion_source(const InputPlan& inputs);

}  // namespace engine::explain::cli
