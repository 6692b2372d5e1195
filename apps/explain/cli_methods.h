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
#include "apps/explain/cli_input.h"
#include "apps/explain/cli_plan.h"
#include "apps/explain/render/report.h"
#include "apps/explain/render/visualize.h"

namespace engine::explain::cli {

// The plan with what it resolves to once the model is known: what every method runner reads.
struct RunSettings {
    const ExplainPlan* plan = nullptr;
    const Preprocessing* prep = nullptr;
    std::vector<std::string> layers;         // CAM and activation layers (resolved, validated)
    std::vector<SegmentKind> segment_kinds;  // feature masks of ablation and LIME (resolve_segment_kinds)
    std::vector<TargetItem> targets;         // Auto, All or Id (resolve_target_items)
    std::vector<std::string> class_names;
    std::optional<data::Image> baseline_image;  // --baseline FILE, read once through the preprocessing
    Device device;
    std::string out_dir;

    const MethodPlan& methods() const { return plan->methods; }
    const DisplayPlan& display() const { return plan->display; }
    const MetricsPlan& metrics() const { return plan->metrics; }
};

// A feature mask of ablation and LIME.
struct FeatureMask {
    SegmentKind kind = SegmentKind::Slic;
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
    std::map<SegmentKind, FeatureMask> feature_masks;  // made on first use
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

// --segments (auto resolved by the model's kind) as distinct kinds; throws UsageError (semantic needs a
// segmentation model).
std::vector<SegmentKind> resolve_segment_kinds(const std::vector<std::optional<SegmentKind>>& items, bool segmentation);
// Builds the baseline of --baseline for one input (black, white, zero, blur[:SIGMA], noise or an image).
void prepare_baseline(ImageContext& ctx, const RunSettings& settings);
// The attribution methods (everything but activations) on one target, in the method table's order.
std::vector<MethodOutput> run_target(ImageContext& ctx, const TargetContext& target, const RunSettings& settings);
// Layer activations (target-independent): one grid per layer.
MethodOutput run_activations(ImageContext& ctx, const RunSettings& settings);

// Random-ordering reference curves for one target: deletion and insertion AUC of a random map.
std::pair<double, double> random_reference(ImageContext& ctx, const TargetContext& target, const RunSettings& settings);

}  // namespace engine::explain::cli
