// The table of the explain command's methods.
#include "apps/explain/cli_method_table.h"

#include <algorithm>

#include "apps/common/app_main.h"
#include "apps/explain/attribution/gradients.h"
#include "apps/explain/cli_text.h"

namespace engine::explain::cli {

namespace {

// Captum's Saliency default (abs=True) as a plain gradient function.
Explanation saliency_abs(nn::Module& model, const Tensor& x, const Target& target) {
    return saliency(model, x, target, true);
}

using F = MethodFamily;
// One method per row (clang-format would spread the long ones over eight lines).
// clang-format off
const std::vector<MethodInfo> kMethods = {
    {Method::GradCam, "gradcam", "gradcam", "Grad-CAM", F::Cam, CamMethod::GradCam, nullptr, {"grad-cam", nullptr}},
    {Method::GradCamPlusPlus, "gradcam++", "gradcampp", "Grad-CAM++", F::Cam, CamMethod::GradCamPlusPlus, nullptr,
     {"grad-cam++", nullptr}},
    {Method::HiResCam, "hirescam", "hirescam", "HiResCAM", F::Cam, CamMethod::HiResCam, nullptr, {}},
    {Method::LayerCam, "layercam", "layercam", "LayerCAM", F::Cam, CamMethod::LayerCam, nullptr, {}},
    {Method::Activations, "activations", "activations", "Activations", F::Activations, {}, nullptr, {}},
    {Method::Saliency, "saliency", "saliency", "Saliency", F::InputGradient, {}, saliency_abs, {}},
    {Method::Gradient, "gradient", "gradient", "Gradient", F::InputGradient, {}, input_gradient, {}},
    {Method::InputXGradient, "ixg", "ixg", "Input x Gradient", F::InputGradient, {}, input_x_gradient,
     {"input_x_gradient", "inputxgradient"}},
    {Method::IntegratedGradients, "ig", "ig", "Integrated Gradients", F::IntegratedGradients, {}, nullptr,
     {"integrated_gradients", "integrated-gradients"}},
    {Method::Ablation, "ablation", "ablation", "Feature Ablation", F::Ablation, {}, nullptr, {}},
    {Method::Occlusion, "occlusion", "occlusion", "Occlusion", F::Occlusion, {}, nullptr, {}},
    {Method::Lime, "lime", "lime", "LIME", F::Lime, {}, nullptr, {}},
};
// clang-format on

// The spellings, each method's name first (EnumNames::name() returns a value's first row).
std::vector<apps::EnumName<Method>> spelling_rows() {
    std::vector<apps::EnumName<Method>> rows;
    for (const MethodInfo& m : kMethods) rows.push_back({m.method, m.name});
    for (const MethodInfo& m : kMethods) {
        rows.push_back({m.method, m.file_tag});
        if (m.family == MethodFamily::Cam) rows.push_back({m.method, cam_method_name(m.cam)});
        for (const char* alias : m.aliases)
            if (alias) rows.push_back({m.method, alias});
    }
    return rows;
}

}  // namespace

const std::vector<MethodInfo>& method_table() { return kMethods; }

const MethodInfo& method_info(Method method) {
    for (const MethodInfo& m : kMethods)
        if (m.method == method) return m;
    throw Error("explain: a method missing from the method table");
}

const apps::EnumNames<Method>& method_spellings() {
    static const std::vector<apps::EnumName<Method>> rows = spelling_rows();
    static const apps::EnumNames<Method> names("method", rows.data(), rows.size(), apps::NameCase::Insensitive);
    return names;
}

std::vector<std::string> method_names() { return method_spellings().names(); }

std::vector<Method> parse_methods(const std::vector<std::string>& items) {
    std::vector<Method> wanted;
    for (const std::string& item : items) {
        if (lower(item) == "all") {
            for (const MethodInfo& m : kMethods) wanted.push_back(m.method);
            continue;
        }
        const std::optional<Method> method = method_spellings().find(item);
        if (!method)
            throw apps::UsageError("--method: unknown method '" + lower(item) + "' (valid: " + join(method_names()) +
                                   ", all)");
        wanted.push_back(*method);
    }
    if (wanted.empty()) throw apps::UsageError("--method: no method given");
    std::vector<Method> out;
    for (const MethodInfo& m : kMethods)
        if (std::find(wanted.begin(), wanted.end(), m.method) != wanted.end()) out.push_back(m.method);
    return out;
}

}  // namespace engine::explain::cli
