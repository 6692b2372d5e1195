// train_classifier's data: IDX files (MNIST / Fashion-MNIST, the default), image folders with one sub-folder per
// class (with train/ and val/ or split), or a CSV of multi-label images; with the transforms each model needs.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "apps/common/batches.h"
#include "models/data/datasets.h"

namespace engine::apps {

struct ClassificationDataOptions {
    std::string dir;
    bool multilabel = false;
    std::string val_data;       // multi-label: a second CSV for validation
    double val_fraction = 0.2;  // when there is no separate validation set: the last part of the files
    int64_t channels = 0;       // of the model input; 0: 1 for IDX, 3 otherwise
    int64_t size = 28;          // model input size
    int64_t limit = 0;          // use only the first N training samples (0 = all)
    int64_t val_limit = 0;
};

struct ClassificationData {
    std::string layout;  // "idx", "image-folder", "multilabel-csv"
    bool multilabel = false;
    int64_t num_classes = 0;
    int64_t in_channels = 1;
    std::vector<std::string> class_names;
    std::vector<double> normalize_mean, normalize_std;  // per input channel, whatever the layout
    int64_t train_size = 0, val_size = 0;
    nlohmann::json describe;

    // Batch sources for training (shuffled by (seed, epoch)) and validation (in order).
    std::unique_ptr<BatchSource> make_train(int64_t batch, uint64_t seed, int64_t workers) const;
    std::unique_ptr<BatchSource> make_val(int64_t batch, int64_t workers) const;

    // idx: the arrays themselves (uint8 (N,H,W), int64 (N)) and the normalisation.
    Tensor train_images, train_labels, val_images, val_labels;
    double mean = 0, std = 1;
    int64_t size = 0;
    // otherwise: datasets and transforms.
    data::DatasetPtr train, val;
    data::TransformPtr train_transform, val_transform;
};

ClassificationData load_classification_data(const ClassificationDataOptions& options);

}  // namespace engine::apps
