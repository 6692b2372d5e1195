// batch_norm against a naive double reference: training and eval on 2-D, 3-D and 4-D inputs, with and without
// weight/bias, running-stat updates with momentum (unbiased variance), non-contiguous input, the backward
// formulas, and the argument errors.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/test_util.h"

namespace engine {
namespace {

using test::all_close;
using test::random_tensor;

struct ChannelStats {
    std::vector<double> mean, var;  // biased variance
    int64_t count = 0;
};

// x as (N, C, inner) in row-major order of its shape.
struct BnView {
    int64_t n, c, inner;
    explicit BnView(const Shape& s) : n(s[0]), c(s[1]), inner(1) {
        for (size_t d = 2; d < s.size(); ++d) inner *= s[d];
    }
    int64_t at(int64_t b, int64_t ch, int64_t i) const { return (b * c + ch) * inner + i; }
};

ChannelStats ref_stats(const Tensor& x) {
    const BnView l(x.shape());
    const std::vector<double> v = x.to_vector<double>();
    ChannelStats s;
    s.count = l.n * l.inner;
    for (int64_t ch = 0; ch < l.c; ++ch) {
        double sum = 0;
        for (int64_t b = 0; b < l.n; ++b)
            for (int64_t i = 0; i < l.inner; ++i) sum += v[l.at(b, ch, i)];
        const double mean = sum / s.count;
        double sq = 0;
        for (int64_t b = 0; b < l.n; ++b)
            for (int64_t i = 0; i < l.inner; ++i) sq += (v[l.at(b, ch, i)] - mean) * (v[l.at(b, ch, i)] - mean);
        s.mean.push_back(mean);
        s.var.push_back(sq / s.count);
    }
    return s;
}

std::vector<double> values_or(const Tensor& t, int64_t c, double fallback) {
    return t.defined() ? t.to_vector<double>() : std::vector<double>(c, fallback);
}

Tensor ref_normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& var,
                     const Tensor& weight, const Tensor& bias, double eps) {
    const BnView l(x.shape());
    const std::vector<double> v = x.to_vector<double>();
    const std::vector<double> w = values_or(weight, l.c, 1.0), b = values_or(bias, l.c, 0.0);
    std::vector<double> y(v.size());
    for (int64_t n = 0; n < l.n; ++n)
        for (int64_t ch = 0; ch < l.c; ++ch)
            for (int64_t i = 0; i < l.inner; ++i) {
                const int64_t k = l.at(n, ch, i);
                y[k] = (v[k] - mean[ch]) / std::sqrt(var[ch] + eps) * w[ch] + b[ch];
            }
    return from_vector<double>(y, x.shape());
}

double tol_for(DType dtype) { return dtype == DType::Float32 ? 2e-5 : 1e-10; }

TEST(BatchNormTest, TrainingNormalisesWithBatchStatsAndUpdatesRunningStats) {
    const std::vector<Shape> shapes = {{4, 3, 5, 3}, {7, 5}, {3, 4, 6}, {2, 1, 1, 9}, {5, 2, 1, 1}, {2, 37}};
    uint64_t seed = 1;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : shapes) {
            const int64_t c = shape[1];
            const Tensor weight = random_tensor({c}, ++seed, dtype, 0.5, 1.5);
            const Tensor bias = random_tensor({c}, ++seed, dtype);
            Tensor running_mean = random_tensor({c}, ++seed, dtype);
            Tensor running_var = random_tensor({c}, ++seed, dtype, 0.5, 2.0);
            std::vector<double> rm = running_mean.to_vector<double>(), rv = running_var.to_vector<double>();
            const double momentum = 0.3, eps = 1e-3;
            for (int step = 0; step < 2; ++step) {  // the second step starts from the updated stats
                const Tensor x = random_tensor(shape, ++seed, dtype, -2.0, 3.0);
                const uint64_t version = running_mean.version();
                const Tensor y = batch_norm(x, running_mean, running_var, weight, bias, true, momentum, eps);
                const ChannelStats s = ref_stats(x);
                EXPECT_TRUE(all_close(y, ref_normalize(x, s.mean, s.var, weight, bias, eps), tol_for(dtype),
                                      tol_for(dtype)))
                    << shape_str(shape);
                for (int64_t ch = 0; ch < c; ++ch) {
                    rm[ch] = (1 - momentum) * rm[ch] + momentum * s.mean[ch];
                    rv[ch] = (1 - momentum) * rv[ch] + momentum * s.var[ch] * s.count / (s.count - 1);
                }
                EXPECT_TRUE(all_close(running_mean, from_vector<double>(rm, {c}), tol_for(dtype), tol_for(dtype)));
                EXPECT_TRUE(all_close(running_var, from_vector<double>(rv, {c}), tol_for(dtype), tol_for(dtype)));
                EXPECT_GT(running_mean.version(), version);
            }
        }
    }
}

