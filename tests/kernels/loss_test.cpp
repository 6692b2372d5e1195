// Forward tests of nll_loss, cross_entropy and binary_cross_entropy_with_logits against naive references in
// double (class weights, ignore_index, spatial targets, every reduction), plus the bad-input errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;

namespace {

// Targets in [0, classes) from a seed, with every `ignore_every`-th entry set to ignore_index (0: none).
Tensor make_target(const Shape& shape, int64_t classes, uint64_t seed, int64_t ignore_every = 0,
                   int64_t ignore_index = -100) {
    const std::vector<double> u = random_tensor(shape, seed, DType::Float64, 0.0, 1.0).to_vector<double>();
    std::vector<int64_t> t;
    for (size_t i = 0; i < u.size(); ++i) {
        const bool ignored = ignore_every > 0 && i % ignore_every == 1;
        t.push_back(ignored ? ignore_index : std::min<int64_t>(classes - 1, static_cast<int64_t>(u[i] * classes)));
    }
    return from_vector<int64_t>(t, shape);
}

// (loss per position, summed weight) of nll over (N, C, S) in double.
Tensor naive_nll(const Tensor& lp, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                 Reduction reduction) {
    const Shape& shape = lp.shape();
    const int64_t n = shape[0], c = shape[1], s = lp.numel() / std::max<int64_t>(1, n * c);
    const std::vector<double> x = lp.to_vector<double>();
    const std::vector<int64_t> t = target.to_vector<int64_t>();
    const std::vector<double> w = weight.defined() ? weight.to_vector<double>() : std::vector<double>(c, 1.0);
    std::vector<double> per(t.size(), 0.0);
    double total = 0, wsum = 0;
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t p = 0; p < s; ++p) {
            const int64_t i = b * s + p;
            if (t[i] == ignore_index) continue;
            per[i] = -w[t[i]] * x[(b * c + t[i]) * s + p];
            total += per[i];
            wsum += w[t[i]];
        }
    }
    if (reduction == Reduction::None) return from_vector<double>(per, target.shape());
    return scalar_tensor(reduction == Reduction::Sum ? total : total / wsum, DType::Float64);
}

double naive_bce(double x, double t, double w, double pw) {
    const double log_sig = -std::log1p(std::exp(-std::abs(x))) - std::max(-x, 0.0);  // log sigmoid(x)
    const double log_one_minus = log_sig - x;                                        // log(1 - sigmoid(x))
    return -w * (pw * t * log_sig + (1 - t) * log_one_minus);
}

}  // namespace

TEST(NllLossTest, MatchesReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{7, 5}, Shape{1, 3}, Shape{3, 4, 6}, Shape{2, 5, 3, 4}, Shape{2, 3, 100, 90}}) {
            const Tensor lp = log_softmax(random_tensor(shape, 3, dtype, -2.0, 2.0), 1);
            Shape tshape = shape;
            tshape.erase(tshape.begin() + 1);
            const Tensor weight = random_tensor({shape[1]}, 4, dtype, 0.5, 2.0);
            for (int64_t ignore_every : {0, 3}) {
                const Tensor target = make_target(tshape, shape[1], 5, ignore_every);
                for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
                    for (const Tensor& w : {Tensor(), weight}) {
                        const Tensor expected = naive_nll(lp, target, w, -100, r);
                        EXPECT_TRUE(all_close(nll_loss(lp, target, w, -100, r), expected, 1e-5, 1e-5))
                            << shape_str(shape) << " reduction " << static_cast<int>(r);
                    }
                }
            }
        }
    }
}

