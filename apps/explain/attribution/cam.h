// Class activation maps at any layer, from ONE forward and one backward per target round (see target.h):
// Grad-CAM (Captum's LayerGradCam), Grad-CAM++, HiResCAM and LayerCAM from the same activations A and
// gradients G = d score / d A, for one layer or a sweep over many (every conv layer by default) in the same
// pass; plus layer activations of any list of layers in one forward.
//
//   grad_cam     sum_c mean_hw(G)_c * A_c                         (Captum LayerGradCam, attr_dim_summation)
//   grad_cam_pp  sum_c w_c A_c, w_c = sum_hw relu(G) * a, a = G^2 / (2 G^2 + sum_hw(A) G^3 + 1e-7), a = 0
//                where G = 0 (pytorch-grad-cam's GradCAMPlusPlus, which uses G of the score, not of exp(score))
//   hires_cam    sum_c G_c * A_c (elementwise)
//   layer_cam    sum_c relu(G_c) * A_c
// relu (default off, as Captum's relu_attributions=False: signed maps) applies to every method's map.
// Maps are (M, 1, h, w) at the layer's resolution plus, unless Upsample::None, (M, 1, H, W) at the input's
// (bilinear by default; Upsample::Nearest is Captum's LayerAttribution.interpolate default).
//
//     explain::CamOptions options;
//     options.layers = {"middle", "expansive_42"};
//     options.methods = {explain::CamMethod::GradCam, explain::CamMethod::LayerCam};
//     explain::CamResult r = explain::layer_cam(*model, x, explain::Target::predicted(), options);
//     Tensor m = r.get("middle", explain::CamMethod::GradCam).map;   // (N, 1, H, W)
#pragma once

#include <string>
#include <vector>

#include "apps/explain/attribution/common.h"

namespace engine::explain {

enum class CamMethod { GradCam, GradCamPlusPlus, HiResCam, LayerCam };
const char* cam_method_name(CamMethod method);        // "grad_cam", "grad_cam_pp", "hires_cam", "layer_cam"
CamMethod parse_cam_method(const std::string& name);  // the names above; throws listing them

struct CamOptions {
    std::vector<std::string> layers;  // empty: {default_cam_layer(model)}
    std::vector<CamMethod> methods{CamMethod::GradCam};
    bool relu = false;                       // Captum's relu_attributions
    Upsample upsample = Upsample::Bilinear;  // Captum's interpolate default: Nearest
    // Also return d score / d input from the same backward (saliency and input x gradient for free).
    bool input_gradient = false;
    // Keep each layer's activations and gradients (M, C, h, w) in the result.
    bool keep_layer_tensors = false;
};

struct CamMap {
    std::string layer;
    CamMethod method = CamMethod::GradCam;
    Tensor layer_map;  // (M, 1, h, w)
    Tensor map;        // (M, 1, H, W) at the input's size (the layer map itself with Upsample::None)
};

struct CamResult {
    std::vector<TargetJob> jobs;
    std::vector<double> scores;       // clean target score per job
    std::vector<CamMap> maps;         // layer-major, then method, in the options' order
    std::vector<Tensor> activations;  // per layer (M, C, h, w), when keep_layer_tensors
    std::vector<Tensor> gradients;    // per layer (M, C, h, w), when keep_layer_tensors
    Tensor input_gradient;            // (M, C, H, W), when input_gradient
    double seconds = 0.0;
    nlohmann::json settings;

    // The map of one layer and method; throws listing what the result holds.
    const CamMap& get(const std::string& layer, CamMethod method = CamMethod::GradCam) const;
    // maps[i] as an Explanation (method "grad_cam@middle", map at input resolution).
    Explanation explanation(size_t i) const;
};

// One forward (hooks on every layer), one autograd::grad per target round w.r.t. all layers at once.
CamResult layer_cam(nn::Module& model, const Tensor& x, const Target& target, const CamOptions& options = {});

// Captum's LayerGradCam at one layer (default: the last Conv2d), as an Explanation whose map is at the
// input's size (settings["layer_shape"] gives the layer's; use layer_cam() for the layer-resolution map).
Explanation grad_cam(nn::Module& model, const Tensor& x, const Target& target, const std::string& layer = "",
                     bool relu = false, Upsample upsample = Upsample::Bilinear);

// layer_cam over `layers` (empty: every Conv2d and ConvTranspose2d, conv_layer_paths()) in one pass.
CamResult cam_sweep(nn::Module& model, const Tensor& x, const Target& target, std::vector<std::string> layers = {},
                    CamOptions options = {});

// The outputs of several layers in one no-grad forward (Captum's LayerActivation with a list of layers),
// one tensor per path, for the N images.
std::vector<Tensor> layer_activations(nn::Module& model, const Tensor& x, const std::vector<std::string>& paths);

// A CAM map from a layer's activations and gradients (M, C, h, w): the formulas above, (M, 1, h, w).
Tensor cam_from(const Tensor& activation, const Tensor& gradient, CamMethod method, bool relu);

}  // namespace engine::explain