TEST(BatchNormTest, TrainingWithoutAffineOrRunningStats) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = random_tensor({6, 4, 3, 2}, 20, dtype);
        const ChannelStats s = ref_stats(x);
        const Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
        EXPECT_TRUE(all_close(y, ref_normalize(x, s.mean, s.var, Tensor(), Tensor(), 1e-5), tol_for(dtype),
                              tol_for(dtype)));
        // Only a weight: bias defaults to 0.
        const Tensor w = random_tensor({4}, 21, dtype);
        EXPECT_TRUE(all_close(batch_norm(x, Tensor(), Tensor(), w, Tensor(), true),
                              ref_normalize(x, s.mean, s.var, w, Tensor(), 1e-5), tol_for(dtype), tol_for(dtype)));
    }
}

TEST(BatchNormTest, EvalUsesRunningStatsAndLeavesThemAlone) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{3, 4, 5, 5}, Shape{1, 6}, Shape{1, 3, 1, 1}}) {
            const int64_t c = shape[1];
            const Tensor x = random_tensor(shape, 30, dtype, -2.0, 2.0);
            Tensor running_mean = random_tensor({c}, 31, dtype);
            Tensor running_var = random_tensor({c}, 32, dtype, 0.5, 2.0);
            const Tensor weight = random_tensor({c}, 33, dtype), bias = random_tensor({c}, 34, dtype);
            const std::vector<double> rm = running_mean.to_vector<double>(), rv = running_var.to_vector<double>();
            const Tensor y = batch_norm(x, running_mean, running_var, weight, bias, false, 0.1, 1e-5);
            EXPECT_TRUE(all_close(y, ref_normalize(x, rm, rv, weight, bias, 1e-5), tol_for(dtype), tol_for(dtype)));
            EXPECT_EQ(running_mean.to_vector<double>(), rm);
            EXPECT_EQ(running_var.to_vector<double>(), rv);
            const Tensor y_plain = batch_norm(x, running_mean, running_var, Tensor(), Tensor(), false);
            EXPECT_TRUE(all_close(y_plain, ref_normalize(x, rm, rv, Tensor(), Tensor(), 1e-5), tol_for(dtype),
                                  tol_for(dtype)));
        }
    }
}

TEST(BatchNormTest, NonContiguousInputAndStats) {
    // Channels-last memory viewed as (N,C,H,W), and running stats that are strided views.
    const Tensor x = random_tensor({3, 5, 4, 6}, 40, DType::Float64).permute({0, 3, 1, 2});
    ASSERT_FALSE(x.is_contiguous());
    const Tensor stats = random_tensor({6, 2}, 41, DType::Float64, 0.5, 1.5);
    Tensor running_mean = stats.select(1, 0), running_var = stats.select(1, 1);
    ASSERT_FALSE(running_mean.is_contiguous());
    std::vector<double> rm = running_mean.to_vector<double>(), rv = running_var.to_vector<double>();
    const Tensor y = batch_norm(x, running_mean, running_var, Tensor(), Tensor(), true, 0.5, 1e-5);
    const ChannelStats s = ref_stats(x);
    EXPECT_TRUE(all_close(y, ref_normalize(x, s.mean, s.var, Tensor(), Tensor(), 1e-5), 1e-10, 1e-10));
    for (int64_t ch = 0; ch < 6; ++ch) {
        rm[ch] = 0.5 * rm[ch] + 0.5 * s.mean[ch];
        rv[ch] = 0.5 * rv[ch] + 0.5 * s.var[ch] * s.count / (s.count - 1);
    }
    EXPECT_TRUE(all_close(stats.select(1, 0), from_vector<double>(rm, {6}), 1e-12, 1e-12));
    EXPECT_TRUE(all_close(stats.select(1, 1), from_vector<double>(rv, {6}), 1e-12, 1e-12));
}

// dL/dx, dL/dw, dL/db for L = sum(g * y), from the textbook formula on normalised values xhat.
struct RefGrads {
    std::vector<double> gx, gw, gb;
};

RefGrads ref_backward(const Tensor& x, const Tensor& g, const std::vector<double>& mean,
                      const std::vector<double>& var, const Tensor& weight, double eps, bool training) {
    const BnView l(x.shape());
    const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
    const std::vector<double> w = values_or(weight, l.c, 1.0);
    const double m = static_cast<double>(l.n * l.inner);
    RefGrads r{std::vector<double>(xv.size()), std::vector<double>(l.c), std::vector<double>(l.c)};
    for (int64_t ch = 0; ch < l.c; ++ch) {
        const double invstd = 1.0 / std::sqrt(var[ch] + eps);
        double sum_g = 0, sum_g_xhat = 0;
        for (int64_t n = 0; n < l.n; ++n)
            for (int64_t i = 0; i < l.inner; ++i) {
                const int64_t k = l.at(n, ch, i);
                sum_g += gv[k];
                sum_g_xhat += gv[k] * (xv[k] - mean[ch]) * invstd;
            }
        r.gw[ch] = sum_g_xhat;
        r.gb[ch] = sum_g;
        for (int64_t n = 0; n < l.n; ++n)
            for (int64_t i = 0; i < l.inner; ++i) {
                const int64_t k = l.at(n, ch, i);
                const double xhat = (xv[k] - mean[ch]) * invstd;
                r.gx[k] = training ? w[ch] * invstd / m * (m * gv[k] - sum_g - xhat * sum_g_xhat)
                                   : w[ch] * invstd * gv[k];
            }
    }
    return r;
}

