// The explain command's perturbation methods: feature ablation and LIME over one or more feature masks (the
// segmentation model's predicted segments, SLIC superpixels, a grid), side by side with the top-k overlap of
// their LIME explanations and LIME's stability across seeds, and sliding-window occlusion.
#include <algorithm>
#include <cmath>
#include <set>

#include "apps/common/app_main.h"
#include "apps/explain/cli_output.h"
#include "apps/explain/cli_progress.h"
#include "apps/explain/render/panels.h"
#include "apps/explain/render/slic.h"

namespace engine::explain::cli {

using apps::UsageError;

namespace {

const char* const kSanityNote = "sanity check skipped for perturbation methods (one full run per layer)";

const FeatureMask& feature_mask(ImageContext& ctx, const RunSettings& s, const std::string& kind) {
    const auto found = ctx.feature_masks.find(kind);
    if (found != ctx.feature_masks.end()) return found->second;
    const ExplainOptions& o = *s.options;
    const int64_t h = ctx.x.size(2), w = ctx.x.size(3);
    FeatureMask f;
    f.kind = kind;
    std::string description = kind;
    if (kind == "semantic") {
        f.mask2d = ctx.predicted.to(DType::Int64).contiguous();
        description = "semantic (predicted classes)";
    } else if (kind == "slic") {
        render::SlicOptions so;
        so.n_segments = o.n_segments;
        so.compactness = o.compactness;
        f.mask2d = render::slic(ctx.input->display, so);
        description = "slic";
    } else {
        const int64_t cell = o.grid_cell > 0
                                 ? o.grid_cell
                                 : std::max<int64_t>(1, std::lround(std::sqrt(double(h * w) / double(o.n_segments))));
        f.mask2d = grid_mask(h, w, cell, cell).view({h, w}).contiguous();
        description = "grid " + std::to_string(cell) + "x" + std::to_string(cell);
    }
    std::set<int64_t> ids;
    for (int64_t v : f.mask2d.to_vector<int64_t>()) ids.insert(v);
    f.description = description + ", " + std::to_string(ids.size()) + " segments";
    f.mask = f.mask2d.view({1, 1, h, w}).to(ctx.x.device());
    f.picture = render::segment_boundaries(ctx.input->display, f.mask2d);
    return ctx.feature_masks.emplace(kind, std::move(f)).first->second;
}

// With several feature masks, files and titles name the mask.
std::string tag_of(const std::string& method, const std::string& kind, const RunSettings& s) {
    return s.segment_kinds.size() > 1 ? method + "_" + kind : method;
}

// Pixels inside the given segments.
std::vector<char> pixels_of(const Tensor& mask2d, const std::vector<int64_t>& segments) {
    const std::set<int64_t> chosen(segments.begin(), segments.end());
    std::vector<char> in;
    for (int64_t v : mask2d.to_vector<int64_t>()) in.push_back(chosen.count(v) ? 1 : 0);
    return in;
}

double iou(const std::vector<char>& a, const std::vector<char>& b) {
    int64_t both = 0, either = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        both += a[i] && b[i];
        either += a[i] || b[i];
    }
    return either ? static_cast<double>(both) / static_cast<double>(either) : NAN;
}

void run_ablation(ImageContext& ctx, const TargetContext& t, const RunSettings& s, const std::string& kind,
                  std::vector<MethodOutput>& outputs) {
    const ExplainOptions& o = *s.options;
    const FeatureMask& f = feature_mask(ctx, s, kind);
    AblationOptions ao;
    ao.baseline = ctx.baseline;
    ao.perturbations_per_eval = o.perturbations_per_eval;
    Ticker ticker("feature ablation (" + kind + ") " + ctx.input->stem + " " + t.label);
    const AblationResult r = feature_ablation(*ctx.model, ctx.x, t.target, f.mask, ao);
    ticker.stop();
    MethodOutput out = start_output("ablation", &t);
    out.report.detail = f.description;
    const std::string base = base_name(ctx, t, tag_of("ablation", kind, s));
    render_map(ctx, s, r.map, "ablation", base, out);
    data::write_png(out_path(s, base + "_segments.png"), f.picture);
    out.report.pictures.push_back(render::make_picture(f.picture, "features", base + "_segments.png"));
    out.json["features"] = f.description;
    out.json["files"]["segments"] = base + "_segments.png";
    out.report.parameters = {{"baseline", o.baseline},
                             {"perturbations per eval", std::to_string(ao.perturbations_per_eval)},
                             {"forwards", std::to_string(r.forwards)}};
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics && o.sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
}

void run_occlusion(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                   std::vector<MethodOutput>& outputs) {
    const ExplainOptions& o = *s.options;
    OcclusionOptions oo;
    const int64_t h = ctx.x.size(2), w = ctx.x.size(3);
    const int64_t window = o.occlusion_window > 0 ? o.occlusion_window : std::max<int64_t>(2, std::min(h, w) / 8);
    oo.window_h = std::min(window, h);
    oo.window_w = std::min(window, w);
    oo.stride_h = o.occlusion_stride > 0 ? std::min(o.occlusion_stride, oo.window_h) : 0;
    oo.stride_w = o.occlusion_stride > 0 ? std::min(o.occlusion_stride, oo.window_w) : 0;
    oo.baseline = ctx.baseline;
    oo.perturbations_per_eval = o.perturbations_per_eval;
    Ticker ticker("occlusion " + ctx.input->stem + " " + t.label);
    const OcclusionResult r = occlusion(*ctx.model, ctx.x, t.target, oo);
    ticker.stop();
    MethodOutput out = start_output("occlusion", &t);
    render_map(ctx, s, r.map, "occlusion", base_name(ctx, t, "occlusion"), out);
    out.report.parameters = {{"window", std::to_string(oo.window_h) + "x" + std::to_string(oo.window_w)},
                             {"stride", oo.stride_h > 0 ? std::to_string(oo.stride_h) : "half the window"},
                             {"baseline", o.baseline},
                             {"windows", std::to_string(r.windows)},
                             {"forwards", std::to_string(r.forwards)}};
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics && o.sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
}

struct LimeRun {
    std::string kind;
    std::vector<char> top_pixels;  // pixels of the top positive segments
    size_t output = 0;             // index into outputs
};

LimeRun run_lime(ImageContext& ctx, const TargetContext& t, const RunSettings& s, const std::string& kind,
                 std::vector<MethodOutput>& outputs) {
    const ExplainOptions& o = *s.options;
    const FeatureMask& f = feature_mask(ctx, s, kind);
    LimeOptions lo;
    lo.num_samples = o.lime_samples;
    lo.baseline = ctx.baseline;
    lo.seed = o.seed;
    lo.batch_size = o.perturbations_per_eval;
    lo.top_k = o.top_k;
    Ticker ticker("LIME (" + kind + ") " + ctx.input->stem + " " + t.label);
    const LimeResult r = lime(*ctx.model, ctx.x, t.target, f.mask, lo);
    // More seeds: how much the explanation depends on the random samples (lime #477).
    std::vector<double> stability;
    for (int64_t k = 1; k < o.lime_seeds; ++k) {
        LimeOptions again = lo;
        again.seed = o.seed + static_cast<uint64_t>(k);
        stability.push_back(spearman(r.map, lime(*ctx.model, ctx.x, t.target, f.mask, again).map));
    }
    ticker.stop();
    MethodOutput out = start_output("lime", &t);
    out.report.detail = f.description;
    const std::string base = base_name(ctx, t, tag_of("lime", kind, s));
    render_map(ctx, s, r.map, "lime", base, out);
    const LimeJob& job = r.per_job.at(0);
    const data::Image top = render::lime_overlay(ctx.input->display, f.mask2d, job.top_positive, job.top_negative);
    data::write_png(out_path(s, base + "_top.png"), top);
    out.report.pictures.push_back(render::make_picture(
        top, "top " + std::to_string(lo.top_k) + " + (green) / - (red) segments", base + "_top.png"));
    out.json["files"]["top"] = base + "_top.png";
    out.json["top_positive"] = job.top_positive;
    out.json["top_negative"] = job.top_negative;
    out.json["features"] = f.description;
    out.report.parameters = {{"samples", std::to_string(r.num_samples)},
                             {"baseline", o.baseline},
                             {"seed", std::to_string(o.seed)},
                             {"forwards", std::to_string(r.forwards)}};
    if (s.metrics) add_metric(out, "surrogate R\xC2\xB2", job.r2, "fit of the linear surrogate", "lime_r2");
    if (!stability.empty()) {
        double sum = 0;
        for (double v : stability) sum += v;
        add_metric(out, "seed stability", sum / static_cast<double>(stability.size()),
                   "Spearman vs " + std::to_string(stability.size()) + " other seed(s); 1 is stable",
                   "lime_seed_spearman");
        out.report.parameters.emplace_back("seeds", std::to_string(o.lime_seeds) + " (time: the first)");
    }
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics && o.sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
    return {kind, pixels_of(f.mask2d, job.top_positive), outputs.size() - 1};
}

}  // namespace

