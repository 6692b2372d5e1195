// explain: attribution maps, fidelity metrics and an HTML report for a trained LeNet, VGG, UNet or FCN-32s.
// This file is its command line: the --help texts, every flag with its check, and main(), which parses the flags,
// turns them into the typed plan (make_plan, cli_plan.h) before anything is loaded, and runs it (run_explain,
// cli.cpp). The only explain file that includes CLI11 (see apps/common/app_main.h).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "apps/common/app_main.h"
#include "apps/common/flags.h"
#include "apps/explain/cli.h"
#include "apps/explain/cli_options.h"
#include "apps/explain/cli_plan.h"
#include "apps/explain/cli_text.h"
#include "apps/explain/render/colormap.h"
#include "models/model.h"

namespace engine::explain::cli {

namespace {

std::string description() {
    return "Explain the predictions of a trained model (LeNet, VGG, UNet, FCN-32s) with attribution methods, and "
           "write the pictures, the raw maps (.npy), results.json and a self-contained report.html to --out.\n\n"
           "Methods: gradcam, gradcam++, hirescam, layercam (at --layer; all CAMs share one pass), activations "
           "(channel grids of --layer), saliency (|gradient|), gradient, ixg (input x gradient), ig (integrated "
           "gradients), ablation (feature ablation over --segments), occlusion (sliding window), lime (over "
           "--segments), or all.\n"
           "Targets: classifiers explain the predicted class by default; segmentation models the class with the "
           "most predicted pixels, scored as the sum of its logits over its predicted (frozen) mask, as Captum's "
           "segmentation tutorial; --target all explains every class (classifier) or every predicted class "
           "(segmentation).\n"
           "Preprocessing: images are converted to the model's channels (--channel-policy), resized to its input "
           "size (--size; default 28x28 for LeNet, 32x32 or 224x224 for VGG by its pool size, the image's own size "
           "rounded to a multiple of 16 for UNet and 32 for FCN-32s) and normalised (--normalize; default: the "
           "checkpoint's 'normalize' metadata, else the training apps' values). What the training apps store in "
           "their checkpoints is used when present (keys in models/checkpoint.h): class_names (report, --target "
           "by name), normalize, input_size (unless resize is crop: the model trained on crops at the images' "
           "scale, so each image keeps its size), input_channels (checked against the model), task (multilabel: "
           "sigmoid probabilities) and dataset_kind/dataset_path (reported); a flag given on the command line "
           "wins over them.\n"
           "Pictures follow Captum's visualize_image_attr: channels summed, --sign, the cumulative-sum outlier "
           "normalisation (--outlier-perc) and Captum's colour map per sign unless --colormap.";
}

std::string footer() {
    return "Examples:\n"
           "  explain --weights out/train_classifier/best.safetensors --idx "
           "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --index 0-3 --method gradcam,ig,lime "
           "--out out/explain\n"
           "  explain --weights out/train_unet/best.safetensors --image photo.png --method gradcam,ablation "
           "--target all --out out/explain_unet\n"
           "  explain --weights out/train_classifier/best.safetensors --list-layers\n\n"
           "Output: per input NAME_input.png (and NAME_segmentation.png), per method and target "
           "NAME_cCLASS_METHOD_map.png (the normalised map), _overlay.png (over the gray image), .npy (the raw "
           "signed map), extra pictures (IG panel, LIME top segments, features), results.json and report.html.\n"
           "Exit codes: 0 success, 1 error (model, checkpoint, image, device, I/O), 2 usage error (a flag or its "
           "value, an unknown class or method).";
}

// The model, the inputs, what to explain and where the outputs go.
void add_input_flags(CLI::App& app, ExplainOptions& o) {
    app.add_option(
        "--model", o.model,
        "Model name; must agree with the checkpoint (needed for plain weight files): " + join(models::model_names()));
    app.add_option("--weights", o.weights, "Engine checkpoint (or a plain weight file with --model)");
    app.add_option("--model-config", o.model_config, "ModelConfig JSON for a plain weight file, e.g. {\"width\":16}");
    app.add_option("--image", o.images, "Image file (PNG, JPEG, BMP) or folder of images; repeatable");
    app.add_option("--idx", o.idx, "IDX images file (e.g. t10k-images-idx3-ubyte.gz of Fashion-MNIST)");
    app.add_option("--index", o.index, "With --idx: positions, e.g. 0 or 0-9,12")->capture_default_str();
    app.add_option("--idx-labels", o.idx_labels, "With --idx: labels file (default: the sibling labels file)");
    app.add_option("--method", o.methods, "Comma-separated methods (see above)")->delimiter(',')->capture_default_str();
    app.add_option("--layer", o.layers,
                   "Layer path(s) for CAMs and activations (default: the last conv layer; see "
                   "--list-layers)")
        ->delimiter(',');
    app.add_option("--target", o.target, "auto, all, or comma-separated class ids / names")->capture_default_str();
    app.add_option("--seg-target", o.seg_target,
                   "Segmentation class score: mask (sum over the class's predicted pixels) or whole (every pixel)")
        ->capture_default_str()
        ->check(CLI::IsMember(kSegTargetNames.names()));
    app.add_option("--out", o.out, "Output folder (created)");
}

// The methods' options.
void add_method_flags(CLI::App& app, ExplainOptions& o) {
    app.add_option("--ig-steps", o.ig_steps, "Integrated gradients: steps")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--ig-method", o.ig_method,
                   "riemann_left, riemann_right, riemann_middle, riemann_trapezoid or gausslegendre (Captum's names)")
        ->capture_default_str();
    app.add_option("--baseline", o.baseline,
                   "Reference input of ig, ablation, occlusion, lime and the deletion metric: black, white (pixels), "
                   "zero (0 after normalisation: Captum's default), blur[:SIGMA], noise (uniform pixels, --seed) or "
                   "an image file")
        ->capture_default_str();
    app.add_option("--internal-batch", o.internal_batch, "Integrated gradients: inputs per forward (0 = auto)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_flag("--relu", o.relu, "CAMs: ReLU the maps (Captum's relu_attributions; default off, signed maps)");
    app.add_option("--upsample", o.upsample, "CAMs: bilinear, nearest (Captum's default) or none")
        ->capture_default_str()
        ->check(CLI::IsMember({"bilinear", "nearest", "none"}));
    app.add_option("--segments", o.segments,
                   "Feature masks of ablation and lime, comma-separated to compare them side by side: semantic (the "
                   "model's predicted segments), slic, grid, or auto (semantic for segmentation models, slic "
                   "otherwise)")
        ->delimiter(',')
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "semantic", "slic", "grid"}));
    app.add_option("--n-segments", o.n_segments, "slic: about this many superpixels; grid: about this many cells")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(100000)));
    app.add_option("--compactness", o.compactness, "slic: colour versus space")
        ->capture_default_str()
        ->check(apps::positive_number());
    app.add_option("--grid-cell", o.grid_cell, "grid: cell side in pixels (0 = from --n-segments)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--lime-samples", o.lime_samples, "lime: samples (0 = 10 per segment, 50 to 2000)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--lime-seeds", o.lime_seeds,
                   "lime: runs with seeds --seed, --seed + 1, ...; more than 1 reports the maps' rank correlation "
                   "(stability across seeds)")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(100)));
    app.add_option("--perturbations-per-eval", o.perturbations_per_eval,
                   "ablation, occlusion, lime: perturbed inputs per forward")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(4096)));
    app.add_option("--occlusion-window", o.occlusion_window, "occlusion: window side (0 = 1/8 of the smaller side)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--occlusion-stride", o.occlusion_stride, "occlusion: stride (0 = half the window)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--seed", o.seed, "Seed of lime samples, noise baselines and the sanity check")
        ->capture_default_str()
        ->check(apps::non_negative_integer());
}

