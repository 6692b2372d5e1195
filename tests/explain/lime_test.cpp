// LIME: the weighted ridge solver, recovery of a linear model's segment contributions, reproducibility across
// runs and batch positions, hide colours, top-k lists.
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

TEST(LimeTest, WeightedRidgeSolvesItsNormalEquations) {
    // 40 rows, 3 features, noisy y; check the optimality conditions of
    // sum_i w_i (y_i - b - z_i.beta)^2 + alpha |beta|^2: zero gradient w.r.t. b and beta.
    const int64_t rows = 40, k = 3;
    std::vector<double> z(rows * k), y(rows), w(rows);
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t a = 0; a < k; ++a) z[i * k + a] = ((i * 7 + a * 3) % 5) < 2 ? 1.0 : 0.0;
        y[i] = 1.5 + 2.0 * z[i * k] - 0.7 * z[i * k + 1] + 0.1 * std::sin(static_cast<double>(i));
        w[i] = 0.2 + 0.05 * (i % 7);
    }
    double b = 0, r2 = 0;
    const double alpha = 0.8;
    const std::vector<double> beta = weighted_ridge(z, y, w, k, alpha, &b, &r2);
    std::vector<double> grad(k + 1, 0.0);
    for (int64_t i = 0; i < rows; ++i) {
        double residual = y[i] - b;
        for (int64_t a = 0; a < k; ++a) residual -= z[i * k + a] * beta[a];
        grad[k] += -2 * w[i] * residual;
        for (int64_t a = 0; a < k; ++a) grad[a] += -2 * w[i] * residual * z[i * k + a];
    }
    for (int64_t a = 0; a < k; ++a) grad[a] += 2 * alpha * beta[a];
    for (double g : grad) EXPECT_NEAR(g, 0.0, 1e-9);
    EXPECT_GT(r2, 0.5);
    EXPECT_LT(r2, 1.0);
    // Noise-free data and no penalty: exact recovery, R^2 = 1.
    for (int64_t i = 0; i < rows; ++i) y[i] = -1.0 + 3.0 * z[i * k + 2] + 0.5 * z[i * k];
    const std::vector<double> exact = weighted_ridge(z, y, w, k, 0.0, &b, &r2);
    EXPECT_NEAR(exact[0], 0.5, 1e-9);
    EXPECT_NEAR(exact[1], 0.0, 1e-9);
    EXPECT_NEAR(exact[2], 3.0, 1e-9);
    EXPECT_NEAR(b, -1.0, 1e-9);
    EXPECT_NEAR(r2, 1.0, 1e-12);
}

TEST(LimeTest, RecoversSegmentContributionsOfALinearModel) {
    const int64_t h = 6, w = 6;
    LinearModel model(2, h, w, 3);
    const Tensor x = random_images({1, 2, h, w}, 61);
    const Tensor mask = grid_mask(h, w, 3, 2);  // 2 x 3 = 6 segments
    LimeOptions options;
    options.num_samples = 200;
    options.ridge_alpha = 1e-9;
    const LimeResult r = lime(model, x, Target::cls(2), mask, options);
    ASSERT_EQ(r.per_job.size(), 1u);
    const LimeJob& job = r.per_job[0];
    ASSERT_EQ(job.segment_ids.size(), 6u);
    // With a zero hide colour, score = b + sum_k z_k c_k with c_k = sum over segment k of w x: exactly linear.
    const std::vector<double> xv = x.to_vector<double>(), wv = model.weight().to_vector<double>();
    const std::vector<int64_t> ids = mask.to_vector<int64_t>();
    for (int64_t s = 0; s < 6; ++s) {
        double c = 0;
        for (int64_t p = 0; p < h * w; ++p)
            if (ids[p] == s)
                for (int64_t ch = 0; ch < 2; ++ch) c += wv[2 * 2 * h * w + ch * h * w + p] * xv[ch * h * w + p];
        EXPECT_NEAR(job.coefficients[s], c, 1e-6) << "segment " << s;
    }
    EXPECT_NEAR(job.r2, 1.0, 1e-9);
    EXPECT_NEAR(job.intercept, model.bias().to_vector<double>()[2], 1e-6);
    // Top lists are sorted and signed.
    for (size_t i = 1; i < job.top_positive.size(); ++i)
        EXPECT_GE(job.coefficients[job.top_positive[i - 1]], job.coefficients[job.top_positive[i]]);
    for (int64_t id : job.top_positive) EXPECT_GT(job.coefficients[id], 0);
    for (int64_t id : job.top_negative) EXPECT_LT(job.coefficients[id], 0);
    EXPECT_EQ(job.top_positive.size() + job.top_negative.size(), 6u);
    // The map paints each segment's coefficient.
    const std::vector<double> map = r.map.to_vector<double>();
    for (int64_t p = 0; p < h * w; ++p) EXPECT_DOUBLE_EQ(map[p], job.coefficients[ids[p]]);
    expect_untouched(model);
}

TEST(LimeTest, ReproducibleAndIndependentOfBatchPosition) {
    auto model = hashed_lenet();
    const Tensor x = random_images({3, 1, 28, 28}, 62, DType::Float32);
    const Tensor mask = grid_mask(28, 28, 7, 7);
    LimeOptions options;
    options.num_samples = 60;
    options.seed = 17;
    options.batch_size = 25;
    const LimeResult a = lime(*model, x, Target::classes({1, 2, 3}), mask, options);
    const LimeResult b = lime(*model, x, Target::classes({1, 2, 3}), mask, options);
    EXPECT_TRUE(all_close(a.map, b.map, 0, 0));
    const LimeResult single = lime(*model, x.narrow(0, 2, 1), Target::cls(3), mask, options);
    for (size_t k = 0; k < single.per_job[0].coefficients.size(); ++k)
        EXPECT_NEAR(single.per_job[0].coefficients[k], a.per_job[2].coefficients[k], 1e-4);
    options.seed = 18;
    const LimeResult other = lime(*model, x, Target::classes({1, 2, 3}), mask, options);
    EXPECT_FALSE(all_close(other.map, a.map, 1e-6, 0));
    EXPECT_EQ(a.forwards, 1 + 3 * 3);  // clean + ceil(60 / 25) per image
}

TEST(LimeTest, SegmentMeanHideColour) {
    // A model that reads one pixel: score = x[0, 0, 0] * 2 - 1 (other weights zero).
    LinearModel model(1, 2, 2, 1);
    {
        NoGradGuard no_grad;
        nn::copy_into(model.weight(), from_vector<double>({2, 0, 0, 0}, {1, 4}));
        nn::copy_into(model.bias(), from_vector<double>({-1}, {1}));
    }
    const Tensor x = from_vector<double>({4, 0, 3, 5}, {1, 1, 2, 2});
    const Tensor mask = from_vector<int64_t>({0, 0, 1, 1}, {2, 2});  // segment 0 = top row, mean colour 2
    LimeOptions options;
    options.num_samples = 50;
    options.ridge_alpha = 1e-9;
    options.hide = LimeOptions::HideColor::SegmentMean;
    const LimeResult r = lime(model, x, Target::cls(0), mask, options);
    // Hiding segment 0 turns pixel (0, 0) from 4 into 2: the score drops by 4.
    EXPECT_NEAR(r.per_job[0].coefficients[0], 4.0, 1e-6);
    EXPECT_NEAR(r.per_job[0].coefficients[1], 0.0, 1e-6);
}

}  // namespace
}  // namespace engine::explain::test
