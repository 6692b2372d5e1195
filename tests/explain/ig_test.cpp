// Integrated gradients: Captum's quadratures, exactness on a linear model, completeness, streaming, baselines,
// batch consistency and errors. (Parity with Captum itself: parity_test.cpp.)
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

TEST(IntegratedGradientsTest, StepsAndAlphasAreCaptums) {
    auto [steps, alphas] = ig_steps_and_alphas(IgMethod::RiemannTrapezoid, 4);
    EXPECT_EQ(steps, (std::vector<double>{0.125, 0.25, 0.25, 0.125}));
    // torch.linspace(0, 1, 4).tolist() in float32: the second half is counted back from the end.
    EXPECT_EQ(alphas, (std::vector<double>{0.0, 0.3333333432674408, 0.6666666269302368, 1.0}));
    std::tie(steps, alphas) = ig_steps_and_alphas(IgMethod::RiemannLeft, 4);
    EXPECT_EQ(alphas, (std::vector<double>{0.0, 0.25, 0.5, 0.75}));
    std::tie(steps, alphas) = ig_steps_and_alphas(IgMethod::RiemannRight, 4);
    EXPECT_EQ(alphas, (std::vector<double>{0.25, 0.5, 0.75, 1.0}));
    std::tie(steps, alphas) = ig_steps_and_alphas(IgMethod::RiemannMiddle, 4);
    EXPECT_EQ(alphas, (std::vector<double>{0.125, 0.375, 0.625, 0.875}));
    // 3-point Gauss-Legendre: nodes 0, +-sqrt(3/5), weights 8/9, 5/9, mapped to [0, 1].
    std::tie(steps, alphas) = ig_steps_and_alphas(IgMethod::GaussLegendre, 3);
    const double r = std::sqrt(0.6);
    EXPECT_NEAR(alphas[0], 0.5 * (1 - r), 1e-15);
    EXPECT_NEAR(alphas[1], 0.5, 1e-15);
    EXPECT_NEAR(alphas[2], 0.5 * (1 + r), 1e-15);
    EXPECT_NEAR(steps[0], 5.0 / 18.0, 1e-15);
    EXPECT_NEAR(steps[1], 8.0 / 18.0, 1e-15);
    // 50 points integrate polynomials up to degree 99 exactly: sum s a^k = 1 / (k + 1).
    std::tie(steps, alphas) = ig_steps_and_alphas(IgMethod::GaussLegendre, 50);
    for (int k : {0, 1, 7, 40, 99}) {
        double integral = 0;
        for (size_t i = 0; i < steps.size(); ++i) integral += steps[i] * std::pow(alphas[i], k);
        EXPECT_NEAR(integral, 1.0 / (k + 1), 1e-13) << "degree " << k;
    }
    for (IgMethod m : {IgMethod::RiemannLeft, IgMethod::RiemannRight, IgMethod::RiemannMiddle,
                       IgMethod::RiemannTrapezoid, IgMethod::GaussLegendre}) {
        std::tie(steps, alphas) = ig_steps_and_alphas(m, 17);
        double total = 0;
        for (double s : steps) total += s;
        // Captum's trapezoid keeps steps of 1/n and halves both ends: its weights sum to 1 - 1/n, not 1.
        EXPECT_NEAR(total, m == IgMethod::RiemannTrapezoid ? 1.0 - 1.0 / 17 : 1.0, 1e-12) << ig_method_name(m);
        EXPECT_EQ(parse_ig_method(ig_method_name(m)), m);
    }
}

TEST(IntegratedGradientsTest, ExactOnALinearModel) {
    LinearModel model(2, 3, 4, 5);
    const Tensor x = random_images({2, 2, 3, 4}, 41);
    const Tensor weight = model.weight().detach();  // (5, 24)
    for (IgMethod m : {IgMethod::RiemannLeft, IgMethod::RiemannTrapezoid, IgMethod::GaussLegendre}) {
        IgOptions options;
        options.method = m;
        options.n_steps = 7;
        options.baseline = Baseline::constant(0.25);
        const IgResult r = integrated_gradients(model, x, Target::classes({1, 3}), options);
        // A constant gradient integrates to w times the weights' sum (1 - 1/n for Captum's trapezoid).
        const double mass = m == IgMethod::RiemannTrapezoid ? 1.0 - 1.0 / 7 : 1.0;
        for (int64_t i = 0; i < 2; ++i) {
            const int64_t c = i == 0 ? 1 : 3;
            const Tensor expected = mul(mul(sub(x.select(0, i), 0.25), weight.select(0, c).reshape({2, 3, 4})), mass);
            EXPECT_TRUE(all_close(r.map.select(0, i), expected, 1e-12, 1e-10)) << ig_method_name(m);
            EXPECT_NEAR(r.gap[i], (mass - 1.0) * (r.scores[i] - r.baseline_scores[i]), 1e-10);
        }
        EXPECT_EQ(r.forwards, 2 + 1);  // endpoints + one chunk
    }
    expect_untouched(model);
}

