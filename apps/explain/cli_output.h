// Shared pieces of the explain command's method runners (internal to the command): rendering and
// writing one map (heat map, overlay, raw .npy), the fidelity metrics (deletion/insertion curves, the
// model-randomisation sanity check) and the JSON record of a method's output.
#pragma once

#include <string>

#include "apps/explain/cli_methods.h"

namespace engine::explain::cli {

std::string fixed4(double v);  // 4 significant digits
// --sign, else absolute_value for saliency and all for everything else.
render::Sign sign_for(Method method, const RunSettings& s);
std::string out_path(const RunSettings& s, const std::string& file);
// INPUT_TARGET_TAG, the stem of a method's files.
std::string base_name(const ImageContext& ctx, const TargetContext& t, const std::string& tag);

// A method's report section and JSON record, started with its title and target (nullptr: no target).
MethodOutput start_output(Method method, const TargetContext* target);
// Renders a (1, K, H, W) map as BASE_map.png (heat map) and BASE_overlay.png (blended over the gray image),
// writes the raw map as BASE.npy, and adds the pictures, files and display settings to `out`.
render::NormalizedMap render_map(const ImageContext& ctx, const RunSettings& s, const Tensor& map, Method method,
                                 const std::string& base, MethodOutput& out);
void add_metric(MethodOutput& out, const std::string& name, double value, const std::string& hint,
                const std::string& json_key);
// Deletion and insertion AUC of `map` (when metrics are on).
void add_curves(ImageContext& ctx, const TargetContext& t, const RunSettings& s, const Tensor& map, MethodOutput& out);
// The cascading model-randomisation check of `fn` (when metrics are on and --sanity-layers > 0).
void add_sanity(ImageContext& ctx, const RunSettings& s, const AttributionFn& fn, MethodOutput& out);
// Time, the library's settings and the notes into the record.
void finish_output(MethodOutput& out, double seconds, const nlohmann::json& settings);

// Ablation, occlusion and LIME (cli_perturbation.cpp), appended to `outputs`.
void run_perturbations(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                       std::vector<MethodOutput>& outputs);

}  // namespace engine::explain::cli