// Display and fidelity metrics.
void add_display_flags(CLI::App& app, ExplainOptions& o) {
    app.add_option("--outlier-perc", o.outlier_perc,
                   "Display: the share of the largest |values| clipped (Captum's "
                   "cumulative-sum rule)")
        ->capture_default_str()
        ->check(apps::number_in(0.0, 100.0));
    app.add_option("--colormap", o.colormap, "Display: auto (Captum's per sign) or " + join(render::colormap_names()))
        ->capture_default_str();
    app.add_option("--sign", o.sign,
                   "Display: auto (absolute_value for saliency, else all), all, positive, negative "
                   "or absolute_value")
        ->capture_default_str();
    app.add_option("--metrics", o.metrics,
                   "Fidelity metrics: deletion/insertion AUC, IG completeness gap, LIME R2, "
                   "model-randomisation sanity check")
        ->capture_default_str()
        ->check(CLI::IsMember({"on", "off"}));
    app.add_option("--metric-steps", o.metric_steps, "Deletion/insertion curve steps")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(10000)));
    app.add_option("--sanity-layers", o.sanity_layers,
                   "Sanity check: layers re-initialised from the output down (0 = off; gradient methods only)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--top-k", o.top_k, "Classes shown per prediction; lime segments shown per sign")
        ->capture_default_str()
        ->check(CLI::Range(int64_t(1), int64_t(100)));
}

