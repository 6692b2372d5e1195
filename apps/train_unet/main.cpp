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

int run(int argc, char** argv) {
    CLI::App app{"Train a UNet for semantic segmentation.\n\n"
                 "--data is either a Cityscapes pairs folder (train/ and val/ holding 512x256 JPEGs: the photo on "
                 "the left, the colour label map on the right) or a segmentation folder (image/ and label/ with one "
                 "label PNG of the same size and name per image, e.g. the ISBI 2012 membranes). Every epoch writes "
                 "OUT/last.safetensors, OUT/best.safetensors (best validation mean IoU), OUT/metrics.json, "
                 "OUT/loss.png and OUT/val_grid.png (image | label | prediction).",
                 kApp};
    use_training_conventions(app);
    SegmentationDataOptions data_options;
    CommonFlags flags;
    flags.out_dir = "out/train_unet";
    flags.epochs = 20;
    int64_t width = 16, grid_rows = 4;
    app.add_option("--data", data_options.dir, "Dataset folder (layout detected, see above)")->required();
    app.add_option("--classes", data_options.classes,
                   "Classes: image/label folders 2 (binary masks, dark = class 1 as the ISBI membranes) or N "
                   "(gray PNGs holding class ids 0..N-1, 255 = ignore); Cityscapes 8 (categories with void), 7 "
                   "(without void) or 19 (training classes). 0 = 2 or 8 by layout")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--width", width, "UNet base width (64 in the notebook; 16 or 32 train well on a CPU)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--size", data_options.size,
                   "Training crop size (image/label folders) or resize size (Cityscapes); a multiple of 16")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--train-range", data_options.train_range,
                   "Training files by index in natural name order, e.g. 0-24 (default: all but the last sixth for "
                   "image/label folders, all of train/ for Cityscapes)");
    app.add_option("--val-range", data_options.val_range,
                   "Validation files by index, e.g. 25-29 (default: the last sixth, or all of val/)");
    app.add_option("--repeat", data_options.repeat,
                   "Uses of each training image per epoch, each with its own random crop and flips (0 = as many "
                   "crops as fit in an image)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--grid", grid_rows, "Validation samples shown in val_grid.png")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    if (const auto code = parse_training_command_line(app, flags, argc, argv)) return *code;

    const CommonSetup setup = resolve_common(flags, kApp);
    const SegmentationData data = load_segmentation_data(data_options);

    models::ModelConfig config;
    config.name = "unet";
    config.in_channels = data.in_channels;
    config.num_classes = data.num_classes;
    config.width = width;
    std::shared_ptr<models::Model> model = make_training_model(config, setup);
    optim::AdamOptions adam;
    adam.lr = flags.lr;
    optim::Adam optimizer(model->parameters(), adam);

    SegmentationTask task(data, *model, setup.device, flags.batch, setup.seed, flags.workers, grid_rows);
    TrainOptions options = train_options(flags, setup, kApp);
    options.score_name = "mean_iou";
    options.train_samples = data.train->size();
    options.data = data.describe;
    options.config["data"] = data_options.dir;
    options.config["classes"] = data.num_classes;
    options.config["width"] = width;
    options.config["size"] = data_options.size;
    ModelCard card;
    card.task = "segmentation";
    card.class_names = data.class_names;
    card.input_channels = data.in_channels;
    card.mean = data.mean;
    card.std = data.std;
    card.input_height = card.input_width = data_options.size;
    // Cityscapes pairs are resized to --size; image/label folders train on --size crops at the images' scale.
    card.resize = data.layout == "cityscapes-pairs" ? "resize" : "crop";
    card.dataset_kind = data.layout;
    card.dataset_path = data_options.dir;
    options.metadata = card.to_metadata();

    std::printf("%s: UNet width %lld, %lld -> %lld classes (%.2fM parameters); %s %s: %lld training samples (%lld "
                "per epoch with --repeat %lld), %lld validation; %s\n",
                kApp, static_cast<long long>(width), static_cast<long long>(data.in_channels),
                static_cast<long long>(data.num_classes), static_cast<double>(model->num_parameters()) / 1e6,
                data.layout.c_str(), data_options.dir.c_str(),
                static_cast<long long>(data.train->size() / data.repeat), static_cast<long long>(data.train->size()),
                static_cast<long long>(data.repeat), static_cast<long long>(data.val->size()),
                training_settings(flags, setup).c_str());
    return run_trainer(options, *model, optimizer, task);
}

}  // namespace

int main(int argc, char** argv) {
    return run_main([&] { return run(argc, argv); });
}
