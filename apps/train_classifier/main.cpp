// train_classifier: trains LeNet on Fashion-MNIST (the default), VGG on an image folder, or a multi-label
// classifier from a CSV, with accuracy and a confusion matrix (or tuned per-class F1) every epoch,
// checkpoints, exact resume, a loss curve and a JSON report. See --help.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "apps/common/app_main.h"
#include "apps/common/flags.h"
#include "apps/common/model_card.h"
#include "apps/train_classifier/classification_data.h"
#include "apps/train_classifier/classification_task.h"
#include "models/model.h"

using namespace engine;
using namespace engine::apps;

namespace {

constexpr const char* kApp = "train_classifier";

// The flags' destinations, with this app's defaults.
struct Flags {
    ClassificationDataOptions data;
    CommonFlags common;
    std::string model_name = "lenet";
    int64_t size = 0, classifier_width = 512;
    double dropout = 0.5;
    Flags() {
        data.dir = "/usr/share/datasets/fashion-mnist";
        common.out_dir = "out/train_classifier";
        common.batch = 32;
    }
};

// This app's own flags (the common training flags are added by parse_training_command_line).
void add_flags(CLI::App& app, Flags& f) {
    app.add_option("--data", f.data.dir, "IDX folder, image folder, or CSV file (see above)")->capture_default_str();
    app.add_option("--model", f.model_name,
                   "lenet (28x28 gray input), vgg11, vgg13, vgg16, vgg19, or the same with _bn (BatchNorm)")
        ->capture_default_str();
    app.add_option("--size", f.size, "Input size in pixels (images are resized); 0 = 28 for lenet, 32 for VGG")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_flag("--multilabel", f.data.multilabel,
                 "Multi-label training from the CSV given as --data: BCE with logits; per-class thresholds are "
                 "tuned on the validation set to maximise F1 and reported");
    app.add_option("--val-data", f.data.val_data, "With --multilabel: a validation CSV (default: split)");
    app.add_option("--val-fraction", f.data.val_fraction,
                   "Share of the samples kept for validation when there is no separate validation set (the last "
                   "ones in file order)")
        ->capture_default_str()
        ->check(apps::number_in(0.0, 0.9));
    app.add_option("--limit", f.data.limit, "Use only the first N training samples (0 = all)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--val-limit", f.data.val_limit, "Validate on only the first N samples (0 = all)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--classifier-width", f.classifier_width, "VGG: width of the two hidden fully connected layers")
        ->capture_default_str()
        ->check(apps::positive_number());
    app.add_option("--dropout", f.dropout, "VGG: dropout probability in the classifier")
        ->capture_default_str()
        ->check(apps::number_in(0.0, 0.99));
}

// --model and --size: a classifier the data can feed; sets the data's size and channels.
void check_model_flags(Flags& f) {
    const bool lenet = f.model_name == "lenet";
    bool known = false;
    for (const std::string& name : models::model_names()) known |= name == f.model_name;
    if (!known || f.model_name == "unet" || f.model_name == "fcn32s")
        throw UsageError("--model " + f.model_name + ": expected lenet, vgg11, vgg13, vgg16, vgg19 or one with _bn");
    if (f.size == 0) f.size = lenet ? 28 : 32;
    if (lenet && f.size != 28) throw UsageError("--size: LeNet takes 28x28 inputs");
    if (!lenet && f.size < 32) throw UsageError("--size: VGG needs at least 32x32 inputs (five 2x2 poolings)");
    f.data.size = f.size;
    f.data.channels = lenet ? 1 : 0;
}

models::ModelConfig model_config(const Flags& f, const ClassificationData& data) {
    models::ModelConfig config;
    config.name = f.model_name;
    config.in_channels = data.in_channels;
    config.num_classes = data.num_classes;
    if (f.model_name != "lenet") {
        config.pool_size = f.size >= 224 ? 7 : 1;
        config.classifier_width = f.classifier_width;
        config.dropout = f.dropout;
    }
    return config;
}

// The trainer's options, with the run's config and the model card explain reads from the checkpoints.
TrainOptions trainer_options(const Flags& f, const CommonSetup& setup, const ClassificationData& data) {
    TrainOptions options = train_options(f.common, setup, kApp);
    options.score_name = data.multilabel ? "macro_f1" : "accuracy";
    options.train_samples = data.train_size;
    options.data = data.describe;
    options.config["data"] = f.data.dir;
    options.config["model"] = f.model_name;
    options.config["size"] = f.size;
    options.config["multilabel"] = data.multilabel;
    ModelCard card;
    card.task = data.multilabel ? "multilabel" : "classification";
    card.class_names = data.class_names;
    card.input_channels = data.in_channels;
    card.mean = data.normalize_mean;
    card.std = data.normalize_std;
    card.input_height = card.input_width = f.size;
    card.resize = "resize";  // IDX images too, when --size differs from their 28x28
    card.dataset_kind = data.layout;
    card.dataset_path = f.data.dir;
    options.metadata = card.to_metadata();
    return options;
}

int run(int argc, char** argv) {
    CLI::App app{
        "Train an image classifier.\n\n"
        "--data is a folder of IDX files (MNIST / Fashion-MNIST: train-images-idx3-ubyte[.gz] and the "
        "rest; validation uses the t10k test split), a folder with one sub-folder of images per class "
        "(optionally inside train/ and val/), or with --multilabel a CSV of `image,labels` lines (labels "
        "separated by spaces). Every epoch writes OUT/last.safetensors, OUT/best.safetensors (best "
        "validation accuracy, or macro F1 for multi-label), OUT/metrics.json and OUT/loss.png.",
        kApp};
    use_training_conventions(app);
    Flags f;
    add_flags(app, f);
    if (const auto code = parse_training_command_line(app, f.common, argc, argv)) return *code;
    check_model_flags(f);

    const CommonSetup setup = resolve_common(f.common, kApp);
    const ClassificationData data = load_classification_data(f.data);
    std::shared_ptr<models::Model> model = make_training_model(model_config(f, data), setup);
    optim::AdamOptions adam;
    adam.lr = f.common.lr;
    optim::Adam optimizer(model->parameters(), adam);
    ClassificationTask task(data, *model, setup.device, f.common.batch, setup.seed, f.common.workers);
    const TrainOptions options = trainer_options(f, setup, data);
    std::printf(
        "%s: %s, %lld -> %lld classes%s (%.3fM parameters); %s %s: %lld training, %lld validation "
        "samples; %s\n",
        kApp, f.model_name.c_str(), static_cast<long long>(data.in_channels), static_cast<long long>(data.num_classes),
        data.multilabel ? " (multi-label)" : "", static_cast<double>(model->num_parameters()) / 1e6,
        data.layout.c_str(), f.data.dir.c_str(), static_cast<long long>(data.train_size),
        static_cast<long long>(data.val_size), training_settings(f.common, setup).c_str());
    return run_trainer(options, *model, optimizer, task);
}

}  // namespace

int main(int argc, char** argv) {
    return run_main([&] { return run(argc, argv); });
}
