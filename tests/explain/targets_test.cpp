// Target resolution: classifier and segmentation targets, frozen masks, jobs and rounds, scoring, errors.
#include "tests/explain/explain_test_util.h"

namespace engine::explain::test {
namespace {

// (N, C, H, W) logits whose argmax is `labels` (N, H, W), with the other classes below it.
Tensor segmentation_output(const std::vector<int64_t>& labels, int64_t n, int64_t c, int64_t h, int64_t w) {
    std::vector<double> v(static_cast<size_t>(n * c * h * w));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < c; ++k)
            for (int64_t p = 0; p < h * w; ++p)
                v[(i * c + k) * h * w + p] =
                    labels[i * h * w + p] == k ? 2.0 + 0.1 * k + 0.01 * p : -0.5 * k - 0.02 * p;
    return from_vector<double>(v, {n, c, h, w});
}

TEST(TargetTest, ClassifierClassesAndPredicted) {
    const Tensor out = from_vector<double>({0.1, 2.0, -1.0, 3.0, 0.5, 0.2}, {2, 3});
    const ResolvedTarget fixed = Target::cls(2).resolve(out);
    ASSERT_EQ(fixed.num_jobs(), 2);
    EXPECT_EQ(fixed.jobs()[1].cls, 2);
    EXPECT_EQ(fixed.job_scores(out).to_vector<double>(), (std::vector<double>{-1.0, 0.2}));
    const ResolvedTarget per_image = Target::classes({1, 0}).resolve(out);
    EXPECT_EQ(per_image.job_scores(out).to_vector<double>(), (std::vector<double>{2.0, 3.0}));
    const ResolvedTarget predicted = Target::predicted().resolve(out);
    EXPECT_EQ(predicted.jobs()[0].cls, 1);
    EXPECT_EQ(predicted.jobs()[1].cls, 0);
    EXPECT_EQ(predicted.rounds().size(), 1u);
    EXPECT_TRUE(predicted.rounds()[0].covers_all_images);
}

TEST(TargetTest, StackedCopiesAreScoredPerImage) {
    const Tensor out = from_vector<double>({0.1, 2.0, -1.0, 3.0, 0.5, 0.2}, {2, 3});
    const ResolvedTarget t = Target::classes({1, 2}).resolve(out);
    // Three copies of the batch, copy-major: rows 2j + i.
    const Tensor copies = cat({out, mul(out, 2.0), mul(out, -1.0)}, 0);
    EXPECT_EQ(t.job_scores(copies).to_vector<double>(), (std::vector<double>{2.0, 0.2, 4.0, 0.4, -2.0, -0.2}));
    EXPECT_EQ(ResolvedTarget::seed(t.weights(), 3).shape(), (Shape{6, 3}));
}

TEST(TargetTest, SegmentationClassUsesTheFrozenCleanMask) {
    const int64_t n = 2, c = 3, h = 2, w = 3;
    const std::vector<int64_t> labels{0, 1, 1, 2, 1, 0, /* image 1 */ 2, 2, 2, 0, 0, 1};
    const Tensor clean = segmentation_output(labels, n, c, h, w);
    const ResolvedTarget t = Target::cls(1).resolve(clean);
    ASSERT_EQ(t.num_jobs(), 2);
    EXPECT_EQ(t.jobs()[0].pixels, 3);
    EXPECT_EQ(t.jobs()[1].pixels, 1);
    // A perturbed output whose argmax changed is still scored on the clean class-1 pixels.
    const Tensor perturbed = random_images({n, c, h, w}, 11);
    const std::vector<double> p = perturbed.to_vector<double>();
    const std::vector<double> got = t.job_scores(perturbed).to_vector<double>();
    for (int64_t i = 0; i < n; ++i) {
        double expected = 0;
        for (int64_t q = 0; q < h * w; ++q)
            if (labels[i * h * w + q] == 1) expected += p[(i * c + 1) * h * w + q];
        EXPECT_NEAR(got[i], expected, 1e-12) << "image " << i;
    }
    // Whole-image mode sums every pixel of the class; mean() divides by the pixel count.
    const ResolvedTarget whole = Target::cls(1).mask_mode(Target::MaskMode::WholeImage).resolve(clean);
    const ResolvedTarget mean = Target::cls(1).mean().resolve(clean);
    const std::vector<double> whole_scores = whole.job_scores(perturbed).to_vector<double>();
    const std::vector<double> mean_scores = mean.job_scores(perturbed).to_vector<double>();
    for (int64_t i = 0; i < n; ++i) {
        double all = 0;
        for (int64_t q = 0; q < h * w; ++q) all += p[(i * c + 1) * h * w + q];
        EXPECT_NEAR(whole_scores[i], all, 1e-12);
        EXPECT_NEAR(mean_scores[i], got[i] / t.jobs()[i].pixels, 1e-12);
    }
    // predicted(): the class with the most pixels (image 0: class 1, image 1: class 2).
    const ResolvedTarget predicted = Target::predicted().resolve(clean);
    EXPECT_EQ(predicted.jobs()[0].cls, 1);
    EXPECT_EQ(predicted.jobs()[1].cls, 2);
}

TEST(TargetTest, AllPresentMakesOneJobPerClassInRounds) {
    const int64_t n = 2, c = 4, h = 2, w = 2;
    const std::vector<int64_t> labels{0, 3, 3, 0, /* image 1 */ 1, 1, 1, 1};
    const Tensor clean = segmentation_output(labels, n, c, h, w);
    const ResolvedTarget t = Target::all_present().resolve(clean);
    ASSERT_EQ(t.num_jobs(), 3);
    EXPECT_EQ(t.jobs()[0].image, 0);
    EXPECT_EQ(t.jobs()[0].cls, 0);
    EXPECT_EQ(t.jobs()[1].cls, 3);
    EXPECT_EQ(t.jobs()[2].image, 1);
    EXPECT_EQ(t.jobs()[2].cls, 1);
    ASSERT_EQ(t.rounds().size(), 2u);
    EXPECT_EQ(t.rounds()[0].images, (std::vector<int64_t>{0, 1}));
    EXPECT_EQ(t.rounds()[1].images, (std::vector<int64_t>{0}));
    EXPECT_EQ(t.rounds()[1].full_weights.shape(), (Shape{2, c, h, w}));
    // Each job's score equals the single-class target's score for that image.
    const Tensor perturbed = random_images({2 * n, c, h, w}, 12);                 // two stacked copies
    const std::vector<double> all = t.job_scores(perturbed).to_vector<double>();  // (2, 3)
    for (int64_t j = 0; j < 3; ++j) {
        const TargetJob& job = t.jobs()[j];
        const std::vector<double> single =
            Target::cls(job.cls).resolve(clean).job_scores(perturbed).to_vector<double>();
        for (int64_t copy = 0; copy < 2; ++copy)
            EXPECT_NEAR(all[copy * 3 + j], single[copy * n + job.image], 1e-12) << "job " << j << " copy " << copy;
    }
    // gather_jobs puts per-round rows back in job order.
    const Tensor r0 = from_vector<double>({10, 11}, {2, 1}), r1 = from_vector<double>({20, 21}, {2, 1});
    EXPECT_EQ(t.gather_jobs({r0, r1}, true).to_vector<double>(), (std::vector<double>{10, 20, 11}));
}

TEST(TargetTest, PixelAndRegion) {
    const int64_t n = 1, c = 3, h = 3, w = 3;
    const std::vector<int64_t> labels{0, 1, 2, 2, 2, 1, 0, 0, 0};
    const Tensor clean = segmentation_output(labels, n, c, h, w);
    const std::vector<double> o = clean.to_vector<double>();
    const ResolvedTarget px = Target::pixel(1, 2).resolve(clean);
    EXPECT_EQ(px.jobs()[0].cls, 1);
    EXPECT_NEAR(px.job_scores(clean).item<double>(), o[(1 * h + 1) * w + 2], 1e-12);
    const ResolvedTarget px2 = Target::pixel(0, 0, 2).resolve(clean);
    EXPECT_NEAR(px2.job_scores(clean).item<double>(), o[2 * h * w + 0], 1e-12);

    const Tensor region = from_vector<int64_t>({1, 1, 0, 0, 1, 0, 0, 0, 0}, {h, w});
    const ResolvedTarget fixed = Target::region(region, 0).resolve(clean);
    EXPECT_NEAR(fixed.job_scores(clean).item<double>(), o[0] + o[1] + o[4], 1e-12);
    const ResolvedTarget own = Target::region(region).resolve(clean);  // each pixel's predicted class
    EXPECT_NEAR(own.job_scores(clean).item<double>(), o[0] + o[h * w + 1] + o[2 * h * w + 4], 1e-12);
    EXPECT_EQ(own.jobs()[0].pixels, 3);
}

TEST(TargetTest, BadTargetsAreErrors) {
    const Tensor logits = zeros({2, 10}, DType::Float64);
    EXPECT_NE(error_of([&] { Target::cls(12).resolve(logits); }).find("class 12 out of range for an output with 10"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Target::cls(-1).resolve(logits); }).find("out of range"), std::string::npos);
    EXPECT_NE(error_of([&] {
                  Target::classes({1, 2, 3}).resolve(logits);
              }).find("3 classes given for a batch of 2"),
              std::string::npos);
    EXPECT_NE(error_of([&] { Target::pixel(0, 0).resolve(logits); }).find("needs a segmentation output"),
              std::string::npos);
    const Tensor seg = zeros({1, 3, 4, 4}, DType::Float64);
    EXPECT_NE(error_of([&] { Target::pixel(4, 0).resolve(seg); }).find("outside the output of size 4x4"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  Target::region(ones({3, 3})).resolve(seg);
              }).find("does not match the output"),
              std::string::npos);
    EXPECT_NE(error_of([&] {
                  Target::cls(0).resolve(zeros({2, 3, 4}));
              }).find("(N, C) or (N, C, H, W)"),
              std::string::npos);
}

}  // namespace
}  // namespace engine::explain::test