std::vector<std::string> resolve_segment_kinds(const std::vector<std::string>& items, bool segmentation) {
    std::vector<std::string> kinds;
    for (const std::string& item : items) {
        const std::string kind = item == "auto" ? (segmentation ? "semantic" : "slic") : item;
        if (kind != "semantic" && kind != "slic" && kind != "grid")
            throw UsageError("--segments: expected auto, semantic, slic or grid, got '" + item + "'");
        if (kind == "semantic" && !segmentation)
            throw UsageError(
                "--segments semantic needs a segmentation model (its predicted segments); use slic or "
                "grid for a classifier");
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    }
    if (kinds.empty()) throw UsageError("--segments: no feature mask given");
    return kinds;
}

void run_perturbations(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                       const std::vector<std::string>& methods, std::vector<MethodOutput>& outputs) {
    auto wanted = [&](const char* key) { return std::find(methods.begin(), methods.end(), key) != methods.end(); };
    if (wanted("ablation"))
        for (const std::string& kind : s.segment_kinds) run_ablation(ctx, t, s, kind, outputs);
    if (wanted("occlusion")) run_occlusion(ctx, t, s, outputs);
    if (!wanted("lime")) return;
    std::vector<LimeRun> runs;
    for (const std::string& kind : s.segment_kinds) runs.push_back(run_lime(ctx, t, s, kind, outputs));
    // Superpixels against semantic segments (or any two masks): do their top positive segments cover the same
    // pixels? Each run is compared with the next mask's run (the last with the first).
    if (runs.size() < 2 || !s.metrics) return;
    for (size_t i = 0; i < runs.size(); ++i) {
        const LimeRun& other = runs[(i + 1) % runs.size()];
        add_metric(outputs[runs[i].output], "top-k overlap vs " + other.kind, iou(runs[i].top_pixels, other.top_pixels),
                   "IoU of the top positive segments' pixels", "lime_topk_iou_" + other.kind);
    }
}

}  // namespace engine::explain::cli
