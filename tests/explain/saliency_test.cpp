// Saliency, InputXGradient and the raw input gradient against plain autograd, on classifiers and on the frozen
// segmentation target; no weight gradient, restored state, batch consistency.
#include "autograd/engine.h"
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

// d(sum_i out[i, classes[i]])/dx the obvious way (parameters left as they are, then cleared).
Tensor reference_gradient(nn::Module& model, const Tensor& x, const std::vector<int64_t>& classes) {
    Tensor input = x.detach();
    input.requires_grad_(true);
    const Tensor out = model(input);
    Tensor score;
    for (size_t i = 0; i < classes.size(); ++i) {
        const Tensor s = out.select(0, static_cast<int64_t>(i)).select(0, classes[i]);
        score = score.defined() ? add(score, s) : s;
    }
    const Tensor g = autograd::grad({score}, {input})[0];
    model.zero_grad();
    return g;
}

TEST(SaliencyTest, MatchesPlainAutogradOnAClassifier) {
    auto model = hashed_lenet();
    model->to(DType::Float64);
    const Tensor x = random_images({2, 1, 28, 28}, 31);
    const Tensor g = reference_gradient(*model, x, {4, 8});
    const Target target = Target::classes({4, 8});
    EXPECT_TRUE(all_close(input_gradient(*model, x, target).map, g, 1e-12, 1e-9));
    EXPECT_TRUE(all_close(saliency(*model, x, target).map, abs(g), 1e-12, 1e-9));
    EXPECT_TRUE(all_close(saliency(*model, x, target, false).map, g, 1e-12, 1e-9));
    EXPECT_TRUE(all_close(input_x_gradient(*model, x, target).map, mul(x, g), 1e-12, 1e-9));
    expect_untouched(*model);
}

TEST(SaliencyTest, SegmentationTargetIsTheFrozenMaskSum) {
    auto model = std::make_shared<models::UNet>(models::ModelConfig{"unet", 2, 3, 2});
    model->to(DType::Float64);
    model->eval();
    const Tensor x = random_images({1, 2, 16, 16}, 32);
    const Tensor clean = forward_no_grad(*model, x);
    const ResolvedTarget resolved = Target::cls(1).resolve(clean);
    // Reference: d <W, out> / dx with W = class-1 plane on the clean argmax mask of class 1.
    Tensor input = x.detach();
    input.requires_grad_(true);
    const Tensor mask = eq(argmax(clean, 1), 1.0).to(DType::Float64);  // (1, H, W)
    const Tensor score = sum(mul(model->forward(input).select(1, 1), mask));
    const Tensor g = autograd::grad({score}, {input})[0];
    model->zero_grad();
    const Explanation e = saliency(*model, x, Target::cls(1), false);
    EXPECT_TRUE(all_close(e.map, g, 1e-12, 1e-9));
    EXPECT_NEAR(e.scores[0], sum(mul(clean.select(1, 1), mask)).item<double>(), 1e-9);
    EXPECT_EQ(e.jobs[0].pixels, static_cast<int64_t>(sum(mask).item<double>()));
    EXPECT_EQ(resolved.jobs()[0].pixels, e.jobs[0].pixels);
}

TEST(SaliencyTest, BatchOfThreeEqualsThreeSingleRuns) {
    auto model = hashed_lenet();
    const Tensor x = random_images({3, 1, 28, 28}, 33, DType::Float32);
    const Explanation batch = input_x_gradient(*model, x, Target::predicted());
    for (int64_t i = 0; i < 3; ++i) {
        const Explanation single = input_x_gradient(*model, x.narrow(0, i, 1), Target::predicted());
        EXPECT_EQ(single.jobs[0].cls, batch.jobs[i].cls);
        EXPECT_TRUE(all_close(batch.map.narrow(0, i, 1), single.map, 1e-6, 1e-4)) << i;
    }
}

TEST(SaliencyTest, AllClassesOfAClassifier) {
    auto model = hashed_lenet();
    model->to(DType::Float64);
    const Tensor x = random_images({2, 1, 28, 28}, 34);
    const Explanation all = input_gradient(*model, x, Target::all_present());
    ASSERT_EQ(all.jobs.size(), 20u);
    for (int64_t j : {0, 7, 13, 19}) {
        const TargetJob& job = all.jobs[j];
        const Tensor g = reference_gradient(*model, x.narrow(0, job.image, 1), {job.cls});
        EXPECT_TRUE(all_close(all.map.narrow(0, j, 1), g, 1e-12, 1e-9)) << job.label;
    }
}

}  // namespace
}  // namespace engine::explain::test