TEST(NllLossTest, IgnoreIndexTargetDtypesAndEdgeCases) {
    const Tensor lp = log_softmax(random_tensor({4, 3}, 1), 1);
    const Tensor t = from_vector<int64_t>({2, 0, 2, 1}, {4});
    // A custom ignore_index that is a valid class.
    const Tensor expected = naive_nll(lp, t, Tensor(), 2, Reduction::Mean);
    EXPECT_TRUE(all_close(nll_loss(lp, t, Tensor(), 2), expected, 1e-12));
    // int32 and uint8 targets give the same as int64.
    EXPECT_TRUE(all_close(nll_loss(lp, t.to(DType::Int32)), nll_loss(lp, t), 0));
    EXPECT_TRUE(all_close(nll_loss(lp, t.to(DType::UInt8)), nll_loss(lp, t), 0));
    // Everything ignored: mean is 0/0 = nan, sum is 0, none is zeros (as PyTorch).
    const Tensor all_ignored = full({4}, -100, DType::Int64);
    EXPECT_TRUE(std::isnan(nll_loss(lp, all_ignored).item<double>()));
    EXPECT_EQ(nll_loss(lp, all_ignored, Tensor(), -100, Reduction::Sum).item<double>(), 0.0);
    EXPECT_TRUE(all_close(nll_loss(lp, all_ignored, Tensor(), -100, Reduction::None), zeros({4}, DType::Float64)));
    // A single sample (C) with a 0-d target.
    const Tensor one = lp.select(0, 1);
    EXPECT_NEAR(nll_loss(one, scalar_tensor(0, DType::Int64)).item<double>(), -one.to_vector<double>()[0], 1e-12);
    EXPECT_EQ(nll_loss(one, scalar_tensor(2, DType::Int64), Tensor(), -100, Reduction::None).dim(), 0);
    // Strided log-probabilities.
    const Tensor lpt = log_softmax(random_tensor({3, 4}, 2), 0).t();
    EXPECT_TRUE(all_close(nll_loss(lpt, t), naive_nll(lpt.contiguous(), t, Tensor(), -100, Reduction::Mean)));
    // An empty batch.
    EXPECT_TRUE(std::isnan(nll_loss(zeros({0, 3}, DType::Float64), zeros({0}, DType::Int64)).item<double>()));
}

TEST(NllLossTest, BadInputs) {
    const Tensor lp = log_softmax(random_tensor({3, 4}, 1), 1);
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 5, 1}, {3})), "target 5");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 5, 1}, {3})), "position [1]");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 5, 1}, {3})), "[0, 4)");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 1, -1}, {3})), "target -1");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 1}, {2})), "batch size");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<float>({0, 1, 1}, {3})), "int64");
    EXPECT_ENGINE_ERROR(nll_loss(lp, from_vector<int64_t>({0, 1, 1}, {3}), ones({3}, DType::Float64)),
                        "one value per class");
    EXPECT_ENGINE_ERROR(nll_loss(lp.to(DType::Int64), from_vector<int64_t>({0, 1, 1}, {3})), "float32 or float64");
    const Tensor spatial = log_softmax(random_tensor({2, 3, 4, 5}, 1), 1);
    EXPECT_ENGINE_ERROR(nll_loss(spatial, zeros({2, 4, 4}, DType::Int64)), "expected target of shape [2, 4, 5]");
    Tensor bad = zeros({2, 4, 5}, DType::Int64);
    bad.narrow(1, 2, 1).narrow(2, 3, 1).fill_(7);
    EXPECT_ENGINE_ERROR(nll_loss(spatial, bad), "target 7 at position [0, 2, 3]");
    EXPECT_ENGINE_ERROR(cross_entropy(spatial, bad), "target 7");
}

TEST(CrossEntropyTest, IsLogSoftmaxPlusNll) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{6, 4}, Shape{2, 5, 7, 3}}) {
            const Tensor logits = random_tensor(shape, 9, dtype, -5.0, 5.0);
            Shape tshape = shape;
            tshape.erase(tshape.begin() + 1);
            const Tensor target = make_target(tshape, shape[1], 10, 4);
            const Tensor weight = random_tensor({shape[1]}, 11, dtype, 0.1, 1.0);
            // Reference: log-softmax over dim 1 in double, then the naive nll.
            const int64_t n = shape[0], c = shape[1], s = logits.numel() / (n * c);
            std::vector<double> x = logits.to_vector<double>(), lp(x.size());
            for (int64_t b = 0; b < n; ++b) {
                for (int64_t p = 0; p < s; ++p) {
                    double m = -INFINITY, sum = 0;
                    for (int64_t k = 0; k < c; ++k) m = std::max(m, x[(b * c + k) * s + p]);
                    for (int64_t k = 0; k < c; ++k) sum += std::exp(x[(b * c + k) * s + p] - m);
                    for (int64_t k = 0; k < c; ++k)
                        lp[(b * c + k) * s + p] = x[(b * c + k) * s + p] - m - std::log(sum);
                }
            }
            const Tensor lpt = from_vector<double>(lp, shape);
            for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
                EXPECT_TRUE(all_close(cross_entropy(logits, target, weight, -100, r),
                                      naive_nll(lpt, target, weight, -100, r), 1e-5, 1e-5));
            }
        }
    }
    // 1-D logits with a 0-d target use dim 0 as the class dim.
    const Tensor logits = random_tensor({5}, 1);
    EXPECT_NEAR(cross_entropy(logits, scalar_tensor(3, DType::Int64)).item<double>(),
                -log_softmax(logits, 0).to_vector<double>()[3], 1e-12);
}

