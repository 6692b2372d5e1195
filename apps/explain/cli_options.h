// The explain command's flags as CLI11 fills them (main.cpp): text and numbers exactly as given. make_plan()
// (cli_plan.h) turns them into the typed plan the run uses; nothing else reads them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace engine::explain::cli {

struct ExplainOptions {
    // model and inputs
    std::string model;         // optional: must agree with the checkpoint's model
    std::string model_config;  // JSON ModelConfig for plain weight files without one
    std::string weights;
    std::vector<std::string> images;  // files or folders
    std::string idx;                  // an IDX images file
    std::string index = "0";          // positions in it: "3", "0-9,12"
    std::string idx_labels;           // default: the sibling labels file when present
    std::string size;                 // "HxW" or "N"; default: checkpoint metadata or the model's size
    std::string normalize = "auto";
    std::string channel_policy = "safe";
    std::string pairs = "auto";  // photo | label pair files: auto, photo (the left half) or whole
    std::string class_names;     // a file, one name per line
    std::string palette = "auto";
    std::string device = "cpu";
    int threads = 0;
    bool list_layers = false;
    bool allow_nonfinite = false;
    bool skip_bad = false;

    // what to explain
    std::vector<std::string> methods{"gradcam", "ig"};
    std::vector<std::string> layers;  // default: the last conv layer
    std::string target = "auto";
    std::string seg_target = "mask";  // segmentation class scores over the predicted mask or the whole image
    std::string out;

    // method options
    int64_t ig_steps = 50;
    std::string ig_method = "gausslegendre";
    std::string baseline = "black";
    int64_t internal_batch = 0;
    bool relu = false;
    std::string upsample = "bilinear";
    std::vector<std::string> segments{"auto"};
    int64_t n_segments = 50;
    double compactness = 10.0;
    int64_t grid_cell = 0;
    int64_t lime_samples = 0;
    int64_t lime_seeds = 1;
    int64_t perturbations_per_eval = 8;
    int64_t occlusion_window = 0;
    int64_t occlusion_stride = 0;
    uint64_t seed = 0;

    // display and metrics
    double outlier_perc = 2.0;
    std::string colormap = "auto";
    std::string sign = "auto";
    std::string metrics = "on";
    int64_t metric_steps = 20;
    int64_t sanity_layers = 2;
    int64_t top_k = 5;
};

}  // namespace engine::explain::cli
