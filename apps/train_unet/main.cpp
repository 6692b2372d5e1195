// train_unet: trains the seed notebook's UNet for semantic segmentation on Cityscapes photo|label pairs or on
// an image/label folder (the ISBI 2012 membranes), with validation metrics, pictures, checkpoints and exact
// resume. See --help.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "apps/common/app_main.h"
#include "apps/common/flags.h"
#include "apps/common/model_card.h"
#include "apps/train_unet/segmentation_data.h"
#include "apps/train_unet/segmentation_task.h"
#include "models/model.h"

using namespace engine;
using namespace engine::apps;

namespace {

constexpr const char* kApp = "train_unet";

// The flags' destinations, with this app's defaults.
struct Flags {
    SegmentationDataOptions data;
    CommonFlags common;
    int64_t width = 16, grid_rows = 4;
    Flags() {
        common.out_dir = "out/train_unet";
        common.epochs = 20;
    }
};

// This app's own flags (the common training flags are added by parse_training_command_line).
void add_flags(CLI::App& app, Flags& f) {
    app.add_option("--data", f.data.dir, "Dataset folder (layout detected, see above)")->required();
    app.add_option("--classes", f.data.classes,
                   "Classes: image/label folders 2 (binary masks, dark = class 1 as the ISBI membranes) or N "
                   "(gray PNGs holding class ids 0..N-1, 255 = ignore); Cityscapes 8 (categories with void), 7 "
                   "(without void) or 19 (training classes). 0 = 2 or 8 by layout")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--width", f.width, "UNet base width (64 in the notebook; 16 or 32 train well on a CPU)")
        ->capture_default_str()
        ->check(apps::positive_number());
    app.add_option("--size", f.data.size,
                   "Training crop size (image/label folders) or resize size (Cityscapes); a multiple of 16")
        ->capture_default_str()
        ->check(apps::positive_number());
    app.add_option("--train-range", f.data.train_range,
                   "Training files by index in natural name order, e.g. 0-24 (default: all but the last sixth for "
                   "image/label folders, all of train/ for Cityscapes)");
    app.add_option("--val-range", f.data.val_range,
                   "Validation files by index, e.g. 25-29 (default: the last sixth, or all of val/)");
    app.add_option("--repeat", f.data.repeat,
                   "Uses of each training image per epoch, each with its own random crop and flips (0 = as many "
                   "crops as fit in an image)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--grid", f.grid_rows, "Validation samples shown in val_grid.png")
        ->capture_default_str()
        ->check(apps::non_negative_number());
}

// The trainer's options, with the run's config and the model card explain reads from the checkpoints.
TrainOptions trainer_options(const Flags& f, const CommonSetup& setup, const SegmentationData& data) {
    TrainOptions options = train_options(f.common, setup, kApp);
    options.score_name = "mean_iou";
    options.train_samples = data.train->size();
    options.data = data.describe;
    options.config["data"] = f.data.dir;
    options.config["classes"] = data.num_classes;
    options.config["width"] = f.width;
    options.config["size"] = f.data.size;
    ModelCard card;
    card.task = "segmentation";
    card.class_names = data.class_names;
    card.input_channels = data.in_channels;
    card.mean = data.mean;
    card.std = data.std;
    card.input_height = card.input_width = f.data.size;
    // Cityscapes pairs are resized to --size; image/label folders train on --size crops at the images' scale.
    card.resize = data.layout == "cityscapes-pairs" ? "resize" : "crop";
    card.dataset_kind = data.layout;
    card.dataset_path = f.data.dir;
    options.metadata = card.to_metadata();
    return options;
}

int run(int argc, char** argv) {
    CLI::App app{
        "Train a UNet for semantic segmentation.\n\n"
        "--data is either a Cityscapes pairs folder (train/ and val/ holding 512x256 JPEGs: the photo on "
        "the left, the colour label map on the right) or a segmentation folder (image/ and label/ with one "
        "label PNG of the same size and name per image, e.g. the ISBI 2012 membranes). Every epoch writes "
        "OUT/last.safetensors, OUT/best.safetensors (best validation mean IoU), OUT/metrics.json, "
        "OUT/loss.png and OUT/val_grid.png (image | label | prediction).",
        kApp};
    use_training_conventions(app);
    Flags f;
    add_flags(app, f);
    if (const auto code = parse_training_command_line(app, f.common, argc, argv)) return *code;

    const CommonSetup setup = resolve_common(f.common, kApp);
    const SegmentationData data = load_segmentation_data(f.data);
    models::ModelConfig config;
    config.name = "unet";
    config.in_channels = data.in_channels;
    config.num_classes = data.num_classes;
    config.width = f.width;
    std::shared_ptr<models::Model> model = make_training_model(config, setup);
    optim::AdamOptions adam;
    adam.lr = f.common.lr;
    optim::Adam optimizer(model->parameters(), adam);
    SegmentationTask task(data, *model, setup.device, f.common.batch, setup.seed, f.common.workers, f.grid_rows);
    const TrainOptions options = trainer_options(f, setup, data);
    std::printf(
        "%s: UNet width %lld, %lld -> %lld classes (%.2fM parameters); %s %s: %lld training samples (%lld "
        "per epoch with --repeat %lld), %lld validation; %s\n",
        kApp, static_cast<long long>(f.width), static_cast<long long>(data.in_channels),
        static_cast<long long>(data.num_classes), static_cast<double>(model->num_parameters()) / 1e6,
        data.layout.c_str(), f.data.dir.c_str(), static_cast<long long>(data.train->size() / data.repeat),
        static_cast<long long>(data.train->size()), static_cast<long long>(data.repeat),
        static_cast<long long>(data.val->size()), training_settings(f.common, setup).c_str());
    return run_trainer(options, *model, optimizer, task);
}

}  // namespace

int main(int argc, char** argv) {
    return run_main([&] { return run(argc, argv); });
}