TEST(BceWithLogitsTest, MatchesReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Shape shape{6, 5};
        Tensor x = random_tensor(shape, 1, dtype, -6.0, 6.0);
        const Tensor t = random_tensor(shape, 2, dtype, 0.0, 1.0);
        const Tensor w = random_tensor({6, 1}, 3, dtype, 0.2, 2.0);
        const Tensor pw = random_tensor({5}, 4, dtype, 0.5, 3.0);
        const std::vector<double> xv = x.to_vector<double>(), tv = t.to_vector<double>();
        const std::vector<double> wv = w.to_vector<double>(), pv = pw.to_vector<double>();
        for (int variant = 0; variant < 4; ++variant) {
            const bool use_w = variant & 1, use_pw = variant & 2;
            std::vector<double> per;
            double total = 0;
            for (int64_t i = 0; i < 30; ++i) {
                per.push_back(naive_bce(xv[i], tv[i], use_w ? wv[i / 5] : 1.0, use_pw ? pv[i % 5] : 1.0));
                total += per.back();
            }
            const Tensor wt = use_w ? w : Tensor(), pwt = use_pw ? pw : Tensor();
            EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(x, t, wt, pwt, Reduction::None),
                                  from_vector<double>(per, shape), 1e-5, 1e-5));
            EXPECT_NEAR(binary_cross_entropy_with_logits(x, t, wt, pwt, Reduction::Sum).item<double>(), total, 1e-4);
            EXPECT_NEAR(binary_cross_entropy_with_logits(x, t, wt, pwt).item<double>(), total / 30, 1e-5);
        }
    }
    // Huge logits stay finite; strided inputs work.
    const Tensor x = from_vector<double>({500, -500, 30, -30}, {2, 2});
    const Tensor t = from_vector<double>({0, 1, 1, 0}, {2, 2});
    const std::vector<double> l =
        binary_cross_entropy_with_logits(x, t, Tensor(), Tensor(), Reduction::None).to_vector<double>();
    EXPECT_NEAR(l[0], 500.0, 1e-9);
    EXPECT_NEAR(l[1], 500.0, 1e-9);
    EXPECT_NEAR(l[2], naive_bce(30, 1, 1, 1), 1e-15);
    const Tensor xt = random_tensor({5, 4}, 7).t(), tt = random_tensor({4, 5}, 8, DType::Float64, 0, 1);
    EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(xt, tt),
                          binary_cross_entropy_with_logits(xt.contiguous(), tt), 1e-12));
}

TEST(BceWithLogitsTest, BadInputs) {
    const Tensor x = random_tensor({3, 4}, 1);
    EXPECT_ENGINE_ERROR(binary_cross_entropy_with_logits(x, random_tensor({4, 3}, 2)), "target shape [4, 3]");
    EXPECT_ENGINE_ERROR(binary_cross_entropy_with_logits(x, zeros({3, 4}, DType::Int64)), "float32 or float64");
    EXPECT_ENGINE_ERROR(binary_cross_entropy_with_logits(x, random_tensor({3, 4}, 2), ones({5}, DType::Float64)),
                        "weight of shape [5]");
    EXPECT_ENGINE_ERROR(
        binary_cross_entropy_with_logits(x, random_tensor({3, 4}, 2), Tensor(), ones({3}, DType::Float64)),
        "pos_weight");
}
