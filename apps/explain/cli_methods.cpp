// The explain command's method runners for the gradient methods (CAMs, saliency, gradient, input x gradient,
// integrated gradients) and layer activations, the baselines, and the random-ordering reference; the
// perturbation methods are in cli_perturbation.cpp.
#include "apps/explain/cli_methods.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "apps/common/app_main.h"
#include "apps/explain/cli_output.h"
#include "apps/explain/cli_progress.h"
#include "apps/explain/render/npy.h"
#include "apps/explain/render/panels.h"
#include "models/data/transforms.h"

namespace engine::explain::cli {

using apps::UsageError;

std::vector<std::string> parse_methods(const std::vector<std::string>& items) {
    std::set<std::string> wanted;
    for (std::string item : items) {
        std::transform(item.begin(), item.end(), item.begin(), [](unsigned char c) { return std::tolower(c); });
        if (item == "grad-cam" || item == "grad_cam") item = "gradcam";
        if (item == "grad-cam++" || item == "gradcampp" || item == "grad_cam_pp") item = "gradcam++";
        if (item == "integrated_gradients" || item == "integrated-gradients") item = "ig";
        if (item == "input_x_gradient" || item == "inputxgradient") item = "ixg";
        if (item == "all") {
            wanted.insert(method_names().begin(), method_names().end());
            continue;
        }
        if (std::find(method_names().begin(), method_names().end(), item) == method_names().end()) {
            std::string valid;
            for (const std::string& n : method_names()) valid += (valid.empty() ? "" : ", ") + n;
            throw UsageError("--method: unknown method '" + item + "' (valid: " + valid + ", all)");
        }
        wanted.insert(item);
    }
    if (wanted.empty()) throw UsageError("--method: no method given");
    std::vector<std::string> out;
    for (const std::string& n : method_names())
        if (wanted.count(n)) out.push_back(n);
    return out;
}

void prepare_baseline(ImageContext& ctx, const RunSettings& s) {
    const std::string spec = s.options->baseline;
    const Preprocessing& p = *s.prep;
    const int64_t c = ctx.x.size(1), h = ctx.x.size(2), w = ctx.x.size(3);
    auto pixels = [&](double value) {  // a constant picture, normalised
        return data::normalize(full({c, h, w}, value), p.mean, p.std).unsqueeze(0);
    };
    Tensor pixel_space;  // (1, C, H, W) normalised, when the baseline is a picture
    if (spec == "black" || spec == "white") {
        pixel_space = pixels(spec == "black" ? 0.0 : 1.0);
    } else if (spec == "zero" || spec == "zeros") {
        ctx.baseline = Baseline::zeros();
    } else if (spec.rfind("blur", 0) == 0) {
        double sigma = 5.0;
        if (spec.size() > 4) {
            if (spec[4] != ':') throw UsageError("--baseline: expected blur or blur:SIGMA, got '" + spec + "'");
            try {
                sigma = std::stod(spec.substr(5));
            } catch (const std::exception&) {
                throw UsageError("--baseline: bad sigma in '" + spec + "'");
            }
        }
        ctx.baseline = Baseline::blur(sigma);
    } else if (spec == "noise") {
        data::Rng rng(s.options->seed, 0x9e3779b9ull);
        std::vector<float> v(static_cast<size_t>(c * h * w));
        for (float& x : v) x = static_cast<float>(rng.uniform());
        pixel_space = data::normalize(from_vector<float>(v, {c, h, w}), p.mean, p.std).unsqueeze(0);
    } else {
        const InputImage b = read_image_input(spec, p, "--baseline");
        Tensor bx = data::image_to_tensor(b.display, c);
        if (bx.size(1) != h || bx.size(2) != w) bx = data::resize_bilinear(bx, h, w);
        pixel_space = data::normalize(bx, p.mean, p.std).unsqueeze(0);
    }
    if (pixel_space.defined()) ctx.baseline = Baseline::from_image(pixel_space.to(ctx.x.device()));
    ctx.baseline_tensor = make_baseline(ctx.baseline, ctx.x);
    ctx.baseline_display = data::tensor_to_image(ctx.baseline_tensor.select(0, 0).to(Device::cpu()), p.mean, p.std);
}

std::pair<double, double> random_reference(ImageContext& ctx, const TargetContext& t, const RunSettings& s) {
    const Tensor map =
        random_map(zeros({1, 1, ctx.x.size(2), ctx.x.size(3)}, DType::Float32, ctx.x.device()), s.options->seed);
    CurveOptions o;
    o.steps = s.options->metric_steps;
    o.baseline = ctx.baseline;
    o.kind = CurveKind::Deletion;
    const double del = attribution_curve(*ctx.model, ctx.x, t.target, map, o).normalized_auc.at(0);
    o.kind = CurveKind::Insertion;
    const double ins = attribution_curve(*ctx.model, ctx.x, t.target, map, o).normalized_auc.at(0);
    return {del, ins};
}

MethodOutput run_activations(ImageContext& ctx, const RunSettings& s) {
    MethodOutput out = start_output("activations", nullptr);
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

std::vector<MethodOutput> run_target(ImageContext& ctx, const TargetContext& t, const RunSettings& s,
                                     const std::vector<std::string>& methods) {
    const ExplainOptions& o = *s.options;
    std::vector<MethodOutput> outputs;
    auto wanted = [&](const char* key) { return std::find(methods.begin(), methods.end(), key) != methods.end(); };
    const std::string where = ctx.input->stem + " " + t.label;

    // ---------------------------------------------------------------- CAMs: one pass for every map
    std::vector<std::pair<std::string, CamMethod>> cams;
    for (const auto& [key, m] :
         std::vector<std::pair<std::string, CamMethod>>{{"gradcam", CamMethod::GradCam},
                                                        {"gradcam++", CamMethod::GradCamPlusPlus},
                                                        {"hirescam", CamMethod::HiResCam},
                                                        {"layercam", CamMethod::LayerCam}})
        if (wanted(key.c_str())) cams.emplace_back(key, m);
    if (!cams.empty()) {
        CamOptions co;
        co.layers = s.layers;
        co.methods.clear();  // CamOptions starts with {GradCam}
        for (const auto& c : cams) co.methods.push_back(c.second);
        co.relu = o.relu;
        co.upsample = parse_upsample(o.upsample);
        Ticker ticker("CAM " + where);
        const CamResult r = layer_cam(*ctx.model, ctx.x, t.target, co);
        ticker.stop();
        for (const CamMap& m : r.maps) {
            const auto key =
                std::find_if(cams.begin(), cams.end(), [&](const auto& c) { return c.second == m.method; })->first;
            MethodOutput out = start_output(key, &t);
            out.report.detail = "layer " + m.layer;
            std::string safe = m.layer;
            std::replace(safe.begin(), safe.end(), '.', '-');
            render_map(ctx, s, m.map, key, base_name(ctx, t, std::string(method_file_tag(key)) + "_" + safe), out);
            out.json["layer"] = m.layer;
            out.report.parameters = {{"relu", o.relu ? "on" : "off (signed, as Captum)"},
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

    // ---------------------------------------------------------------- input gradients
    for (const char* key : {"saliency", "gradient", "ixg"}) {
        if (!wanted(key)) continue;
        const std::string k = key;
        auto method = [k](nn::Module& model, const Tensor& x, const Target& target) {
            if (k == "saliency") return saliency(model, x, target, true);
            if (k == "gradient") return input_gradient(model, x, target);
            return input_x_gradient(model, x, target);
        };
        const Explanation e = method(*ctx.model, ctx.x, t.target);
        MethodOutput out = start_output(k, &t);
        render_map(ctx, s, e.map, k, base_name(ctx, t, method_file_tag(k)), out);
        if (k == "saliency") out.report.parameters = {{"abs", "true (Captum's default)"}};
        add_curves(ctx, t, s, e.map, out);
        const Tensor x = ctx.x;
        const Target frozen = t.frozen;
        add_sanity(
            ctx, s, [method, x, frozen](nn::Module& model) { return method(model, x, frozen).map; }, out);
        finish_output(out, e.seconds, e.settings);
        outputs.push_back(std::move(out));
    }

    // ---------------------------------------------------------------- integrated gradients
    if (wanted("ig")) {
        IgOptions io;
        io.baseline = ctx.baseline;
        io.n_steps = o.ig_steps;
        io.method = parse_ig_method(o.ig_method);
        io.internal_batch_size = o.internal_batch;
        Ticker ticker("integrated gradients " + where);
        const IgResult r = integrated_gradients(*ctx.model, ctx.x, t.target, io);
        ticker.stop();
        MethodOutput out = start_output("ig", &t);
        const std::string base = base_name(ctx, t, "ig");
        const render::NormalizedMap norm = render_map(ctx, s, r.map, "ig", base, out);
        const render::ColorMap cmap = s.colormap.value_or(render::default_colormap(norm.sign));
        const data::Image panel = render::ig_panel(ctx.baseline_display, ctx.input->display, norm, cmap);
        data::write_png(out_path(s, base + "_panel.png"), panel);
        out.report.pictures.push_back(
            render::make_picture(panel, "baseline, image, map, overlay", base + "_panel.png"));
        out.json["files"]["panel"] = base + "_panel.png";
        out.report.parameters = {{"steps", std::to_string(io.n_steps)},
                                 {"method", ig_method_name(io.method)},
                                 {"baseline", o.baseline},
                                 {"forwards", std::to_string(r.forwards)},
                                 {"F(x)", fixed4(r.scores.at(0))},
                                 {"F(baseline)", fixed4(r.baseline_scores.at(0))},
                                 {"sum of attributions", fixed4(r.attribution_sums.at(0))}};
        if (s.metrics) add_metric(out, "completeness gap", r.gap.at(0), "near 0 is good", "ig_gap");
        add_curves(ctx, t, s, r.map, out);
        const Tensor x = ctx.x;
        const Target frozen = t.frozen;
        add_sanity(
            ctx, s, [io, x, frozen](nn::Module& model) { return integrated_gradients(model, x, frozen, io).map; }, out);
        finish_output(out, r.seconds, r.settings);
        outputs.push_back(std::move(out));
    }

    run_perturbations(ctx, t, s, methods, outputs);
    return outputs;
}

}  // namespace engine::explain::cli
