// What a user of a trained model needs besides its weights (class names, task, input channels, normalisation,
// input size and resize policy, training data), stored in every checkpoint the trainers write under the
// metadata keys documented in models/checkpoint.h, where apps/explain reads them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace engine::apps {

struct ModelCard {
    std::string task;  // "classification", "multilabel", "segmentation"
    std::vector<std::string> class_names;
    int64_t input_channels = 0;
    std::vector<double> mean, std;  // one per input channel
    int64_t input_height = 0, input_width = 0;
    std::string resize;  // "resize" or "crop"
    std::string dataset_kind, dataset_path;

    // The checkpoint metadata entries (checkpoint::keys); throws Error when the card is inconsistent.
    std::map<std::string, std::string> to_metadata() const;
};

}  // namespace engine::apps
