// Grad-CAM family: the four formulas against naive loops on independently computed activations and gradients,
// the one-pass sweep, layer activations, multi-target rounds, batch consistency, model state and bad input.
#include "autograd/engine.h"
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

// Naive CAM of one image from A, G (C, h, w) flattened.
std::vector<double> naive_cam(const std::vector<double>& a, const std::vector<double>& g, int64_t c, int64_t hw,
                              CamMethod method) {
    std::vector<double> cam(hw, 0.0);
    for (int64_t k = 0; k < c; ++k) {
        double mean_g = 0, sum_a = 0;
        for (int64_t p = 0; p < hw; ++p) {
            mean_g += g[k * hw + p] / hw;
            sum_a += a[k * hw + p];
        }
        double pp_weight = 0;
        for (int64_t p = 0; p < hw; ++p) {
            const double gv = g[k * hw + p];
            const double alpha = gv != 0 ? gv * gv / (2 * gv * gv + sum_a * gv * gv * gv + 1e-7) : 0.0;
            pp_weight += std::max(gv, 0.0) * alpha;
        }
        for (int64_t p = 0; p < hw; ++p) {
            const double av = a[k * hw + p], gv = g[k * hw + p];
            switch (method) {
                case CamMethod::GradCam:
                    cam[p] += mean_g * av;
                    break;
                case CamMethod::HiResCam:
                    cam[p] += gv * av;
                    break;
                case CamMethod::LayerCam:
                    cam[p] += std::max(gv, 0.0) * av;
                    break;
                case CamMethod::GradCamPlusPlus:
                    cam[p] += pp_weight * av;
                    break;
            }
        }
    }
    return cam;
}

TEST(GradCamTest, FormulasMatchNaiveLoopsOnIndependentGradients) {
    TinyCnn model;
    model.eval();
    const Tensor x = random_images({2, 2, 5, 6}, 21);
    const std::vector<int64_t> classes{2, 0};
    // Reference: split the model by hand, differentiate the head w.r.t. a leaf activation.
    Tensor a = model.body()(x).detach();
    a.requires_grad_(true);
    const Tensor out = model.head()(a);
    const Tensor score = add(out.select(0, 0).select(0, classes[0]), out.select(0, 1).select(0, classes[1]));
    const Tensor g = autograd::grad({score}, {a})[0];
    model.zero_grad();

    CamOptions options;
    options.layers = {"body"};
    options.methods = {CamMethod::GradCam, CamMethod::GradCamPlusPlus, CamMethod::HiResCam, CamMethod::LayerCam};
    options.upsample = Upsample::None;
    const CamResult r = layer_cam(model, x, Target::classes(classes), options);
    ASSERT_EQ(r.maps.size(), 4u);
    const int64_t c = 4, hw = 30;
    for (const CamMap& m : r.maps) {
        ASSERT_EQ(m.layer_map.shape(), (Shape{2, 1, 5, 6}));
        const std::vector<double> got = m.layer_map.to_vector<double>();
        for (int64_t i = 0; i < 2; ++i) {
            const std::vector<double> expected = naive_cam(a.detach().select(0, i).to_vector<double>(),
                                                           g.select(0, i).to_vector<double>(), c, hw, m.method);
            for (int64_t p = 0; p < hw; ++p)
                EXPECT_NEAR(got[i * hw + p], expected[p], 1e-10) << cam_method_name(m.method) << " image " << i;
        }
    }
    expect_untouched(model);
}

TEST(GradCamTest, ReluAndUpsampling) {
    TinyCnn model;
    const Tensor x = random_images({1, 2, 4, 4}, 22);
    CamOptions signed_options;
    signed_options.layers = {"head.0"};
    signed_options.upsample = Upsample::None;
    CamOptions relu_options = signed_options;
    relu_options.relu = true;
    const Tensor raw = layer_cam(model, x, Target::cls(1), signed_options).maps[0].layer_map;
    const Tensor rectified = layer_cam(model, x, Target::cls(1), relu_options).maps[0].layer_map;
    EXPECT_TRUE(all_close(rectified, relu(raw), 1e-12, 0));
    // Same-size layer: every upsampling mode is the identity.
    const Tensor up = grad_cam(model, x, Target::cls(1), "head.0", false, Upsample::Nearest).map;
    EXPECT_TRUE(all_close(up, raw, 1e-12, 0));
}

TEST(GradCamTest, SweepInOnePassEqualsSeparateCalls) {
    auto model = hashed_lenet();
    model->to(DType::Float64);
    const Tensor x = random_images({2, 1, 28, 28}, 23);
    EXPECT_EQ(conv_layer_paths(*model), (std::vector<std::string>{"conv.0", "conv.3"}));
    EXPECT_EQ(default_cam_layer(*model), "conv.3");
    CamOptions options;
    options.methods = {CamMethod::GradCam, CamMethod::LayerCam};
    options.input_gradient = true;
    const CamResult sweep = cam_sweep(*model, x, Target::predicted(), {}, options);
    ASSERT_EQ(sweep.maps.size(), 4u);
    for (const std::string layer : {"conv.0", "conv.3"}) {
        CamOptions single = options;
        single.layers = {layer};
        single.input_gradient = false;
        const CamResult one = layer_cam(*model, x, Target::predicted(), single);
        for (CamMethod m : options.methods)
            EXPECT_TRUE(all_close(sweep.get(layer, m).map, one.get(layer, m).map, 1e-12, 1e-9)) << layer;
    }
    // The input gradient of the same backward is saliency's signed gradient.
    EXPECT_TRUE(all_close(sweep.input_gradient, input_gradient(*model, x, Target::predicted()).map, 1e-12, 1e-9));
    expect_untouched(*model);
}

