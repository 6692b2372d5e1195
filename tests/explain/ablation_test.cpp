// Feature ablation and occlusion: closed forms on a linear model, batching invariance, masks, errors.
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

TEST(FeatureAblationTest, GridMask) {
    const Tensor g = grid_mask(3, 5, 2, 2);
    EXPECT_EQ(g.shape(), (Shape{1, 1, 3, 5}));
    EXPECT_EQ(g.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 2, 0, 0, 1, 1, 2, 3, 3, 4, 4, 5}));
    EXPECT_NE(error_of([] { grid_mask(3, 3, 0, 1); }).find("must be > 0"), std::string::npos);
}

TEST(FeatureAblationTest, ClosedFormOnALinearModel) {
    const int64_t c = 2, h = 3, w = 4;
    LinearModel model(c, h, w, 3);
    const Tensor x = random_images({2, c, h, w}, 51);
    // Ids 4, 9, 30 (not contiguous); image 1 lacks id 30.
    const std::vector<int64_t> ids{4, 4, 9, 9, 4, 4, 9, 30, 30, 30, 30, 30, /* image 1 */ 9,
                                   9, 9, 9, 4, 4, 4, 4, 9,  9,  9,  9};
    const Tensor mask = from_vector<int64_t>(ids, {2, 1, h, w});
    const double base = -0.5;
    AblationOptions options;
    options.baseline = Baseline::constant(base);
    const AblationResult r = feature_ablation(model, x, Target::classes({0, 2}), mask, options);
    EXPECT_EQ(r.feature_ids, (std::vector<int64_t>{4, 9, 30}));
    EXPECT_EQ(r.forwards, 1 + 3);
    const std::vector<double> xv = x.to_vector<double>(), wv = model.weight().to_vector<double>();
    const std::vector<double> map = r.map.to_vector<double>();
    for (int64_t i = 0; i < 2; ++i) {
        const int64_t cls = i == 0 ? 0 : 2;
        for (size_t f = 0; f < 3; ++f) {
            // score(x) - score(x with feature f at the baseline) = sum over f's pixels and channels of w (x - b).
            double expected = 0;
            int64_t pixels = 0;
            for (int64_t p = 0; p < h * w; ++p) {
                if (ids[i * h * w + p] != r.feature_ids[f]) continue;
                ++pixels;
                for (int64_t ch = 0; ch < c; ++ch)
                    expected += wv[cls * c * h * w + ch * h * w + p] * (xv[(i * c + ch) * h * w + p] - base);
            }
            EXPECT_EQ(r.feature_pixels[i][f], pixels);
            if (pixels == 0) {
                EXPECT_TRUE(std::isnan(r.feature_attributions[i][f]));
                continue;
            }
            EXPECT_NEAR(r.feature_attributions[i][f], expected, 1e-12);
            for (int64_t p = 0; p < h * w; ++p)
                if (ids[i * h * w + p] == r.feature_ids[f]) EXPECT_NEAR(map[i * h * w + p], expected, 1e-12);
        }
    }
    // Stacking perturbations changes nothing.
    for (int64_t per_eval : {2, 3, 8}) {
        options.perturbations_per_eval = per_eval;
        const AblationResult stacked = feature_ablation(model, x, Target::classes({0, 2}), mask, options);
        EXPECT_TRUE(all_close(stacked.map, r.map, 1e-12, 1e-12)) << per_eval;
        EXPECT_EQ(stacked.forwards, 1 + (3 + per_eval - 1) / per_eval);
    }
    expect_untouched(model);
}

TEST(FeatureAblationTest, PredictedSegmentsOfASegmentationModel) {
    PointwiseSegmenter model(3, 4);
    const Tensor x = random_images({2, 3, 6, 7}, 52);
    const Tensor segments = predicted_segments(model, x);
    EXPECT_EQ(segments.shape(), (Shape{2, 1, 6, 7}));
    EXPECT_TRUE(all_close(segments, argmax(forward_no_grad(model, x), 1, true), 0, 0));
    const AblationResult all = feature_ablation(model, x, Target::all_present(), segments);
    const AblationResult one =
        feature_ablation(model, x.narrow(0, 1, 1), Target::cls(all.jobs.back().cls), segments.narrow(0, 1, 1));
    EXPECT_TRUE(all_close(all.map.narrow(0, static_cast<int64_t>(all.jobs.size()) - 1, 1), one.map, 1e-12, 1e-12));
    auto classifier = hashed_lenet();
    EXPECT_NE(error_of([&] {
                  predicted_segments(*classifier, zeros({1, 1, 28, 28}));
              }).find("segmentation output"),
              std::string::npos);
}

TEST(FeatureAblationTest, BadMasks) {
    LinearModel model(1, 4, 4, 2);
    const Tensor x = random_images({1, 1, 4, 4}, 53);
    EXPECT_NE(error_of([&] {
                  feature_ablation(model, x, Target::cls(0), zeros({4, 4}));
              }).find("integer ids"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  feature_ablation(model, x, Target::cls(0), zeros({5, 4}, DType::Int64));
              }).find("does not fit the input"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  feature_ablation(model, x, Target::cls(0), full({4, 4}, -1, DType::Int64));
              }).find(">= 0"),
              std::string::npos);
}

TEST(OcclusionTest, WindowsAveragedAsCaptum) {
    const int64_t h = 5, w = 7;
    LinearModel model(1, h, w, 2);
    const Tensor x = random_images({1, 1, h, w}, 54);
    OcclusionOptions options;
    options.window_h = 3;
    options.window_w = 4;
    options.stride_h = 2;
    options.stride_w = 2;  // x starts 0, 2, 4 (clipped at 7) -> ceil(3/2)+1 = 3; y starts 0, 2
    options.perturbations_per_eval = 4;
    const OcclusionResult r = occlusion(model, x, Target::cls(1), options);
    EXPECT_EQ(r.windows, 2 * 3);
    const std::vector<double> xv = x.to_vector<double>(), wv = model.weight().to_vector<double>();
    std::vector<double> total(h * w, 0.0), count(h * w, 0.0);
    for (int64_t y0 : {0, 2})
        for (int64_t x0 : {0, 2, 4}) {
            double d = 0;
            for (int64_t y = y0; y < std::min(h, y0 + 3); ++y)
                for (int64_t xx = x0; xx < std::min(w, x0 + 4); ++xx) d += wv[h * w + y * w + xx] * xv[y * w + xx];
            for (int64_t y = y0; y < std::min(h, y0 + 3); ++y)
                for (int64_t xx = x0; xx < std::min(w, x0 + 4); ++xx) {
                    total[y * w + xx] += d;
                    count[y * w + xx] += 1;
                }
        }
    const std::vector<double> map = r.map.to_vector<double>();
    for (int64_t p = 0; p < h * w; ++p) EXPECT_NEAR(map[p], total[p] / count[p], 1e-12) << p;
    options.window_h = 6;
    EXPECT_NE(error_of([&] { occlusion(model, x, Target::cls(1), options); }).find("must be at least 1x1 and fit"),
              std::string::npos);
}

}  // namespace
}  // namespace engine::explain::test