TEST(BatchNormTest, BackwardMatchesFormula) {
    uint64_t seed = 50;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{4, 3, 3, 5}, Shape{9, 6}}) {
            for (bool training : {true, false}) {
                const int64_t c = shape[1];
                Tensor x = random_tensor(shape, ++seed, dtype);
                Tensor weight = random_tensor({c}, ++seed, dtype, 0.5, 1.5);
                Tensor bias = random_tensor({c}, ++seed, dtype);
                Tensor running_mean = random_tensor({c}, ++seed, dtype);
                Tensor running_var = random_tensor({c}, ++seed, dtype, 0.5, 2.0);
                const std::vector<double> rm = running_mean.to_vector<double>(), rv = running_var.to_vector<double>();
                x.requires_grad_(true);
                weight.requires_grad_(true);
                bias.requires_grad_(true);
                Tensor y = batch_norm(x, running_mean, running_var, weight, bias, training, 0.1, 1e-4);
                const Tensor g = random_tensor(shape, ++seed, dtype);
                y.backward(g);
                const ChannelStats s = ref_stats(x.detach());
                const RefGrads r = training ? ref_backward(x.detach(), g, s.mean, s.var, weight.detach(), 1e-4, true)
                                            : ref_backward(x.detach(), g, rm, rv, weight.detach(), 1e-4, false);
                const double tol = dtype == DType::Float32 ? 1e-4 : 1e-10;
                EXPECT_TRUE(all_close(x.grad(), from_vector<double>(r.gx, shape), tol, tol)) << training;
                EXPECT_TRUE(all_close(weight.grad(), from_vector<double>(r.gw, {c}), tol, tol)) << training;
                EXPECT_TRUE(all_close(bias.grad(), from_vector<double>(r.gb, {c}), tol, tol)) << training;
            }
        }
    }
}

TEST(BatchNormTest, BadInputs) {
    const Tensor x = random_tensor({2, 3, 4, 4}, 60);
    const Tensor c3 = ones({3}, DType::Float64), c4 = ones({4}, DType::Float64);
    EXPECT_ENGINE_ERROR(batch_norm(random_tensor({5}, 1), Tensor(), Tensor(), Tensor(), Tensor(), true),
                        "at least 2 dims");
    EXPECT_ENGINE_ERROR(batch_norm(x, c4, c3, Tensor(), Tensor(), true), "running_mean should contain 3 elements");
    EXPECT_ENGINE_ERROR(batch_norm(x, c3, c4, Tensor(), Tensor(), false), "running_var should contain 3 elements");
    EXPECT_ENGINE_ERROR(batch_norm(x, c3, c3, c4, Tensor(), true), "weight should contain 3 elements");
    EXPECT_ENGINE_ERROR(batch_norm(x, c3, c3, c3, ones({1, 3}, DType::Float64), true), "bias should contain");
    EXPECT_ENGINE_ERROR(batch_norm(x, ones({3}), c3, Tensor(), Tensor(), true), "dtype float32");
    EXPECT_ENGINE_ERROR(batch_norm(x, c3, Tensor(), Tensor(), Tensor(), true), "both be defined");
    EXPECT_ENGINE_ERROR(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                        "running_mean must be defined in evaluation mode");
    EXPECT_ENGINE_ERROR(batch_norm(x.to(DType::Int64), Tensor(), Tensor(), Tensor(), Tensor(), true), "int64");
    EXPECT_ENGINE_ERROR(batch_norm(random_tensor({1, 3}, 1), c3, c3, Tensor(), Tensor(), true),
                        "Expected more than 1 value per channel when training, got input size [1, 3]");
    EXPECT_ENGINE_ERROR(batch_norm(random_tensor({1, 3, 1, 1}, 1), Tensor(), Tensor(), Tensor(), Tensor(), true),
                        "Expected more than 1 value per channel when training");
    // The same single-value input is fine in eval.
    EXPECT_EQ(batch_norm(random_tensor({1, 3, 1, 1}, 1), c3, c3, Tensor(), Tensor(), false).shape(),
              (Shape{1, 3, 1, 1}));
}

}  // namespace
}  // namespace engine
