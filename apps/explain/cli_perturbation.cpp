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

const FeatureMask& feature_mask(ImageContext& ctx, const RunSettings& s, SegmentKind kind) {
    const auto found = ctx.feature_masks.find(kind);
    if (found != ctx.feature_masks.end()) return found->second;
    const MethodPlan& plan = s.methods();
    const int64_t h = ctx.x.size(2), w = ctx.x.size(3);
    FeatureMask f;
    f.kind = kind;
    std::string description = kSegmentKindNames.name(kind);
    if (kind == SegmentKind::Semantic) {
        f.mask2d = ctx.predicted.to(DType::Int64).contiguous();
        description = "semantic (predicted classes)";
    } else if (kind == SegmentKind::Slic) {
        render::SlicOptions so;
        so.n_segments = plan.n_segments;
        so.compactness = plan.compactness;
        f.mask2d = render::slic(ctx.input->display, so);
        description = "slic";
    } else {
        const int64_t cell =
            plan.grid_cell > 0 ? plan.grid_cell
                               : std::max<int64_t>(1, std::lround(std::sqrt(double(h * w) / double(plan.n_segments))));
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
std::string tag_of(Method method, SegmentKind kind, const RunSettings& s) {
    const std::string tag = method_info(method).file_tag;
    return s.segment_kinds.size() > 1 ? tag + "_" + kSegmentKindNames.name(kind) : tag;
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

void run_ablation(ImageContext& ctx, const TargetContext& t, const RunSettings& s, SegmentKind kind,
                  std::vector<MethodOutput>& outputs) {
    const MethodPlan& plan = s.methods();
    const FeatureMask& f = feature_mask(ctx, s, kind);
    AblationOptions ao;
    ao.baseline = ctx.baseline;
    ao.perturbations_per_eval = plan.perturbations_per_eval;
    Ticker ticker("feature ablation (" + std::string(kSegmentKindNames.name(kind)) + ") " + ctx.input->stem + " " +
                  t.label);
    const AblationResult r = feature_ablation(*ctx.model, ctx.x, t.target, f.mask, ao);
    ticker.stop();
    MethodOutput out = start_output(Method::Ablation, &t);
    out.report.detail = f.description;
    const std::string base = base_name(ctx, t, tag_of(Method::Ablation, kind, s));
    render_map(ctx, s, r.map, Method::Ablation, base, out);
    data::write_png(out_path(s, base + "_segments.png"), f.picture);
    out.report.pictures.push_back(render::make_picture(f.picture, "features", base + "_segments.png"));
    out.json["features"] = f.description;
    out.json["files"]["segments"] = base + "_segments.png";
    out.report.parameters = {{"baseline", baseline_label(plan.baseline)},
                             {"perturbations per eval", std::to_string(ao.perturbations_per_eval)},
                             {"forwards", std::to_string(r.forwards)}};
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics().on && s.metrics().sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
}

void run_occlusion(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                   std::vector<MethodOutput>& outputs) {
    const MethodPlan& plan = s.methods();
    OcclusionOptions oo;
    const int64_t h = ctx.x.size(2), w = ctx.x.size(3);
    const int64_t window = plan.occlusion_window > 0 ? plan.occlusion_window : std::max<int64_t>(2, std::min(h, w) / 8);
    oo.window_h = std::min(window, h);
    oo.window_w = std::min(window, w);
    oo.stride_h = plan.occlusion_stride > 0 ? std::min(plan.occlusion_stride, oo.window_h) : 0;
    oo.stride_w = plan.occlusion_stride > 0 ? std::min(plan.occlusion_stride, oo.window_w) : 0;
    oo.baseline = ctx.baseline;
    oo.perturbations_per_eval = plan.perturbations_per_eval;
    Ticker ticker("occlusion " + ctx.input->stem + " " + t.label);
    const OcclusionResult r = occlusion(*ctx.model, ctx.x, t.target, oo);
    ticker.stop();
    MethodOutput out = start_output(Method::Occlusion, &t);
    render_map(ctx, s, r.map, Method::Occlusion, base_name(ctx, t, method_info(Method::Occlusion).file_tag), out);
    out.report.parameters = {{"window", std::to_string(oo.window_h) + "x" + std::to_string(oo.window_w)},
                             {"stride", oo.stride_h > 0 ? std::to_string(oo.stride_h) : "half the window"},
                             {"baseline", baseline_label(plan.baseline)},
                             {"windows", std::to_string(r.windows)},
                             {"forwards", std::to_string(r.forwards)}};
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics().on && s.metrics().sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
}

struct LimeRun {
    SegmentKind kind;
    std::vector<char> top_pixels;  // pixels of the top positive segments
    size_t output = 0;             // index into outputs
};

LimeRun run_lime(ImageContext& ctx, const TargetContext& t, const RunSettings& s, SegmentKind kind,
                 std::vector<MethodOutput>& outputs) {
    const MethodPlan& plan = s.methods();
    const FeatureMask& f = feature_mask(ctx, s, kind);
    LimeOptions lo;
    lo.num_samples = plan.lime_samples;
    lo.baseline = ctx.baseline;
    lo.seed = plan.seed;
    lo.batch_size = plan.perturbations_per_eval;
    lo.top_k = s.display().top_k;
    Ticker ticker("LIME (" + std::string(kSegmentKindNames.name(kind)) + ") " + ctx.input->stem + " " + t.label);
    const LimeResult r = lime(*ctx.model, ctx.x, t.target, f.mask, lo);
    // More seeds: how much the explanation depends on the random samples (lime #477).
    std::vector<double> stability;
    for (int64_t k = 1; k < plan.lime_seeds; ++k) {
        LimeOptions again = lo;
        again.seed = plan.seed + static_cast<uint64_t>(k);
        stability.push_back(spearman(r.map, lime(*ctx.model, ctx.x, t.target, f.mask, again).map));
    }
    ticker.stop();
    MethodOutput out = start_output(Method::Lime, &t);
    out.report.detail = f.description;
    const std::string base = base_name(ctx, t, tag_of(Method::Lime, kind, s));
    render_map(ctx, s, r.map, Method::Lime, base, out);
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
                             {"baseline", baseline_label(plan.baseline)},
                             {"seed", std::to_string(plan.seed)},
                             {"forwards", std::to_string(r.forwards)}};
    if (s.metrics().on) add_metric(out, "surrogate R\xC2\xB2", job.r2, "fit of the linear surrogate", "lime_r2");
    if (!stability.empty()) {
        double sum = 0;
        for (double v : stability) sum += v;
        add_metric(out, "seed stability", sum / static_cast<double>(stability.size()),
                   "Spearman vs " + std::to_string(stability.size()) + " other seed(s); 1 is stable",
                   "lime_seed_spearman");
        out.report.parameters.emplace_back("seeds", std::to_string(plan.lime_seeds) + " (time: the first)");
    }
    add_curves(ctx, t, s, r.map, out);
    if (s.metrics().on && s.metrics().sanity_layers > 0) out.report.notes.push_back(kSanityNote);
    finish_output(out, r.seconds, r.settings);
    outputs.push_back(std::move(out));
    return {kind, pixels_of(f.mask2d, job.top_positive), outputs.size() - 1};
}

}  // namespace

std::vector<SegmentKind> resolve_segment_kinds(const std::vector<std::optional<SegmentKind>>& items,
                                               bool segmentation) {
    std::vector<SegmentKind> kinds;
    for (const std::optional<SegmentKind>& item : items) {
        const SegmentKind kind = item.value_or(segmentation ? SegmentKind::Semantic : SegmentKind::Slic);
        if (kind == SegmentKind::Semantic && !segmentation)
            throw UsageError(
                "--segments semantic needs a segmentation model (its predicted segments); use slic or "
                "grid for a classifier");
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    }
    return kinds;
}

void run_perturbations(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                       std::vector<MethodOutput>& outputs) {
    if (s.methods().has(Method::Ablation))
        for (SegmentKind kind : s.segment_kinds) run_ablation(ctx, t, s, kind, outputs);
    if (s.methods().has(Method::Occlusion)) run_occlusion(ctx, t, s, outputs);
    if (!s.methods().has(Method::Lime)) return;
    std::vector<LimeRun> runs;
    for (SegmentKind kind : s.segment_kinds) runs.push_back(run_lime(ctx, t, s, kind, outputs));
    // Superpixels against semantic segments (or any two masks): do their top positive segments cover the same
    // pixels? Each run is compared with the next mask's run (the last with the first).
    if (runs.size() < 2 || !s.metrics().on) return;
    for (size_t i = 0; i < runs.size(); ++i) {
        const LimeRun& other = runs[(i + 1) % runs.size()];
        const std::string other_name = kSegmentKindNames.name(other.kind);
        add_metric(outputs[runs[i].output], "top-k overlap vs " + other_name, iou(runs[i].top_pixels, other.top_pixels),
                   "IoU of the top positive segments' pixels", "lime_topk_iou_" + other_name);
    }
}

}  // namespace engine::explain::cli
