// Parity with Captum 0.9 (tests/data/explain/*_captum.safetensors, made by make_captum_fixtures.py): the same
// weights and inputs through our methods must give Captum's maps within max|ours - captum| / max|captum| <= 1e-4.
#include <cstdio>

#include "runtime/cuda_device.h"
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

constexpr double kTolerance = 1e-4;

class CaptumParity : public ::testing::Test {
protected:
    void expect_close(const char* what, const Tensor& ours, const Tensor& captum) {
        const double rel = relative_error(ours, captum);
        std::printf("[parity] %-40s max rel diff %.3g\n", what, rel);
        EXPECT_LE(rel, kTolerance) << what;
    }
    // n_steps of each IG method: 50, or the nearest well-conditioned count (make_captum_fixtures.py).
    int64_t ig_steps(const safetensors::Contents& c, const std::string& method) {
        return nlohmann::json::parse(c.metadata.at("ig_steps")).at(method).get<int64_t>();
    }
    std::vector<int64_t> targets(const safetensors::Contents& c) {
        std::vector<int64_t> t;
        const nlohmann::json j = nlohmann::json::parse(c.metadata.at("targets"));
        for (const auto& v : j) t.push_back(v.get<int64_t>());
        return t;
    }
};

TEST_F(CaptumParity, LeNet) {
    const safetensors::Contents c = safetensors::load(data_path("lenet_captum.safetensors"));
    auto model = hashed_lenet();
    const Tensor x = c.at("input");
    ASSERT_LE(relative_error(forward_no_grad(*model, x), c.at("output")), 1e-5) << "the hashed weights differ";
    const Target target = Target::classes(targets(c));

    CamOptions cam;
    cam.layers = {"conv.3"};
    cam.upsample = Upsample::Nearest;
    const CamResult nearest = layer_cam(*model, x, target, cam);
    expect_close("lenet grad_cam conv.3 (layer)", nearest.maps[0].layer_map, c.at("grad_cam_conv3"));
    expect_close("lenet grad_cam conv.3 nearest", nearest.maps[0].map, c.at("grad_cam_conv3_nearest"));
    expect_close("lenet grad_cam conv.3 bilinear", grad_cam(*model, x, target, "conv.3").map,
                 c.at("grad_cam_conv3_bilinear"));

    for (IgMethod method : {IgMethod::RiemannTrapezoid, IgMethod::GaussLegendre}) {
        const std::string name = ig_method_name(method);
        IgOptions ig;
        ig.method = method;
        ig.n_steps = ig_steps(c, name);
        const IgResult r = integrated_gradients(*model, x, target, ig);
        expect_close(("lenet ig " + name).c_str(), r.map, c.at("ig_" + name));
        const std::vector<double> delta = c.at("ig_" + name + "_delta").to_vector<double>();
        for (size_t j = 0; j < delta.size(); ++j) EXPECT_NEAR(r.gap[j], delta[j], 1e-4) << name << " job " << j;
        // Streaming in chunks of 3 steps x 2 images changes nothing but the summation order.
        ig.internal_batch_size = 6;
        expect_close(("lenet ig " + name + " chunked").c_str(), integrated_gradients(*model, x, target, ig).map,
                     c.at("ig_" + name));
    }
    expect_close("lenet saliency", saliency(*model, x, target).map, c.at("saliency"));
    expect_close("lenet input_x_gradient", input_x_gradient(*model, x, target).map, c.at("input_x_gradient"));

    OcclusionOptions occ;
    occ.window_h = occ.window_w = 8;
    occ.stride_h = occ.stride_w = 6;
    occ.perturbations_per_eval = 4;
    expect_close("lenet occlusion 8x8 stride 6", occlusion(*model, x, target, occ).map, c.at("occlusion"));
}

TEST_F(CaptumParity, UNetSegmentation) {
    const safetensors::Contents c = safetensors::load(data_path("unet_captum.safetensors"));
    auto model = fixture_model(c);
    const Tensor x = c.at("input");
    ASSERT_LE(relative_error(forward_no_grad(*model, x), c.at("output")), 1e-5);
    const std::vector<int64_t> classes = targets(c);
    const Target target = Target::classes(classes);
    // Captum's targets are the classes with the most predicted pixels: our Target::predicted().
    const ResolvedTarget predicted = Target::predicted().resolve(forward_no_grad(*model, x));
    for (size_t i = 0; i < classes.size(); ++i) EXPECT_EQ(predicted.jobs()[i].cls, classes[i]);

    CamOptions cam;
    cam.layers = {"middle", "expansive_42"};
    cam.upsample = Upsample::Nearest;
    const CamResult r = layer_cam(*model, x, target, cam);
    expect_close("unet grad_cam middle (layer)", r.get("middle").layer_map, c.at("grad_cam_middle"));
    expect_close("unet grad_cam middle nearest", r.get("middle").map, c.at("grad_cam_middle_nearest"));
    expect_close("unet grad_cam expansive_42", r.get("expansive_42").layer_map, c.at("grad_cam_expansive_42"));
    expect_close("unet grad_cam middle bilinear", grad_cam(*model, x, target, "middle").map,
                 c.at("grad_cam_middle_bilinear"));

    for (IgMethod method : {IgMethod::RiemannTrapezoid, IgMethod::GaussLegendre}) {
        const std::string name = ig_method_name(method);
        IgOptions ig;
        ig.method = method;
        ig.n_steps = ig_steps(c, name);
        ig.internal_batch_size = 20;
        const IgResult res = integrated_gradients(*model, x, target, ig);
        expect_close(("unet ig " + name).c_str(), res.map, c.at("ig_" + name));
        const std::vector<double> delta = c.at("ig_" + name + "_delta").to_vector<double>();
        for (size_t j = 0; j < delta.size(); ++j) EXPECT_NEAR(res.gap[j], delta[j], 1e-3) << name << " job " << j;
    }

    AblationOptions fa;
    fa.perturbations_per_eval = 2;
    expect_close("unet feature_ablation (argmax segments)",
                 feature_ablation(*model, x, target, c.at("segments"), fa).map, c.at("feature_ablation"));
    expect_close("unet saliency", saliency(*model, x, target).map, c.at("saliency"));
    expect_close("unet input_x_gradient", input_x_gradient(*model, x, target).map, c.at("input_x_gradient"));
}

