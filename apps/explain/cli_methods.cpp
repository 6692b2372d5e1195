// The explain command's method runners for the gradient methods (CAMs, saliency, gradient, input x gradient,
// integrated gradients) and layer activations, the baselines, and the random-ordering reference; the
// perturbation methods are in cli_perturbation.cpp.
#include "apps/explain/cli_methods.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "apps/explain/cli_output.h"
#include "apps/explain/cli_progress.h"
#include "apps/explain/render/npy.h"
#include "apps/explain/render/panels.h"
#include "models/data/transforms.h"

namespace engine::explain::cli {

void prepare_baseline(ImageContext& ctx, const RunSettings& s) {
    const BaselinePlan& spec = s.methods().baseline;
    const Preprocessing& p = *s.prep;
    const int64_t c = ctx.x.size(1), h = ctx.x.size(2), w = ctx.x.size(3);
    auto pixels = [&](double value) {  // a constant picture, normalised
        return data::normalize(full({c, h, w}, value), p.mean, p.std).unsqueeze(0);
    };
    Tensor pixel_space;  // (1, C, H, W) normalised, when the baseline is a picture
    switch (spec.kind) {
        case BaselineKind::Black:
        case BaselineKind::White:
            pixel_space = pixels(spec.kind == BaselineKind::Black ? 0.0 : 1.0);
            break;
        case BaselineKind::Zero:
            ctx.baseline = Baseline::zeros();
            break;
        case BaselineKind::Blur:
            ctx.baseline = spec.sigma ? Baseline::blur(*spec.sigma) : Baseline::blur(5.0);
            break;
        case BaselineKind::Noise: {
            data::Rng rng(s.methods().seed, 0x9e3779b9ull);
            std::vector<float> v(static_cast<size_t>(c * h * w));
            for (float& x : v) x = static_cast<float>(rng.uniform());
            pixel_space = data::normalize(from_vector<float>(v, {c, h, w}), p.mean, p.std).unsqueeze(0);
            break;
        }
        case BaselineKind::Image: {  // read once (RunSettings::baseline_image), resized to each input
            Tensor bx = data::image_to_tensor(*s.baseline_image, c);
            if (bx.size(1) != h || bx.size(2) != w) bx = data::resize_bilinear(bx, h, w);
            pixel_space = data::normalize(bx, p.mean, p.std).unsqueeze(0);
            break;
        }
    }
    if (pixel_space.defined()) ctx.baseline = Baseline::from_image(pixel_space.to(ctx.x.device()));
    ctx.baseline_tensor = make_baseline(ctx.baseline, ctx.x);
    ctx.baseline_display = data::tensor_to_image(ctx.baseline_tensor.select(0, 0).to(Device::cpu()), p.mean, p.std);
}

std::pair<double, double> random_reference(ImageContext& ctx, const TargetContext& t, const RunSettings& s) {
    const Tensor map =
        random_map(zeros({1, 1, ctx.x.size(2), ctx.x.size(3)}, DType::Float32, ctx.x.device()), s.methods().seed);
    CurveOptions o;
    o.steps = s.metrics().steps;
    o.baseline = ctx.baseline;
    o.kind = CurveKind::Deletion;
    const double del = attribution_curve(*ctx.model, ctx.x, t.target, map, o).normalized_auc.at(0);
    o.kind = CurveKind::Insertion;
    const double ins = attribution_curve(*ctx.model, ctx.x, t.target, map, o).normalized_auc.at(0);
    return {del, ins};
}

MethodOutput run_activations(ImageContext& ctx, const RunSettings& s) {
    MethodOutput out = start_output(Method::Activations, nullptr);
    Stopwatch clock;
    const std::vector<Tensor> acts = layer_activations(*ctx.model, ctx.x, s.layers);
    const double seconds = clock.seconds();
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < acts.size(); ++i) {
        const Tensor raw = acts[i].select(0, 0).detach().to(Device::cpu()).contiguous();
        Tensor a = raw.to(DType::Float32);
        if (a.dim() == 1) {  // a Linear layer's features: one channel, 32 to a row, NaN (black) padding
            const int64_t f = a.size(0), cols = std::min<int64_t>(f, 32), rows = (f + cols - 1) / cols;
            std::vector<float> v = a.to_vector<float>();
            v.resize(static_cast<size_t>(rows * cols), NAN);
            a = from_vector<float>(v, {1, rows, cols});
        }
        std::string safe = s.layers[i];
        std::replace(safe.begin(), safe.end(), '.', '-');
        const std::string base = ctx.input->stem + "_activations_" + safe;
        render::ActivationGridOptions go;
        const data::Image grid = render::activation_grid(a, go);
        data::write_png(out_path(s, base + ".png"), grid);
        render::write_npy(out_path(s, base + ".npy"), raw);
        std::string caption = "layer " + s.layers[i] + " " + shape_str(raw.shape());
        if (a.size(0) > go.max_channels) caption += ", first " + std::to_string(go.max_channels) + " channels";
        out.report.pictures.push_back(render::make_picture(grid, caption, base + ".png"));
        layers.push_back(
            {{"layer", s.layers[i]}, {"shape", raw.shape()}, {"file", base + ".png"}, {"raw", base + ".npy"}});
    }
    out.report.detail = s.layers.size() == 1 ? "layer " + s.layers[0] : std::to_string(s.layers.size()) + " layers";
    out.report.parameters = {
        {"channels per row", "16"}, {"normalisation", "min-max per channel"}, {"colour map", "viridis"}};
    out.json["layers"] = layers;
    finish_output(out, seconds, {{"layers", s.layers}});
    return out;
}

