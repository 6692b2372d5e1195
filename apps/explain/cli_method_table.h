// The explain command's methods in one table: for each, the name --method takes and results.json records
// ("gradcam++"), the tag in its output file names ("gradcampp"), the report's title ("Grad-CAM++"), how it runs
// and the attribution library's function or method behind it (CamMethod::GradCamPlusPlus, whose library name
// "grad_cam_pp" --method accepts too). Every other spelling of a method is an alias in the same table.
#pragma once

#include <string>
#include <vector>

#include "apps/common/enum_names.h"
#include "apps/explain/attribution/cam.h"

namespace engine::explain::cli {

enum class Method {
    GradCam,
    GradCamPlusPlus,
    HiResCam,
    LayerCam,
    Activations,
    Saliency,
    Gradient,
    InputXGradient,
    IntegratedGradients,
    Ablation,
    Occlusion,
    Lime,
};

// How a method runs: the CAMs of one target share one pass; activations are per image, not per target; the
// perturbation methods (ablation, LIME) run once per feature mask.
enum class MethodFamily { Cam, Activations, InputGradient, IntegratedGradients, Ablation, Occlusion, Lime };

// A library function that explains a target with the gradient at the input (one call, no options).
using GradientFn = Explanation (*)(nn::Module& model, const Tensor& x, const Target& target);

struct MethodInfo {
    Method method;
    const char* name;      // --method and results.json's "method": "gradcam++"
    const char* file_tag;  // in output file names: "gradcampp"
    const char* title;     // the report's heading: "Grad-CAM++"
    MethodFamily family;
    CamMethod cam;           // CAMs only: the library's method (its name is one more --method spelling)
    GradientFn gradient;     // input-gradient methods only: the library function
    const char* aliases[2];  // more --method spellings; nullptr: none
};

// Every method, in the order they run and are listed.
const std::vector<MethodInfo>& method_table();
const MethodInfo& method_info(Method method);
// Every spelling --method accepts (name, file tag, the library's CAM name, aliases; any case) -> the method;
// name() gives the --method name.
const apps::EnumNames<Method>& method_spellings();
// The --method names in table order.
std::vector<std::string> method_names();
// A --method list: every item resolved to its method, "all" to every method; de-duplicated, in table order.
// Throws apps::UsageError for an unknown item or an empty list.
std::vector<Method> parse_methods(const std::vector<std::string>& items);

}  // namespace engine::explain::cli
