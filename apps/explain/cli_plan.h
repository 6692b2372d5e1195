// The explain command's plan: every flag parsed and validated once, before any model or image is read, into
// typed fields (enums, numbers, lists). Nothing after make_plan() sees a flag's text; what can only be checked
// against the model (layer paths, class names of --target, --segments semantic, per-channel --normalize values)
// is resolved once when the model is loaded, before the first image (cli.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/common/app_main.h"
#include "apps/common/enum_names.h"
#include "apps/explain/attribution/common.h"
#include "apps/explain/attribution/gradients.h"
#include "apps/explain/cli_method_table.h"
#include "apps/explain/render/panels.h"
#include "apps/explain/render/visualize.h"
#include "models/model.h"

namespace engine::explain::cli {

struct ExplainOptions;

// ---------------------------------------------------------------- the command's own enums and their names

enum class ChannelPolicy { Safe, Luma, Strict };  // --channel-policy
inline constexpr apps::EnumName<ChannelPolicy> kChannelPolicyRows[] = {
    {ChannelPolicy::Safe, "safe"}, {ChannelPolicy::Luma, "luma"}, {ChannelPolicy::Strict, "strict"}};
inline constexpr apps::EnumNames<ChannelPolicy> kChannelPolicyNames{"channel policy", kChannelPolicyRows};

enum class PairsMode { Auto, Photo, Whole };  // --pairs
inline constexpr apps::EnumName<PairsMode> kPairsModeRows[] = {
    {PairsMode::Auto, "auto"}, {PairsMode::Photo, "photo"}, {PairsMode::Whole, "whole"}};
inline constexpr apps::EnumNames<PairsMode> kPairsModeNames{"pairs mode", kPairsModeRows};

enum class SegTarget { Mask, Whole };  // --seg-target
inline constexpr apps::EnumName<SegTarget> kSegTargetRows[] = {{SegTarget::Mask, "mask"}, {SegTarget::Whole, "whole"}};
inline constexpr apps::EnumNames<SegTarget> kSegTargetNames{"segmentation target", kSegTargetRows};

// Feature masks of ablation and LIME (--segments; "auto" is resolved by the model's kind). The names are in
// file names ("_lime_slic_top.png") and results.json keys ("lime_topk_iou_slic").
enum class SegmentKind { Semantic, Slic, Grid };
inline constexpr apps::EnumName<SegmentKind> kSegmentKindRows[] = {
    {SegmentKind::Semantic, "semantic"}, {SegmentKind::Slic, "slic"}, {SegmentKind::Grid, "grid"}};
inline constexpr apps::EnumNames<SegmentKind> kSegmentKindNames{"feature mask", kSegmentKindRows};

// --baseline: constant pictures, blur, noise or an image file.
enum class BaselineKind { Black, White, Zero, Blur, Noise, Image };
inline constexpr apps::EnumName<BaselineKind> kBaselineKindRows[] = {
    {BaselineKind::Black, "black"}, {BaselineKind::White, "white"}, {BaselineKind::Zero, "zero"},
    {BaselineKind::Zero, "zeros"},  {BaselineKind::Blur, "blur"},   {BaselineKind::Noise, "noise"}};
inline constexpr apps::EnumNames<BaselineKind> kBaselineKindNames{"baseline", kBaselineKindRows};

// --normalize presets; MEAN/STD values are Custom (no name).
enum class NormalizeKind { Auto, None, ImageNet, Mnist, FashionMnist, Custom };
inline constexpr apps::EnumName<NormalizeKind> kNormalizeKindRows[] = {{NormalizeKind::Auto, "auto"},
                                                                       {NormalizeKind::None, "none"},
                                                                       {NormalizeKind::ImageNet, "imagenet"},
                                                                       {NormalizeKind::Mnist, "mnist"},
                                                                       {NormalizeKind::FashionMnist, "fashion-mnist"}};
inline constexpr apps::EnumNames<NormalizeKind> kNormalizeKindNames{"normalisation", kNormalizeKindRows};

// ---------------------------------------------------------------- the plan

struct ModelPlan {
    std::string weights;                        // empty only with --list-layers and --model (fresh weights)
    std::string name;                           // --model (a valid name), empty: the checkpoint's
    std::optional<models::ModelConfig> config;  // with --model: its config (--model-config), for weight files
    bool allow_nonfinite = false;               // load weights holding NaN/Inf (with a warning)
};

struct InputPlan {
    std::vector<std::string> images;  // files or folders
    std::string idx;                  // an IDX images file
    std::string index;                // its positions, "0-9,12": checked against the file's size when read
    std::string idx_labels;           // empty: the sibling labels file when present
    std::string class_names;          // a file, one name per line
    bool skip_bad = false;            // --skip-bad: a file that cannot be read or explained is reported and skipped
};

struct NormalizePlan {
    NormalizeKind kind = NormalizeKind::Auto;
    std::vector<double> mean, std;  // Custom: one value, or one per channel (checked against the model)
};

struct PreprocessPlan {
    std::optional<std::pair<int64_t, int64_t>> size;  // --size (H, W); none: checkpoint metadata or the model's
    NormalizePlan normalize;
    ChannelPolicy channel_policy = ChannelPolicy::Safe;
    PairsMode pairs = PairsMode::Auto;
};

// One item of --target: a class id, a class name (matched to the class names once they are known), the
// predicted class or every class.
struct TargetItem {
    enum class Kind { Auto, All, Id, Name };
    Kind kind = Kind::Auto;
    int64_t id = -1;   // Id (-1: unreadable, reported as out of range)
    std::string text;  // as written (Id, Name)
};

struct BaselinePlan {
    BaselineKind kind = BaselineKind::Black;
    std::optional<double> sigma;  // Blur: blur:SIGMA; none: the library's default
    std::string image;            // Image: the file
};
// For the report and the methods' parameters: "black", "blur:2.5", the image path.
std::string baseline_label(const BaselinePlan& baseline);

struct MethodPlan {
    std::vector<Method> methods;      // table order
    std::vector<std::string> layers;  // CAM and activation layer paths; empty: the last conv layer
    std::vector<TargetItem> targets;
    SegTarget seg_target = SegTarget::Mask;
    BaselinePlan baseline;
    // integrated gradients
    int64_t ig_steps = 50;
    IgMethod ig_method = IgMethod::GaussLegendre;
    int64_t internal_batch = 0;
    // CAMs
    bool relu = false;
    Upsample upsample = Upsample::Bilinear;
    // feature masks (ablation, LIME); nullopt: auto (semantic for segmentation models, slic otherwise)
    std::vector<std::optional<SegmentKind>> segments;
    int64_t n_segments = 50;
    double compactness = 10.0;
    int64_t grid_cell = 0;
    // perturbation methods
    int64_t lime_samples = 0;
    int64_t lime_seeds = 1;
    int64_t perturbations_per_eval = 8;
    int64_t occlusion_window = 0;
    int64_t occlusion_stride = 0;
    uint64_t seed = 0;

    bool has(Method m) const;
};

struct DisplayPlan {
    std::optional<render::Sign> sign;          // none: per method (absolute_value for saliency, else all)
    std::optional<render::ColorMap> colormap;  // none: Captum's per sign
    std::optional<render::Palette> palette;    // none: by the class count
    double outlier_perc = 2.0;
    int64_t top_k = 5;
};

struct MetricsPlan {
    bool on = true;
    int64_t steps = 20;         // deletion / insertion curve steps
    int64_t sanity_layers = 2;  // 0: no sanity check
};

struct ExplainPlan {
    ModelPlan model;
    InputPlan inputs;
    PreprocessPlan preprocess;
    MethodPlan methods;
    DisplayPlan display;
    MetricsPlan metrics;
    apps::DeviceRequest device;
    int threads = 0;  // 0: all cores
    bool list_layers = false;
    std::string out;  // the output folder (required unless --list-layers)
};

// Parses and validates every flag; throws apps::UsageError naming the flag.
ExplainPlan make_plan(const ExplainOptions& options);

// "HxW" or "N" -> (H, W); throws UsageError naming `flag`.
std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& flag);

}  // namespace engine::explain::cli