namespace {

// The CAMs of one target in one pass (every map of every layer), one output per map.
void run_cams(ImageContext& ctx, const TargetContext& t, const RunSettings& s, std::vector<MethodOutput>& outputs) {
    const MethodPlan& plan = s.methods();
    CamOptions co;
    co.layers = s.layers;
    co.methods.clear();  // CamOptions starts with {GradCam}
    for (Method m : plan.methods)
        if (method_info(m).family == MethodFamily::Cam) co.methods.push_back(method_info(m).cam);
    if (co.methods.empty()) return;
    co.relu = plan.relu;
    co.upsample = plan.upsample;
    Ticker ticker("CAM " + ctx.input->stem + " " + t.label);
    const CamResult r = layer_cam(*ctx.model, ctx.x, t.target, co);
    ticker.stop();
    for (const CamMap& m : r.maps) {
        const MethodInfo& info = *std::find_if(method_table().begin(), method_table().end(), [&](const MethodInfo& i) {
            return i.family == MethodFamily::Cam && i.cam == m.method;
        });
        MethodOutput out = start_output(info.method, &t);
        out.report.detail = "layer " + m.layer;
        std::string safe = m.layer;
        std::replace(safe.begin(), safe.end(), '.', '-');
        render_map(ctx, s, m.map, info.method, base_name(ctx, t, std::string(info.file_tag) + "_" + safe), out);
        out.json["layer"] = m.layer;
        out.report.parameters = {{"relu", plan.relu ? "on" : "off (signed, as Captum)"},
                                 {"upsampling", upsample_name(co.upsample)},
                                 {"layer map", shape_str(m.layer_map.shape())}};
        if (r.maps.size() > 1)
            out.report.notes.push_back("one pass for all " + std::to_string(r.maps.size()) +
                                       " CAM maps of this target (its time)");
        add_curves(ctx, t, s, m.map, out);
        CamOptions one = co;
        one.layers = {m.layer};
        one.methods = {m.method};
        const Tensor x = ctx.x;
        const Target frozen = t.frozen;
        add_sanity(
            ctx, s, [one, x, frozen](nn::Module& model) { return layer_cam(model, x, frozen, one).maps.at(0).map; },
            out);
        finish_output(out, r.seconds, r.settings);
        outputs.push_back(std::move(out));
    }
}

// Saliency, the gradient or input x gradient: one library call.
MethodOutput run_input_gradient(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                                const MethodInfo& info) {
    const GradientFn method = info.gradient;
    const Explanation e = method(*ctx.model, ctx.x, t.target);
    MethodOutput out = start_output(info.method, &t);
    render_map(ctx, s, e.map, info.method, base_name(ctx, t, info.file_tag), out);
    if (info.method == Method::Saliency) out.report.parameters = {{"abs", "true (Captum's default)"}};
    add_curves(ctx, t, s, e.map, out);
    const Tensor x = ctx.x;
    const Target frozen = t.frozen;
    add_sanity(
        ctx, s, [method, x, frozen](nn::Module& model) { return method(model, x, frozen).map; }, out);
    finish_output(out, e.seconds, e.settings);
    return out;
}

MethodOutput run_ig(ImageContext& ctx, const TargetContext& t, const RunSettings& s) {
    const MethodPlan& plan = s.methods();
    IgOptions io;
    io.baseline = ctx.baseline;
    io.n_steps = plan.ig_steps;
    io.method = plan.ig_method;
    io.internal_batch_size = plan.internal_batch;
    Ticker ticker("integrated gradients " + ctx.input->stem + " " + t.label);
    const IgResult r = integrated_gradients(*ctx.model, ctx.x, t.target, io);
    ticker.stop();
    MethodOutput out = start_output(Method::IntegratedGradients, &t);
    const std::string base = base_name(ctx, t, method_info(Method::IntegratedGradients).file_tag);
    const render::NormalizedMap norm = render_map(ctx, s, r.map, Method::IntegratedGradients, base, out);
    const render::ColorMap cmap = s.display().colormap.value_or(render::default_colormap(norm.sign));
    const data::Image panel = render::ig_panel(ctx.baseline_display, ctx.input->display, norm, cmap);
    data::write_png(out_path(s, base + "_panel.png"), panel);
    out.report.pictures.push_back(render::make_picture(panel, "baseline, image, map, overlay", base + "_panel.png"));
    out.json["files"]["panel"] = base + "_panel.png";
    out.report.parameters = {{"steps", std::to_string(io.n_steps)},
                             {"method", ig_method_name(io.method)},
                             {"baseline", baseline_label(plan.baseline)},
                             {"forwards", std::to_string(r.forwards)},
                             {"F(x)", fixed4(r.scores.at(0))},
                             {"F(baseline)", fixed4(r.baseline_scores.at(0))},
                             {"sum of attributions", fixed4(r.attribution_sums.at(0))}};
    if (s.metrics().on) add_metric(out, "completeness gap", r.gap.at(0), "near 0 is good", "ig_gap");
    add_curves(ctx, t, s, r.map, out);
    const Tensor x = ctx.x;
    const Target frozen = t.frozen;
    add_sanity(
        ctx, s, [io, x, frozen](nn::Module& model) { return integrated_gradients(model, x, frozen, io).map; }, out);
    finish_output(out, r.seconds, r.settings);
    return out;
}

}  // namespace

std::vector<MethodOutput> run_target(ImageContext& ctx, const TargetContext& t, const RunSettings& s) {
    std::vector<MethodOutput> outputs;
    run_cams(ctx, t, s, outputs);  // one pass for every CAM map
    for (Method m : s.methods().methods)
        if (method_info(m).family == MethodFamily::InputGradient)
            outputs.push_back(run_input_gradient(ctx, t, s, method_info(m)));
    if (s.methods().has(Method::IntegratedGradients)) outputs.push_back(run_ig(ctx, t, s));
    run_perturbations(ctx, t, s, outputs);
    return outputs;
}

}  // namespace engine::explain::cli
