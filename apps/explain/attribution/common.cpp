// ModelScope, input checks, layer capture and discovery, map resampling.
#include "apps/explain/attribution/common.h"

#include "apps/common/enum_names.h"
#include "layers/conv.h"
#include "models/model.h"

namespace engine::explain {

// ---------------------------------------------------------------------------------------------- ModelScope

ModelScope::ModelScope(nn::Module& model) {
    for (auto& [path, module] : model.named_modules()) training_.push_back({module, module->is_training()});
    for (const Tensor& p : model.parameters()) requires_grad_.push_back({p, p.requires_grad()});
    model.eval();
    for (auto& [p, flag] : requires_grad_) {
        Tensor handle = p;
        handle.requires_grad_(false);
    }
}

ModelScope::~ModelScope() {
    // Pre-order: a parent's train() resets its children, which are restored right after it.
    for (auto& [module, flag] : training_) module->train(flag);
    for (auto& [p, flag] : requires_grad_) {
        Tensor handle = p;
        handle.requires_grad_(flag);
    }
}

// ---------------------------------------------------------------------------------------------- checks

void check_input(nn::Module& model, const Tensor& x, const char* method) {
    ENGINE_CHECK(x.defined(), method, ": the input is undefined");
    ENGINE_CHECK(x.dim() == 4 && x.size(0) >= 1, method, ": expected an image batch (N, C, H, W), got shape ",
                 shape_str(x.shape()));
    ENGINE_CHECK(is_floating(x.dtype()), method, ": expected a float32 or float64 input, got ", dtype_name(x.dtype()));
    const std::vector<Tensor> params = model.parameters();
    if (!params.empty()) {
        ENGINE_CHECK(params[0].device() == x.device(), method, ": the input is on ", x.device().str(),
                     " but the model is on ", params[0].device().str());
        ENGINE_CHECK(params[0].dtype() == x.dtype(), method, ": the input is ", dtype_name(x.dtype()),
                     " but the model's parameters are ", dtype_name(params[0].dtype()));
    }
    int64_t channels = 0;
    std::string who = model.type_name();
    if (auto* m = dynamic_cast<models::Model*>(&model)) {
        channels = m->config().in_channels;
        who = m->config().name;
    } else {
        for (auto& [path, module] : model.named_modules()) {
            if (auto* conv = dynamic_cast<nn::Conv2d*>(module)) {
                channels = conv->options().in_channels();
                break;
            }
        }
    }
    ENGINE_CHECK(channels == 0 || x.size(1) == channels, method, ": the input has ", x.size(1), " channels (shape ",
                 shape_str(x.shape()), ") but the model (", who, ") expects ", channels);
}

Tensor forward_no_grad(nn::Module& model, const Tensor& x) {
    NoGradGuard no_grad;
    return model(x);
}

// ---------------------------------------------------------------------------------------------- layers

std::vector<std::string> conv_layer_paths(nn::Module& model) {
    std::vector<std::string> paths;
    for (auto& [path, module] : model.named_modules()) {
        if (dynamic_cast<nn::Conv2d*>(module) || dynamic_cast<nn::ConvTranspose2d*>(module)) paths.push_back(path);
    }
    return paths;
}

std::string default_cam_layer(nn::Module& model) {
    std::string last;
    for (auto& [path, module] : model.named_modules())
        if (dynamic_cast<nn::Conv2d*>(module)) last = path;
    ENGINE_CHECK(!last.empty(), "grad_cam: ", model.type_name(), " has no Conv2d layer; name a layer explicitly");
    return last;
}

LayerCapture::LayerCapture(nn::Module& model, std::vector<std::string> paths, bool track_gradients)
    : paths_(std::move(paths)), outputs_(paths_.size()), calls_(paths_.size(), 0) {
    ENGINE_CHECK(!paths_.empty(), "layer capture: no layer given");
    std::vector<nn::Module*> modules;
    for (const std::string& path : paths_) {
        ENGINE_CHECK(!path.empty(), "layer capture: the empty path names the whole model, not a layer");
        modules.push_back(&model.module(path));  // throws listing the valid paths
    }
    for (size_t i = 0; i < modules.size(); ++i) {
        handles_.push_back(modules[i]->register_forward_hook(
            [this, i, track_gradients](nn::Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
                ++calls_[i];
                if (track_gradients && GradMode::is_enabled() && !out.requires_grad() && is_floating(out.dtype())) {
                    Tensor leaf = out.detach();
                    leaf.requires_grad_(true);
                    outputs_[i] = leaf;
                    return leaf;
                }
                outputs_[i] = out;
                return std::nullopt;
            }));
    }
}

LayerCapture::~LayerCapture() {
    for (nn::ForwardHookHandle& h : handles_) h.remove();
}

const Tensor& LayerCapture::activation(size_t i) const {
    ENGINE_CHECK(i < paths_.size(), "layer capture: layer ", i, " of ", paths_.size());
    ENGINE_CHECK(calls_[i] > 0 && outputs_[i].defined(), "layer capture: layer '", paths_[i],
                 "' did not run in the forward pass");
    ENGINE_CHECK(calls_[i] == 1, "layer capture: layer '", paths_[i], "' ran ", calls_[i],
                 " times in one forward; attributions need a module called once");
    return outputs_[i];
}

std::vector<Tensor> LayerCapture::activations() const {
    std::vector<Tensor> out;
    for (size_t i = 0; i < paths_.size(); ++i) out.push_back(activation(i));
    return out;
}

void LayerCapture::clear() {
    for (auto& t : outputs_) t = Tensor();
    for (int& c : calls_) c = 0;
}

// ---------------------------------------------------------------------------------------------- maps

namespace {

constexpr apps::EnumName<Upsample> kUpsampleRows[] = {
    {Upsample::None, "none"}, {Upsample::Nearest, "nearest"}, {Upsample::Bilinear, "bilinear"}};
constexpr apps::EnumNames<Upsample> kUpsampleNames{"upsampling mode", kUpsampleRows};

}  // namespace

const char* upsample_name(Upsample mode) { return kUpsampleNames.name(mode); }

Upsample parse_upsample(const std::string& name) { return kUpsampleNames.parse(name); }

Tensor upsample_map(const Tensor& map, int64_t out_h, int64_t out_w, Upsample mode) {
    if (mode == Upsample::None || (map.size(2) == out_h && map.size(3) == out_w)) return map;
    NoGradGuard no_grad;
    return interpolate(map, out_h, out_w, mode == Upsample::Nearest ? InterpMode::Nearest : InterpMode::Bilinear,
                       false);
}

Tensor job_inputs(const Tensor& x, const ResolvedTarget& target) {
    const auto& jobs = target.jobs();
    bool identity = target.num_jobs() == x.size(0);
    for (int64_t j = 0; identity && j < target.num_jobs(); ++j) identity = jobs[j].image == j;
    if (identity) return x;
    NoGradGuard no_grad;
    return index_select(x, 0, target.job_images(x.device()));
}

}  // namespace engine::explain