// Device, class names and preprocessing.
void add_run_flags(CLI::App& app, ExplainOptions& o) {
    app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads for the math (0 = all cores)")
        ->capture_default_str()
        ->check(apps::thread_count());
    app.add_option("--class-names", o.class_names, "File with one class name per line");
    app.add_option("--size", o.size, "Model input size HxW or N (default: see above)");
    app.add_option("--normalize", o.normalize,
                   "auto, none, imagenet, mnist, fashion-mnist, or MEAN/STD with comma-separated per-channel values "
                   "(e.g. 0.5/0.2)")
        ->capture_default_str();
    app.add_option("--channel-policy", o.channel_policy,
                   "safe: gray->RGB, alpha dropped, colour images read as gray only when their channels are equal; "
                   "luma: also colour->gray; strict: no conversion")
        ->capture_default_str()
        ->check(CLI::IsMember(kChannelPolicyNames.names()));
    app.add_option(
           "--pairs", o.pairs,
           "Photo | label pair files (Cityscapes image pairs: photo left, colour labels right, twice as wide as "
           "high): photo explains the left half, whole the whole file; auto: photo when the checkpoint was "
           "trained on cityscapes-pairs and the image is twice as wide as high")
        ->capture_default_str()
        ->check(CLI::IsMember(kPairsModeNames.names()));
    app.add_option("--palette", o.palette, "Segmentation colours: auto (by class count), voc, cityscapes, cityscapes19")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "voc", "cityscapes", "cityscapes19"}));
    app.add_flag("--list-layers", o.list_layers, "Print the model's layer paths and types and exit");
    app.add_flag("--skip-bad", o.skip_bad,
                 "Report an input that cannot be read or explained (a corrupt file, a non-finite output) on stderr "
                 "and go on with the others, instead of stopping");
    app.add_flag("--allow-nonfinite", o.allow_nonfinite,
                 "Load weights that hold NaN or infinite values (with a warning naming them) instead of refusing");
}

// Adds every flag to `app` with `options` as the destination and defaults, in --help order.
void add_flags(CLI::App& app, ExplainOptions& options) {
    add_input_flags(app, options);
    add_method_flags(app, options);
    add_display_flags(app, options);
    add_run_flags(app, options);
}

}  // namespace
}  // namespace engine::explain::cli

int main(int argc, char** argv) {
    using namespace engine;
    return apps::run_main([&] {
        explain::cli::ExplainOptions options;
        CLI::App app{explain::cli::description(), "explain"};
        app.get_formatter()->column_width(36);
        explain::cli::add_flags(app, options);
        app.footer(explain::cli::footer());
        if (const auto code = apps::parse_command_line(app, argc, argv)) return *code;
        return explain::cli::run_explain(explain::cli::make_plan(options));
    });
}
