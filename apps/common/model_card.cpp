// The model card of the training apps as checkpoint metadata.
#include "apps/common/model_card.h"

#include <nlohmann/json.hpp>

#include "models/checkpoint.h"
#include "runtime/error.h"
#include "runtime/json.h"

namespace engine::apps {

std::map<std::string, std::string> ModelCard::to_metadata() const {
    namespace keys = checkpoint::keys;
    ENGINE_CHECK(input_channels == 1 || input_channels == 3, "model card: input_channels ", input_channels,
                 " (expected 1 or 3)");
    ENGINE_CHECK(static_cast<int64_t>(mean.size()) == input_channels &&
                     static_cast<int64_t>(std.size()) == input_channels,
                 "model card: ", mean.size(), " means and ", std.size(), " stds for ", input_channels, " channels");
    ENGINE_CHECK(resize == "resize" || resize == "crop", "model card: resize '", resize, "'");
    std::map<std::string, std::string> out;
    out[keys::kTask] = task;
    out[keys::kClassNames] = dump_json(nlohmann::json(class_names));
    out[keys::kInputChannels] = std::to_string(input_channels);
    out[keys::kNormalize] = nlohmann::json{{"mean", mean}, {"std", std}}.dump();
    if (input_height > 0 && input_width > 0)
        out[keys::kInputSize] = std::to_string(input_height) + "x" + std::to_string(input_width);
    out[keys::kResize] = resize;
    out[keys::kDatasetKind] = dataset_kind;
    out[keys::kDatasetPath] = dataset_path;
    return out;
}

}  // namespace engine::apps