// The same methods on the CUDA device through the same ops (skipped without one): parity with Captum, and the
// methods that have no Captum fixture against our own CPU results.
TEST_F(CaptumParity, OnTheCudaDevice) {
    if (!cuda::is_available()) GTEST_SKIP() << "no CUDA device (" << cuda::unavailable_reason() << "): skipped";
    const Device gpu = Device::cuda(0);
    {
        const safetensors::Contents c = safetensors::load(data_path("lenet_captum.safetensors"));
        auto model = hashed_lenet();
        model->to(gpu);
        const Tensor x = c.at("input").to(gpu);
        const Target target = Target::classes(targets(c));
        const Explanation cam = grad_cam(*model, x, target, "conv.3", false, Upsample::Bilinear);
        EXPECT_TRUE(cam.map.device().is_cuda());
        expect_close("cuda lenet grad_cam conv.3 bilinear", cam.map.to(Device::cpu()), c.at("grad_cam_conv3_bilinear"));
        expect_close("cuda lenet ig gausslegendre", integrated_gradients(*model, x, target).map.to(Device::cpu()),
                     c.at("ig_gausslegendre"));
        expect_close("cuda lenet saliency", saliency(*model, x, target).map.to(Device::cpu()), c.at("saliency"));
        OcclusionOptions occ;
        occ.window_h = occ.window_w = 8;
        occ.stride_h = occ.stride_w = 6;
        expect_close("cuda lenet occlusion", occlusion(*model, x, target, occ).map.to(Device::cpu()),
                     c.at("occlusion"));
        expect_untouched(*model);
    }
    const safetensors::Contents c = safetensors::load(data_path("unet_captum.safetensors"));
    auto cpu_model = fixture_model(c);
    auto model = fixture_model(c);
    model->to(gpu);
    const Tensor x_cpu = c.at("input"), x = x_cpu.to(gpu);
    const Target target = Target::classes(targets(c));
    CamOptions cam;
    cam.layers = {"middle", "expansive_42"};
    cam.upsample = Upsample::Nearest;
    const CamResult r = layer_cam(*model, x, target, cam);
    expect_close("cuda unet grad_cam middle nearest", r.get("middle").map.to(Device::cpu()),
                 c.at("grad_cam_middle_nearest"));
    expect_close("cuda unet grad_cam expansive_42", r.get("expansive_42").layer_map.to(Device::cpu()),
                 c.at("grad_cam_expansive_42"));
    IgOptions ig;
    ig.method = IgMethod::RiemannTrapezoid;
    expect_close("cuda unet ig riemann_trapezoid", integrated_gradients(*model, x, target, ig).map.to(Device::cpu()),
                 c.at("ig_riemann_trapezoid"));
    AblationOptions fa;
    fa.perturbations_per_eval = 2;
    expect_close("cuda unet feature_ablation",
                 feature_ablation(*model, x, target, c.at("segments").to(gpu), fa).map.to(Device::cpu()),
                 c.at("feature_ablation"));
    expect_close("cuda unet input_x_gradient", input_x_gradient(*model, x, target).map.to(Device::cpu()),
                 c.at("input_x_gradient"));
    // No Captum reference: CUDA against our CPU results.
    const Tensor segments = predicted_segments(*cpu_model, x_cpu);
    LimeOptions lo;
    lo.num_samples = 40;
    lo.hide = LimeOptions::HideColor::SegmentMean;
    expect_close("cuda unet lime (vs our cpu)",
                 lime(*model, x, Target::all_present(), segments.to(gpu), lo).map.to(Device::cpu()),
                 lime(*cpu_model, x_cpu, Target::all_present(), segments, lo).map);
    CamOptions all;
    all.methods = {CamMethod::GradCamPlusPlus, CamMethod::LayerCam};
    expect_close("cuda unet grad_cam_pp all_present (vs our cpu)",
                 layer_cam(*model, x, Target::all_present(), all).maps[0].map.to(Device::cpu()),
                 layer_cam(*cpu_model, x_cpu, Target::all_present(), all).maps[0].map);
    const Tensor map_cpu = integrated_gradients(*cpu_model, x_cpu, target).map;
    CurveOptions curve;
    curve.baseline = Baseline::blur(2.0);
    const CurveResult on_gpu = attribution_curve(*model, x, target, map_cpu.to(gpu), curve);
    const CurveResult on_cpu = attribution_curve(*cpu_model, x_cpu, target, map_cpu, curve);
    for (size_t j = 0; j < on_cpu.auc.size(); ++j) EXPECT_NEAR(on_gpu.auc[j], on_cpu.auc[j], 1e-4);
}

}  // namespace
}  // namespace engine::explain::test
