// Grad-CAM family and layer activations on forward hooks and a pruned autograd::grad.
#include "apps/explain/attribution/cam.h"

#include "apps/common/enum_names.h"
#include "autograd/engine.h"

namespace engine::explain {

namespace {

constexpr apps::EnumName<CamMethod> kCamMethodRows[] = {{CamMethod::GradCam, "grad_cam"},
                                                        {CamMethod::GradCamPlusPlus, "grad_cam_pp"},
                                                        {CamMethod::HiResCam, "hires_cam"},
                                                        {CamMethod::LayerCam, "layer_cam"}};
constexpr apps::EnumNames<CamMethod> kCamMethodNames{"CAM method", kCamMethodRows};

}  // namespace

const char* cam_method_name(CamMethod method) { return kCamMethodNames.name(method); }

CamMethod parse_cam_method(const std::string& name) { return kCamMethodNames.parse(name); }

Tensor cam_from(const Tensor& a, const Tensor& g, CamMethod method, bool relu_map) {
    NoGradGuard no_grad;
    Tensor cam;
    switch (method) {
        case CamMethod::GradCam:
            cam = sum(mul(mean(g, {2, 3}, true), a), {1}, true);
            break;
        case CamMethod::HiResCam:
            cam = sum(mul(g, a), {1}, true);
            break;
        case CamMethod::LayerCam:
            cam = sum(mul(relu(g), a), {1}, true);
            break;
        case CamMethod::GradCamPlusPlus: {
            const Tensor g2 = square(g), g3 = mul(g2, g);
            const Tensor sum_a = sum(a, {2, 3}, true);
            Tensor alpha = div(g2, add(add(mul(g2, 2.0), mul(sum_a, g3)), 1e-7));
            alpha = where(ne(g, 0.0), alpha, 0.0);
            const Tensor weights = sum(mul(relu(g), alpha), {2, 3}, true);
            cam = sum(mul(weights, a), {1}, true);
            break;
        }
    }
    return relu_map ? relu(cam) : cam;
}

const CamMap& CamResult::get(const std::string& layer, CamMethod method) const {
    std::string held;
    for (const CamMap& m : maps) {
        if (m.layer == layer && m.method == method) return m;
        held += (held.empty() ? "" : ", ") + m.layer + "/" + cam_method_name(m.method);
    }
    throw Error("cam: no map for layer '" + layer + "' and method " + cam_method_name(method) + "; the result holds " +
                held);
}

Explanation CamResult::explanation(size_t i) const {
    ENGINE_CHECK(i < maps.size(), "cam: map ", i, " of ", maps.size());
    Explanation e;
    e.method = std::string(cam_method_name(maps[i].method)) + "@" + maps[i].layer;
    e.jobs = jobs;
    e.map = maps[i].map;
    e.scores = scores;
    e.seconds = seconds;
    e.settings = settings;
    e.settings["layer"] = maps[i].layer;
    e.settings["cam_method"] = cam_method_name(maps[i].method);
    e.settings["layer_shape"] = maps[i].layer_map.shape();
    return e;
}

CamResult layer_cam(nn::Module& model, const Tensor& x, const Target& target, const CamOptions& options) {
    Stopwatch clock;
    check_input(model, x, "layer_cam");
    ENGINE_CHECK(!options.methods.empty(), "layer_cam: no CAM method given");
    ModelScope scope(model);
    std::vector<std::string> layers = options.layers;
    if (layers.empty()) layers.push_back(default_cam_layer(model));
    LayerCapture capture(model, layers, /*track_gradients=*/true);

    CamResult result;
    Tensor input = x.detach();
    if (options.input_gradient) input.requires_grad_(true);
    Tensor output;
    {
        EnableGradGuard grad_on;
        output = model(input);
    }
    const ResolvedTarget resolved = target.resolve(output);
    const std::vector<Tensor> acts = capture.activations();
    for (size_t i = 0; i < acts.size(); ++i) {
        ENGINE_CHECK(acts[i].dim() == 4, "layer_cam: layer '", layers[i], "' outputs shape ",
                     shape_str(acts[i].shape()), "; CAM methods need an (N, C, H, W) activation");
    }
    // A layer whose output is the model's output (UNet's default layer "output") is a captured leaf that is
    // also the root: its gradient is the seed itself, which grad() returns.
    TensorList wrt(acts.begin(), acts.end());
    if (options.input_gradient) wrt.push_back(input);

    // One backward per round, all layers (and the input) at once.
    const auto& rounds = resolved.rounds();
    std::vector<std::vector<Tensor>> per_layer(acts.size());
    std::vector<Tensor> per_input;
    for (size_t r = 0; r < rounds.size(); ++r) {
        const Tensor seed = ResolvedTarget::seed(rounds[r].full_weights, 1);
        const TensorList grads = autograd::grad({output}, wrt, {seed}, /*retain_graph=*/r + 1 < rounds.size());
        for (size_t i = 0; i < acts.size(); ++i) per_layer[i].push_back(grads[i]);
        if (options.input_gradient) per_input.push_back(grads.back());
    }
    NoGradGuard no_grad;
    result.jobs = resolved.jobs();
    result.scores = resolved.job_scores(output.detach()).to_vector<double>();
    const int64_t h = x.size(2), w = x.size(3);
    for (size_t i = 0; i < acts.size(); ++i) {
        const Tensor a = job_inputs(acts[i].detach(), resolved);
        const Tensor g = resolved.gather_jobs(per_layer[i], true);
        for (CamMethod method : options.methods) {
            CamMap m;
            m.layer = layers[i];
            m.method = method;
            m.layer_map = cam_from(a, g, method, options.relu);
            m.map = upsample_map(m.layer_map, h, w, options.upsample);
            result.maps.push_back(std::move(m));
        }
        if (options.keep_layer_tensors) {
            result.activations.push_back(a);
            result.gradients.push_back(g);
        }
    }
    if (options.input_gradient) result.input_gradient = resolved.gather_jobs(per_input, true);
    nlohmann::json methods = nlohmann::json::array();
    for (CamMethod m : options.methods) methods.push_back(cam_method_name(m));
    result.settings = {{"layers", layers},
                       {"methods", methods},
                       {"relu", options.relu},
                       {"upsample", upsample_name(options.upsample)},
                       {"target", target.str()}};
    result.seconds = clock.seconds();
    return result;
}

Explanation grad_cam(nn::Module& model, const Tensor& x, const Target& target, const std::string& layer, bool relu,
                     Upsample upsample) {
    CamOptions options;
    if (!layer.empty()) options.layers = {layer};
    options.relu = relu;
    options.upsample = upsample;
    return layer_cam(model, x, target, options).explanation(0);
}

CamResult cam_sweep(nn::Module& model, const Tensor& x, const Target& target, std::vector<std::string> layers,
                    CamOptions options) {
    options.layers = layers.empty() ? conv_layer_paths(model) : std::move(layers);
    ENGINE_CHECK(!options.layers.empty(), "cam_sweep: ", model.type_name(), " has no conv layer");
    return layer_cam(model, x, target, options);
}

std::vector<Tensor> layer_activations(nn::Module& model, const Tensor& x, const std::vector<std::string>& paths) {
    check_input(model, x, "layer_activations");
    ModelScope scope(model);
    LayerCapture capture(model, paths, /*track_gradients=*/false);
    forward_no_grad(model, x);
    return capture.activations();
}

}  // namespace engine::explain
