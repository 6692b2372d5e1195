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

int run(int argc, char** argv) {
    CLI::App app{"Train an image classifier.\n\n"
                 "--data is a folder of IDX files (MNIST / Fashion-MNIST: train-images-idx3-ubyte[.gz] and the "
                 "rest; validation uses the t10k test split), a folder with one sub-folder of images per class "
                 "(optionally inside train/ and val/), or with --multilabel a CSV of `image,labels` lines (labels "
                 "separated by spaces). Every epoch writes OUT/last.safetensors, OUT/best.safetensors (best "
                 "validation accuracy, or macro F1 for multi-label), OUT/metrics.json and OUT/loss.png.",
                 kApp};
    use_training_conventions(app);
    ClassificationDataOptions data_options;
    data_options.dir = "/usr/share/datasets/fashion-mnist";
    CommonFlags flags;
    flags.out_dir = "out/train_classifier";
    flags.batch = 32;
    std::string model_name = "lenet";
    int64_t size = 0, classifier_width = 512;
    double dropout = 0.5;
    app.add_option("--data", data_options.dir, "IDX folder, image folder, or CSV file (see above)")
        ->capture_default_str();
    app.add_option("--model", model_name,
                   "lenet (28x28 gray input), vgg11, vgg13, vgg16, vgg19, or the same with _bn (BatchNorm)")
        ->capture_default_str();
    app.add_option("--size", size, "Input size in pixels (images are resized); 0 = 28 for lenet, 32 for VGG")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--multilabel", data_options.multilabel,
                 "Multi-label training from the CSV given as --data: BCE with logits; per-class thresholds are "
                 "tuned on the validation set to maximise F1 and reported");
    app.add_option("--val-data", data_options.val_data, "With --multilabel: a validation CSV (default: split)");
    app.add_option("--val-fraction", data_options.val_fraction,
                   "Share of the samples kept for validation when there is no separate validation set (the last "
                   "ones in file order)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.9));
    app.add_option("--limit", data_options.limit, "Use only the first N training samples (0 = all)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--val-limit", data_options.val_limit, "Validate on only the first N samples (0 = all)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--classifier-width", classifier_width, "VGG: width of the two hidden fully connected layers")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--dropout", dropout, "VGG: dropout probability in the classifier")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.99));
    if (const auto code = parse_training_command_line(app, flags, argc, argv)) return *code;

    const bool lenet = model_name == "lenet";
    bool known = false;
    for (const std::string& name : models::model_names()) known |= name == model_name;
    if (!known || model_name == "unet" || model_name == "fcn32s")
        throw UsageError("--model " + model_name + ": expected lenet, vgg11, vgg13, vgg16, vgg19 or one with _bn");
    if (size == 0) size = lenet ? 28 : 32;
    if (lenet && size != 28) throw UsageError("--size: LeNet takes 28x28 inputs");
    if (!lenet && size < 32) throw UsageError("--size: VGG needs at least 32x32 inputs (five 2x2 poolings)");
    data_options.size = size;
    data_options.channels = lenet ? 1 : 0;

    const CommonSetup setup = resolve_common(flags, kApp);
    const ClassificationData data = load_classification_data(data_options);

    models::ModelConfig config;
    config.name = model_name;
    config.in_channels = data.in_channels;
    config.num_classes = data.num_classes;
    if (!lenet) {
        config.pool_size = size >= 224 ? 7 : 1;
        config.classifier_width = classifier_width;
        config.dropout = dropout;
    }
    std::shared_ptr<models::Model> model = make_training_model(config, setup);
    optim::AdamOptions adam;
    adam.lr = flags.lr;
    optim::Adam optimizer(model->parameters(), adam);

    ClassificationTask task(data, *model, setup.device, flags.batch, setup.seed, flags.workers);
    TrainOptions options = train_options(flags, setup, kApp);
    options.score_name = data.multilabel ? "macro_f1" : "accuracy";
    options.train_samples = data.train_size;
    options.data = data.describe;
    options.config["data"] = data_options.dir;
    options.config["model"] = model_name;
    options.config["size"] = size;
    options.config["multilabel"] = data.multilabel;
    ModelCard card;
    card.task = data.multilabel ? "multilabel" : "classification";
    card.class_names = data.class_names;
    card.input_channels = data.in_channels;
    card.mean = data.normalize_mean;
    card.std = data.normalize_std;
    card.input_height = card.input_width = size;
    card.resize = "resize";  // IDX images too, when --size differs from their 28x28
    card.dataset_kind = data.layout;
    card.dataset_path = data_options.dir;
    options.metadata = card.to_metadata();

    std::printf("%s: %s, %lld -> %lld classes%s (%.3fM parameters); %s %s: %lld training, %lld validation "
                "samples; %s\n",
                kApp, model_name.c_str(), static_cast<long long>(data.in_channels),
                static_cast<long long>(data.num_classes), data.multilabel ? " (multi-label)" : "",
                static_cast<double>(model->num_parameters()) / 1e6, data.layout.c_str(), data_options.dir.c_str(),
                static_cast<long long>(data.train_size), static_cast<long long>(data.val_size),
                training_settings(flags, setup).c_str());
    return run_trainer(options, *model, optimizer, task);
}

}  // namespace

int main(int argc, char** argv) {
    return run_main([&] { return run(argc, argv); });
}
