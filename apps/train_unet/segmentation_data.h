// train_unet's data: finds the layout of --data (Cityscapes photo|label pairs in train/ and val/, or a
// segmentation folder with image/ and label/ such as the ISBI 2012 membranes), builds the training and
// validation sets with their transforms, and checks the files up front where that is cheap.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "models/data/datasets.h"
#include "models/data/transforms.h"

namespace engine::apps {

struct SegmentationDataOptions {
    std::string dir;
    int64_t classes = 0;      // 0: the layout's default (2 for image/label folders, 8 for Cityscapes)
    int64_t size = 256;       // crop size (image/label folders) or resize size (Cityscapes)
    std::string train_range;  // indices of the training files, e.g. "0-24"; empty: the layout's default
    std::string val_range;
    int64_t repeat = 0;  // uses of each training image per epoch (different random crops); 0: automatic
};

struct SegmentationData {
    std::string layout;  // "cityscapes-pairs" or "image-label-folder"
    data::DatasetPtr train, val;
    data::TransformPtr train_transform, val_transform;
    int64_t in_channels = 3;
    int64_t num_classes = 0;
    int64_t ignore_index = -100;  // for the loss and the metrics
    std::vector<std::string> class_names;
    std::vector<data::Rgb> colors;  // display colour per class
    data::Rgb ignore_color{255, 255, 255};
    std::vector<double> mean, std;  // input normalisation (to undo for display)
    int64_t repeat = 1;
    nlohmann::json describe;  // for the report
};

// Throws UsageError for flag values that do not fit the data and Error (naming the file) for bad data.
SegmentationData load_segmentation_data(const SegmentationDataOptions& options);

}  // namespace engine::apps
