// What every attribution method shares: ModelScope (eval mode + frozen parameters for the duration of an
// explanation), input validation, LayerCapture (forward hooks that keep layer outputs and make them
// differentiable), layer discovery (every conv layer, the default Grad-CAM layer), the Explanation result and
// map resampling.
//
// Why parameters are frozen: the engine's backward nodes decide at record time which input gradients they
// compute, so a forward with parameters that require grad makes every conv backward also compute its weight
// gradient, even under autograd::grad w.r.t. the input only (which prunes whole nodes, not a node's unused
// outputs). ModelScope turns requires_grad off on every parameter while it lives (restoring each flag
// afterwards), so no weight gradient is computed, no .grad() is touched, and conv nodes save no input for a
// weight gradient.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "apps/explain/attribution/target.h"
#include "layers/module.h"

namespace engine::explain {

// Eval mode and parameters without requires_grad while alive; restores every module's mode and every
// parameter's flag on destruction. Nesting is fine (the inner scope restores what the outer one set).
class ModelScope {
public:
    explicit ModelScope(nn::Module& model);
    ~ModelScope();
    ModelScope(const ModelScope&) = delete;
    ModelScope& operator=(const ModelScope&) = delete;

private:
    std::vector<std::pair<nn::Module*, bool>> training_;
    std::vector<std::pair<Tensor, bool>> requires_grad_;
};

// Throws naming `method` unless x is a floating (N, C, H, W) batch with N >= 1 on the parameters' device and
// dtype and, when the model says how many channels it takes (a models::Model's config, else its first
// Conv2d's in_channels), C matches.
void check_input(nn::Module& model, const Tensor& x, const char* method);

// The model's forward on x without a graph (eval forward for perturbations and scores).
Tensor forward_no_grad(nn::Module& model, const Tensor& x);

// Paths of every Conv2d and ConvTranspose2d, in registration (pre-order) order: the Grad-CAM sweep's default.
std::vector<std::string> conv_layer_paths(nn::Module& model);
// The last Conv2d in registration order (LeNet: "conv.3", UNet: "output"); throws when there is none.
std::string default_cam_layer(nn::Module& model);

// Keeps the output of each hooked module during a forward. With track_gradients, an output computed without
// a graph (nothing below it requires grad) is replaced by a leaf that requires grad (same storage), so the
// rest of the network records a graph from there and autograd::grad can differentiate w.r.t. it; an output
// that already has a graph is kept as is. Paths are validated on construction: an unknown path throws an
// Error listing every valid one. Hooks are removed on destruction.
class LayerCapture {
public:
    LayerCapture(nn::Module& model, std::vector<std::string> paths, bool track_gradients);
    ~LayerCapture();
    LayerCapture(const LayerCapture&) = delete;
    LayerCapture& operator=(const LayerCapture&) = delete;

    const std::vector<std::string>& paths() const { return paths_; }
    // The output of layer i in the last forward; throws naming the layer when it did not run.
    const Tensor& activation(size_t i) const;
    std::vector<Tensor> activations() const;
    void clear();

private:
    std::vector<std::string> paths_;
    std::vector<Tensor> outputs_;
    std::vector<int> calls_;
    std::vector<nn::ForwardHookHandle> handles_;
};

// A method's result: one map per job (see target.h), signed and unnormalised, on the input's device.
struct Explanation {
    std::string method;           // "grad_cam", "saliency", "integrated_gradients", "feature_ablation", ...
    std::vector<TargetJob> jobs;  // row j of `map` explains jobs[j]
    Tensor map;                   // (M, 1 or C, H, W) at input resolution (layer methods: see CamResult)
    std::vector<double> scores;   // the target score of each job on the clean input
    double seconds = 0.0;         // wall time of the call
    nlohmann::json settings;      // the options used (method-specific keys), for reports and sidecars
};

// How a layer-resolution map is brought to the input's size. Captum's LayerAttribution.interpolate defaults to
// nearest; bilinear (align_corners=false, as F.interpolate) is smoother and our default for display.
enum class Upsample { None, Nearest, Bilinear };
const char* upsample_name(Upsample mode);
Upsample parse_upsample(const std::string& name);  // "none" | "nearest" | "bilinear"
// map (M, K, h, w) -> (M, K, out_h, out_w); None returns the map unchanged.
Tensor upsample_map(const Tensor& map, int64_t out_h, int64_t out_w, Upsample mode);

// Wall-clock seconds since construction.
class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

private:
    std::chrono::steady_clock::time_point start_;
};

// The input rows of every job: x.index_select(0, job images), or x itself when jobs are the images in order.
Tensor job_inputs(const Tensor& x, const ResolvedTarget& target);

}  // namespace engine::explain