TEST(GradCamTest, LayerActivationsOfSeveralLayersInOneForward) {
    auto model = hashed_lenet();
    const Tensor x = random_images({3, 1, 28, 28}, 24, DType::Float32);
    const std::vector<Tensor> acts = layer_activations(*model, x, {"conv.0", "conv", "fc.2"});
    ASSERT_EQ(acts.size(), 3u);
    EXPECT_EQ(acts[0].shape(), (Shape{3, 6, 24, 24}));
    EXPECT_EQ(acts[1].shape(), (Shape{3, 16, 4, 4}));
    EXPECT_EQ(acts[2].shape(), (Shape{3, 84}));
    NoGradGuard no_grad;
    EXPECT_TRUE(all_close(acts[0], model->module("conv.0")(x), 1e-6, 1e-6));
    EXPECT_FALSE(acts[0].requires_grad());
}

TEST(GradCamTest, BatchOfThreeEqualsThreeSingleRuns) {
    auto model = hashed_lenet();
    const Tensor x = random_images({3, 1, 28, 28}, 25, DType::Float32);
    CamOptions options;
    options.methods = {CamMethod::GradCam, CamMethod::GradCamPlusPlus};
    const CamResult batch = layer_cam(*model, x, Target::classes({1, 5, 9}), options);
    const std::vector<int64_t> classes{1, 5, 9};
    for (int64_t i = 0; i < 3; ++i) {
        const CamResult single = layer_cam(*model, x.narrow(0, i, 1), Target::cls(classes[i]), options);
        for (size_t m = 0; m < batch.maps.size(); ++m)
            EXPECT_TRUE(all_close(batch.maps[m].map.narrow(0, i, 1), single.maps[m].map, 1e-6, 1e-4)) << i;
        EXPECT_NEAR(batch.scores[i], single.scores[0], 1e-5);
    }
}

TEST(GradCamTest, AllPresentClassesShareOneForward) {
    auto model = std::make_shared<PointwiseSegmenter>(2, 3);
    const Tensor x = random_images({2, 2, 6, 5}, 26);
    const ResolvedTarget resolved = Target::all_present().resolve(forward_no_grad(*model, x));
    CamOptions options;
    options.layers = {"conv"};
    const CamResult all = layer_cam(*model, x, Target::all_present(), options);
    ASSERT_EQ(all.jobs.size(), static_cast<size_t>(resolved.num_jobs()));
    ASSERT_GT(all.jobs.size(), 2u);
    for (size_t j = 0; j < all.jobs.size(); ++j) {
        const TargetJob& job = all.jobs[j];
        const CamResult one = layer_cam(*model, x.narrow(0, job.image, 1), Target::cls(job.cls), options);
        EXPECT_TRUE(all_close(all.maps[0].map.narrow(0, static_cast<int64_t>(j), 1), one.maps[0].map, 1e-12, 1e-9))
            << job.label;
    }
}

TEST(GradCamTest, ModelStateIsRestored) {
    auto model = hashed_lenet();
    model->train();
    model->module("fc").train(false);
    model->parameter("fc.4.bias").requires_grad_(false);
    grad_cam(*model, random_images({1, 1, 28, 28}, 27, DType::Float32), Target::cls(0));
    EXPECT_TRUE(model->is_training());
    EXPECT_TRUE(model->module("conv.0").is_training());
    EXPECT_FALSE(model->module("fc").is_training());
    EXPECT_FALSE(model->module("fc.0").is_training());
    EXPECT_FALSE(model->parameter("fc.4.bias").requires_grad());
    EXPECT_TRUE(model->parameter("fc.4.weight").requires_grad());
    for (const Tensor& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
    EXPECT_EQ(model->module("conv.3").num_forward_hooks(), 0u);
}

TEST(GradCamTest, BadInputErrors) {
    auto model = hashed_lenet();
    const Tensor x = random_images({1, 1, 28, 28}, 28, DType::Float32);
    const std::string unknown = error_of([&] { grad_cam(*model, x, Target::cls(0), "conv.7"); });
    EXPECT_NE(unknown.find("'conv.7'"), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("conv.3"), std::string::npos) << "the valid paths are listed: " << unknown;
    EXPECT_NE(unknown.find("fc.4"), std::string::npos) << unknown;
    EXPECT_NE(error_of([&] { grad_cam(*model, x, Target::cls(10)); }).find("class 10 out of range"), std::string::npos);
    const std::string channels = error_of([&] {
        grad_cam(*model, random_images({1, 3, 28, 28}, 1, DType::Float32), Target::cls(0));
    });
    EXPECT_NE(channels.find("has 3 channels"), std::string::npos) << channels;
    EXPECT_NE(channels.find("expects 1"), std::string::npos) << channels;
    EXPECT_NE(error_of([&] { grad_cam(*model, x, Target::cls(0), "fc.0"); }).find("need an (N, C, H, W) activation"),
              std::string::npos);
    EXPECT_NE(error_of([&] { grad_cam(*model, x.to(DType::Float64), Target::cls(0)); }).find("float64"),
              std::string::npos);
    EXPECT_NE(error_of([&] { grad_cam(*model, x.select(0, 0), Target::cls(0)); }).find("(N, C, H, W)"),
              std::string::npos);
    // The model is usable and clean after each error.
    expect_untouched(*model);
    EXPECT_EQ(model->module("conv.3").num_forward_hooks(), 0u);
}

}  // namespace
}  // namespace engine::explain::test
