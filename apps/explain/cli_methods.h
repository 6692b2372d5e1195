// The explain command's per-image work: the contexts shared by every method on one input (clean prediction,
// baseline, feature mask) and one target, the method runners (each renders its pictures, writes them with
// the raw .npy map, measures the fidelity metrics and returns the report section and its JSON record).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apps/explain/attribution/explain.h"
#include "apps/explain/cli.h"
#include "apps/explain/cli_input.h"
#include "apps/explain/render/report.h"
#include "apps/explain/render/visualize.h"

namespace engine::explain::cli {

// Every method name the command accepts, in the order they run.
const std::vector<std::string>& method_names();
// The names of a --method list, validated and de-duplicated ("all" expands to every method); throws UsageError.
std::vector<std::string> parse_methods(const std::vector<std::string>& items);

struct RunSettings {
    const ExplainOptions* options = nullptr;
    const Preprocessing* prep = nullptr;
    std::vector<std::string> layers;         // CAM and activation layers (resolved, validated)
    std::vector<std::string> segment_kinds;  // feature masks of ablation and LIME (resolve_segment_kinds)
    std::vector<std::string> class_names;
    std::optional<render::Sign> sign;          // none: per method (absolute_value for saliency, else all)
    std::optional<render::ColorMap> colormap;  // none: Captum's per sign
    bool metrics = true;
    Device device;
    std::string out_dir;
};

// A feature mask of ablation and LIME.
struct FeatureMask {
    std::string kind;         // "semantic", "slic", "grid"
    std::string description;  // "slic, 37 segments"
    Tensor mask;              // (1, 1, H, W) int64 on the device
    Tensor mask2d;            // (H, W) int64 on the CPU
    data::Image picture;      // the segment boundaries over the image
};

// One input image on the model's device with what every target of it shares.
struct ImageContext {
    const InputImage* input = nullptr;
    nn::Module* model = nullptr;
    bool segmentation = false;
    Tensor x;                // (1, C, H, W) on the device
    Tensor output;           // clean output, CPU
    Tensor predicted;        // segmentation: int64 (H, W) argmax, CPU
    Baseline baseline;       // the --baseline as a reference input
    Tensor baseline_tensor;  // (1, C, H, W) on the device
    data::Image baseline_display;
    std::map<std::string, FeatureMask> feature_masks;  // by kind, made on first use
};

struct TargetContext {
    Target target;  // what the methods explain
    Target frozen;  // the same scores, independent of the model's prediction (sanity checks)
    int64_t cls = 0;
    std::string label;  // "class 3 (Dress)"
    std::string tag;    // file-name part: "c3"
};

struct MethodOutput {
    render::ReportMethod report;
    nlohmann::json json;
};

// --segments items (auto, semantic, slic, grid) as distinct kinds; throws UsageError (semantic needs a
// segmentation model).
std::vector<std::string> resolve_segment_kinds(const std::vector<std::string>& items, bool segmentation);
// Builds the baseline of --baseline for one input (black, white, zero, blur[:SIGMA], noise[:SEED] or an image).
void prepare_baseline(ImageContext& ctx, const RunSettings& settings);
// The attribution methods (everything but activations) on one target, in method_names() order.
std::vector<MethodOutput> run_target(ImageContext& ctx, const TargetContext& target, const RunSettings& settings,
                                     const std::vector<std::string>& methods);
// Layer activations (target-independent): one grid per layer.
MethodOutput run_activations(ImageContext& ctx, const RunSettings& settings);

// Random-ordering reference curves for one target: deletion and insertion AUC of a random map.
std::pair<double, double> random_reference(ImageContext& ctx, const TargetContext& target, const RunSettings& settings);

}  // namespace engine::explain::cli