TEST(IntegratedGradientsTest, CompletenessGapShrinksWithSteps) {
    auto model = hashed_lenet();
    model->to(DType::Float64);
    const Tensor x = random_images({2, 1, 28, 28}, 42);
    double previous = INFINITY;
    for (int64_t n : {2, 8, 64}) {
        IgOptions options;
        options.method = IgMethod::RiemannTrapezoid;
        options.n_steps = n;
        const IgResult r = integrated_gradients(*model, x, Target::predicted(), options);
        const double gap = std::abs(r.gap[0]) + std::abs(r.gap[1]);
        for (size_t j = 0; j < 2; ++j)
            EXPECT_NEAR(r.attribution_sums[j] - (r.scores[j] - r.baseline_scores[j]), r.gap[j], 1e-9);
        EXPECT_LT(gap, previous) << n << " steps";
        previous = gap;
    }
    // Captum's default (50-point Gauss-Legendre) is within a few percent on this ReLU network (kinks limit it).
    IgOptions gl;
    const IgResult r = integrated_gradients(*model, x, Target::predicted(), gl);
    for (size_t j = 0; j < 2; ++j)
        EXPECT_LT(std::abs(r.gap[j]), 0.05 * std::abs(r.scores[j] - r.baseline_scores[j])) << "gausslegendre 50";
}

TEST(IntegratedGradientsTest, StreamingChunksAndBatchesAgree) {
    auto model = hashed_lenet();
    const Tensor x = random_images({3, 1, 28, 28}, 43, DType::Float32);
    IgOptions all_at_once;
    all_at_once.n_steps = 12;
    all_at_once.internal_batch_size = 36;
    const IgResult reference = integrated_gradients(*model, x, Target::classes({2, 4, 6}), all_at_once);
    EXPECT_EQ(reference.forwards, 3);
    for (int64_t batch : {1, 5, 0}) {  // 1: fewer than the images (one step per chunk), 5: uneven chunks, 0: auto
        IgOptions options = all_at_once;
        options.internal_batch_size = batch;
        EXPECT_TRUE(all_close(integrated_gradients(*model, x, Target::classes({2, 4, 6}), options).map, reference.map,
                              1e-6, 1e-4))
            << batch;
    }
    const std::vector<int64_t> classes{2, 4, 6};
    for (int64_t i = 0; i < 3; ++i) {
        const IgResult single = integrated_gradients(*model, x.narrow(0, i, 1), Target::cls(classes[i]), all_at_once);
        EXPECT_TRUE(all_close(reference.map.narrow(0, i, 1), single.map, 1e-6, 1e-4)) << i;
        EXPECT_NEAR(reference.gap[i], single.gap[0], 1e-4);
    }
}

TEST(IntegratedGradientsTest, MultiplyByInputsOffGivesTheMeanGradient) {
    LinearModel model(1, 2, 2, 3);
    const Tensor x = random_images({1, 1, 2, 2}, 44);
    IgOptions options;
    options.multiply_by_inputs = false;
    const IgResult r = integrated_gradients(model, x, Target::cls(2), options);
    EXPECT_TRUE(all_close(r.map.reshape({4}), model.weight().detach().select(0, 2), 1e-12, 1e-10));
}

TEST(IntegratedGradientsTest, Baselines) {
    const Tensor x = random_images({2, 3, 9, 8}, 45);
    EXPECT_TRUE(all_close(make_baseline(Baseline::zeros(), x), zeros_like(x), 0, 0));
    EXPECT_TRUE(all_close(make_baseline(Baseline::parse("constant:0.5"), x), full_like(x, 0.5), 0, 0));
    // Blur: a constant image stays constant; the blur preserves the mean of a smooth ramp's interior.
    EXPECT_TRUE(all_close(gaussian_blur(full({1, 2, 7, 7}, 3.0, DType::Float64), 1.5),
                          full({1, 2, 7, 7}, 3.0, DType::Float64), 1e-12, 0));
    const Tensor blurred = make_baseline(Baseline::parse("blur:2"), x);
    EXPECT_EQ(blurred.shape(), x.shape());
    EXPECT_LT(sum(square(sub(blurred, mean(blurred, {2, 3}, true)))).item<double>(),
              sum(square(sub(x, mean(x, {2, 3}, true)))).item<double>());
    // Uniform noise: seeded, in range, and one noise image shared by the batch.
    const Tensor u1 = make_baseline(Baseline::uniform(-2, -1, 9), x),
                 u2 = make_baseline(Baseline::uniform(-2, -1, 9), x);
    EXPECT_TRUE(all_close(u1, u2, 0, 0));
    EXPECT_TRUE(all_close(u1.select(0, 0), u1.select(0, 1), 0, 0));
    EXPECT_GE(amin(u1, {0, 1, 2, 3}).item<double>(), -2.0);
    EXPECT_LT(amax(u1, {0, 1, 2, 3}).item<double>(), -1.0);
    const Tensor img = random_images({3, 9, 8}, 46);
    EXPECT_TRUE(all_close(make_baseline(Baseline::from_image(img), x).select(0, 1), img, 0, 0));
    EXPECT_NE(error_of([&] {
                  make_baseline(Baseline::from_image(zeros({3, 4, 4})), x);
              }).find("does not match"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Baseline::parse("gray"); }).find("cannot parse 'gray'"), std::string::npos);
    EXPECT_EQ(Baseline::parse("uniform:0:1:5").seed, 5u);
}

TEST(IntegratedGradientsTest, BadOptions) {
    auto model = hashed_lenet();
    const Tensor x = random_images({1, 1, 28, 28}, 47, DType::Float32);
    IgOptions options;
    options.method = IgMethod::RiemannRight;
    options.n_steps = 1;
    EXPECT_NE(error_of([&] { integrated_gradients(*model, x, Target::cls(0), options); }).find("n_steps must be >= 2"),
              std::string::npos);
    EXPECT_NE(error_of([&] { parse_ig_method("simpson"); }).find("gausslegendre"), std::string::npos);
}

}  // namespace
}  // namespace engine::explain::test
