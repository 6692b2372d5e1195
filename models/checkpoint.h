// Checkpoints: a model's state dict, optionally an optimizer's state, and training metadata in one safetensors
// file, written atomically (a crash mid-save leaves the previous file intact) and loaded with full validation
// (nothing is changed unless everything matches).
//
// File layout:
//   tensors   "model.<state_dict key>"    e.g. model.contracting_11.0.weight (PyTorch's keys after the prefix)
//             "optim.<state key>"         e.g. optim.state.0.exp_avg (see optim::OptimizerState)
//   metadata  format = "engine-checkpoint", format_version = "1", model_config = ModelConfig JSON (when known),
//             model = its name, epoch, step, best_metric (when set), optimizer = the optimizer's config JSON,
//             plus the caller's extra keys.
//
// Extra keys the training apps write (apps/common/model_card.h) and apps/explain reads; all optional, all
// strings (JSON where noted), so older checkpoints and plain weight files simply lack them:
//   class_names     JSON list of the class names, index = class id: ["T-shirt/top", "Trouser", ...]
//   task            "classification" (softmax over classes), "multilabel" (a sigmoid per class) or
//                   "segmentation" (per-pixel classes)
//   input_channels  "1" (gray) or "3" (RGB, in R, G, B order); the same as model_config's in_channels
//   normalize       JSON {"mean": [..], "std": [..]}, one value per input channel: x = (pixel / 255 - mean) / std
//                   ([mean, std] is read too)
//   input_size      "HxW": the size of the images the model trained on
//   resize          how images became inputs: "resize" (each image resized, bilinear, to input_size) or "crop"
//                   (input_size crops at the images' own scale; whole images in validation, so inputs of any size
//                   at that scale fit)
//   dataset_kind    the training data's layout: idx, image-folder, multilabel-csv, cityscapes-pairs,
//                   image-label-folder
//   dataset_path    the training data as given to --data
//   best_metric_name, train_state   the trainers' own: the metric behind best_metric, and the resume state (JSON)
//
//     checkpoint::Info info;
//     info.epoch = epoch;
//     info.step = step;
//     checkpoint::save("out/last.safetensors", *model, &optimizer, info);   // config taken from the model
//     ...
//     auto model = checkpoint::load_model("out/last.safetensors");          // builds from the stored config
//     checkpoint::Info resumed = checkpoint::load("out/last.safetensors", *model, &optimizer);
//
// Plain weight files (tensor names = PyTorch state_dict keys, as exported by models/export_torch.py or
// apps/quickstart) load with load_weights(); save_weights() writes one for PyTorch.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "layers/module.h"
#include "layers/optim.h"
#include "models/model.h"

namespace engine::checkpoint {

constexpr const char* kFormat = "engine-checkpoint";
constexpr int kFormatVersion = 1;

// The extra metadata keys above, for writers and readers to agree on.
namespace keys {
constexpr const char* kClassNames = "class_names";
constexpr const char* kTask = "task";
constexpr const char* kInputChannels = "input_channels";
constexpr const char* kNormalize = "normalize";
constexpr const char* kInputSize = "input_size";
constexpr const char* kResize = "resize";
constexpr const char* kDatasetKind = "dataset_kind";
constexpr const char* kDatasetPath = "dataset_path";
}  // namespace keys

struct Info {
    int64_t epoch = 0;
    int64_t step = 0;
    // ModelConfig JSON. Empty on save: taken from the model when it is a models::Model.
    std::string model_config;
    std::optional<double> best_metric;
    // Free-form metadata (e.g. "best_metric_name", "dataset"); names of the reserved keys above are refused.
    std::map<std::string, std::string> extra;
};

// What the loaders do with NaN or infinite values in a file's floating tensors. Refuse: an Error naming the first
// such tensor (a model trained into NaN explains and resumes into nonsense); Accept: load it anyway, for the
// apps' --allow-nonfinite (they warn with nonfinite_tensors()).
enum class NonFinite { Refuse, Accept };
// What NonFinite::Refuse throws, so that an app can add how to load the file anyway.
class NonFiniteWeights : public Error {
public:
    using Error::Error;
};

// "model.conv1.bias (2 NaN, 0 infinite of 6 values)" for every floating tensor that holds any; empty when all
// values are finite.
std::vector<std::string> nonfinite_tensors(const nn::NamedTensors& tensors);

// Writes PATH.tmp, fsyncs it and renames it over `path`. The optimizer is optional.
void save(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer, const Info& info);

// Loads into an existing model (and optimizer, when given) after validating: the file (safetensors rules), the
// format, the stored model config against the model's when the model is a models::Model ("checkpoint
// x.safetensors holds a lenet, expected a unet"), every model tensor's name, shape and dtype (the first
// missing, unexpected or mismatched one is named), and the optimizer's state (an optimizer given for a
// checkpoint without one is an error). Returns the stored metadata.
Info load(const std::string& path, nn::Module& model, optim::Optimizer* optimizer = nullptr,
          NonFinite nonfinite = NonFinite::Refuse);

// The metadata of a checkpoint, from its header alone (8 bytes + the JSON): the tensor data is not read, so a
// multi-hundred-MB checkpoint costs one small read. The header gets load()'s validation with the same messages,
// file size included, so truncated or extended files fail here as well; load() still validates everything.
Info read_info(const std::string& path);

// Builds the model the checkpoint's config describes and loads its weights (what the explain app and
// evaluation need). Throws when the checkpoint has no model config.
std::shared_ptr<models::Model> load_model(const std::string& path, NonFinite nonfinite = NonFinite::Refuse);

// Plain state-dict files: tensors named exactly as the model's state_dict() keys (PyTorch's names), e.g. from
// models/export_torch.py or torch's safetensors.torch.save_file(model.state_dict()). A checkpoint written by
// save() is accepted too (its "model." tensors are used). strict = false skips missing and unexpected tensors
// (returned), as PyTorch's load_state_dict(strict=False); shapes must always match. Floating dtypes convert.
nn::LoadResult load_weights(const std::string& path, nn::Module& model, bool strict = true,
                            NonFinite nonfinite = NonFinite::Refuse);
// Writes the model's state dict under PyTorch's names (atomically), with optional metadata.
void save_weights(const std::string& path, const nn::Module& model,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace engine::checkpoint
