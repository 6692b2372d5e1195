// The explain command's inputs: the images (files, folders, IDX entries) through the preprocessing as display
// images plus model inputs, and the class names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apps/explain/cli_model.h"
#include "apps/explain/cli_plan.h"
#include "apps/explain/cli_preprocess.h"
#include "models/data/image.h"

namespace engine::explain::cli {

struct InputImage {
    std::string name;     // file name or "FILE[index]"
    std::string stem;     // safe for output file names, unique within the run
    data::Image display;  // 8-bit, the model's channels, at the model's input size
    Tensor x;             // float32 (1, C, H, W), normalised, on the CPU
    int64_t source_height = 0, source_width = 0, source_channels = 0;
    std::optional<int64_t> label;    // IDX inputs with a labels file
    std::vector<std::string> notes;  // conversions applied
};
// --image files and folders, then the --idx entries; throws UsageError when there is none.
std::vector<InputImage> read_inputs(const InputPlan& inputs, const Preprocessing& prep);
// One image file through the same preprocessing (baseline images); `what` names it in errors.
InputImage read_image_input(const std::string& path, const Preprocessing& prep, const std::string& what);

// --class-names FILE, else the checkpoint's "class_names" metadata (a JSON list), else Fashion-MNIST names for an
// IDX input from a fashion folder, else the palette's names (segmentation), else "0".."K-1".
std::vector<std::string> resolve_class_names(const InputPlan& inputs, const std::string& weights,
                                             const LoadedModel& model, const std::vector<std::string>& palette_names);

}  // namespace engine::explain::cli
