// Shared pieces of the explain command's method runners: rendering and writing a map, the
// fidelity metrics, the JSON record.
#include "apps/explain/cli_output.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "apps/explain/cli_progress.h"
#include "apps/explain/render/npy.h"

namespace engine::explain::cli {

std::string fixed4(double v) { return render::format_value(v, 4); }

render::Sign sign_for(Method method, const RunSettings& s) {
    if (s.display().sign) return *s.display().sign;
    return method == Method::Saliency ? render::Sign::AbsoluteValue : render::Sign::All;
}

std::string out_path(const RunSettings& s, const std::string& file) {
    return (std::filesystem::path(s.out_dir) / file).string();
}

MethodOutput start_output(Method method, const TargetContext* target) {
    MethodOutput out;
    out.report.name = method_info(method).title;
    out.json = {{"method", method_info(method).name}};
    if (target) {
        out.report.target = target->label;
        out.json["target"] = {{"class", target->cls}, {"label", target->label}};
    }
    return out;
}

// Renders a (1, K, H, W) map: heat map, overlay and the raw .npy; adds them to `out`.
render::NormalizedMap render_map(const ImageContext& ctx, const RunSettings& s, const Tensor& map, Method method,
                                 const std::string& base, MethodOutput& out) {
    const Tensor host = map.select(0, 0).detach().to(Device::cpu()).contiguous();
    const render::Sign sign = sign_for(method, s);
    const render::ColorMap cmap = s.display().colormap.value_or(render::default_colormap(sign));
    render::NormalizedMap norm = render::normalize_attr(render::sum_channels(host), sign, s.display().outlier_perc);
    const data::Image heat = render::heat_map(norm, cmap);
    const data::Image overlay = render::blended_heat_map(norm, ctx.input->display, cmap, 0.5);
    data::write_png(out_path(s, base + "_map.png"), heat);
    data::write_png(out_path(s, base + "_overlay.png"), overlay);
    render::write_npy(out_path(s, base + ".npy"), host);
    out.report.pictures.push_back(
        render::make_picture(heat, std::string("map (") + render::sign_name(sign) + ")", base + "_map.png"));
    out.report.pictures.push_back(render::make_picture(overlay, "overlay", base + "_overlay.png"));
    out.json["files"] = {{"map", base + "_map.png"}, {"overlay", base + "_overlay.png"}, {"raw", base + ".npy"}};
    out.json["display"] = {{"sign", render::sign_name(sign)},
                           {"colormap", render::colormap_name(cmap)},
                           {"outlier_perc", s.display().outlier_perc},
                           {"scale", norm.scale},
                           {"scale_fell_back", norm.fallback}};
    if (!norm.note.empty()) out.report.notes.push_back(norm.note);
    return norm;
}

void add_metric(MethodOutput& out, const std::string& name, double value, const std::string& hint,
                const std::string& json_key) {
    out.report.metrics.push_back({name, value, hint});
    out.json["metrics"][json_key] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

void add_curves(ImageContext& ctx, const TargetContext& t, const RunSettings& s, const Tensor& map, MethodOutput& out) {
    if (!s.metrics().on) return;
    Ticker ticker("deletion / insertion curves of " + out.report.name);
    CurveOptions o;
    o.steps = s.metrics().steps;
    o.baseline = ctx.baseline;
    o.kind = CurveKind::Deletion;
    const CurveResult del = attribution_curve(*ctx.model, ctx.x, t.target, map, o);
    o.kind = CurveKind::Insertion;
    const CurveResult ins = attribution_curve(*ctx.model, ctx.x, t.target, map, o);
    add_metric(out, "deletion AUC", del.normalized_auc.at(0), "lower is better", "deletion_auc");
    add_metric(out, "insertion AUC", ins.normalized_auc.at(0), "higher is better", "insertion_auc");
    out.json["metrics"]["deletion_curve"] = del.curves.at(0);
    out.json["metrics"]["insertion_curve"] = ins.curves.at(0);
    out.json["metrics"]["deletion_auc_raw"] = del.auc.at(0);
    out.json["metrics"]["insertion_auc_raw"] = ins.auc.at(0);
}

void add_sanity(ImageContext& ctx, const RunSettings& s, const AttributionFn& fn, MethodOutput& out) {
    if (!s.metrics().on || s.metrics().sanity_layers <= 0) return;
    Ticker ticker("sanity check of " + out.report.name);
    RandomizationOptions r;
    r.seed = s.methods().seed;
    r.max_layers = s.metrics().sanity_layers;
    const std::vector<RandomizationStep> steps = model_randomization(*ctx.model, fn, r);
    if (steps.size() < 2) return;
    add_metric(out, "sanity rank corr.", steps.back().mean_spearman,
               "top " + std::to_string(steps.size() - 1) + " layer(s) re-initialised; near 0 is good",
               "sanity_spearman");
    nlohmann::json trace = nlohmann::json::array();
    for (const RandomizationStep& step : steps)
        trace.push_back({{"layer", step.layer},
                         {"spearman", std::isfinite(step.mean_spearman) ? nlohmann::json(step.mean_spearman)
                                                                        : nlohmann::json(nullptr)}});
    out.json["metrics"]["sanity_trace"] = trace;
}

std::string base_name(const ImageContext& ctx, const TargetContext& t, const std::string& tag) {
    return ctx.input->stem + "_" + t.tag + "_" + tag;
}

void finish_output(MethodOutput& out, double seconds, const nlohmann::json& settings) {
    out.report.seconds = seconds;
    out.json["seconds"] = seconds;
    out.json["settings"] = settings;
    out.json["notes"] = out.report.notes;
}

}  // namespace engine::explain::cli
