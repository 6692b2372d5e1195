// Forward tests of softmax / log_softmax along every dim (row and column layouts, strided inputs, extreme
// logits) and of the backward kernels, against naive references in double.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;

namespace {

// Applies f to every line of x along dim: f(values) -> values.
Tensor per_line(const Tensor& x, int64_t dim, const std::function<std::vector<double>(const std::vector<double>&)>& f) {
    const Shape& shape = x.shape();
    const std::vector<double> v = x.to_vector<double>();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
    const int64_t n = shape.empty() ? 1 : shape[dim];
    std::vector<double> out(v.size());
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
            std::vector<double> line;
            for (int64_t c = 0; c < n; ++c) line.push_back(v[(o * n + c) * inner + i]);
            const std::vector<double> r = f(line);
            for (int64_t c = 0; c < n; ++c) out[(o * n + c) * inner + i] = r[c];
        }
    }
    return from_vector<double>(out, shape);
}

std::vector<double> naive_softmax(const std::vector<double>& x) {
    double m = -INFINITY;
    for (double v : x) m = std::max(m, v);
    double s = 0;
    for (double v : x) s += std::exp(v - m);
    std::vector<double> y;
    for (double v : x) y.push_back(std::exp(v - m) / s);
    return y;
}

std::vector<double> naive_log_softmax(const std::vector<double>& x) {
    std::vector<double> y = naive_softmax(x);
    for (double& v : y) v = std::log(v);
    return y;
}

}  // namespace

TEST(SoftmaxTest, MatchesReferenceAlongEveryDim) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape :
             {Shape{5}, Shape{3, 7}, Shape{2, 5, 4}, Shape{2, 3, 4, 5}, Shape{3, 1, 2}, Shape{2, 21, 9, 300}}) {
            const Tensor x = random_tensor(shape, 31, dtype, -4.0, 4.0);
            for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
                EXPECT_TRUE(all_close(softmax(x, dim), per_line(x, dim, naive_softmax), 1e-6, 1e-5))
                    << shape_str(shape) << " dim " << dim;
                EXPECT_TRUE(all_close(log_softmax(x, dim), per_line(x, dim, naive_log_softmax), 1e-5, 1e-5))
                    << shape_str(shape) << " dim " << dim;
            }
        }
    }
}

TEST(SoftmaxTest, NegativeDimAndStridedInputs) {
    const Tensor base = random_tensor({4, 6, 5}, 7);
    EXPECT_TRUE(all_close(softmax(base, -1), softmax(base, 2), 0));
    EXPECT_TRUE(all_close(log_softmax(base, -2), log_softmax(base, 1), 0));
    for (const Tensor& v : {base.transpose(0, 2), base.narrow(1, 1, 4), random_tensor({4, 1}, 3).expand({4, 6})}) {
        const Tensor c = v.contiguous();
        for (int64_t dim = 0; dim < v.dim(); ++dim) {
            EXPECT_TRUE(all_close(softmax(v, dim), per_line(c, dim, naive_softmax), 1e-12, 1e-10));
            EXPECT_TRUE(all_close(log_softmax(v, dim), per_line(c, dim, naive_log_softmax), 1e-12, 1e-10));
        }
    }
}

TEST(SoftmaxTest, ExtremeLogitsStayFinite) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x =
            from_vector<double>({1000, -1000, 999, 0, 50, -50, 88, -88, -200, 200, 0, 0}, {3, 4}).to(dtype);
        const Tensor expected = per_line(x, 1, naive_softmax);
        EXPECT_TRUE(all_close(softmax(x, 1), expected, 1e-7, 1e-5));
        EXPECT_TRUE(all_close(softmax(x.t().contiguous(), 0), expected.t(), 1e-7, 1e-5));
        const Tensor ls = log_softmax(x, 1);
        for (double v : ls.to_vector<double>()) EXPECT_TRUE(std::isfinite(v));
        EXPECT_NEAR(ls.to_vector<double>()[1], -2000.0 + std::log1p(std::exp(-1.0)) * -1.0, 1e-2);
    }
    // -inf logits get probability 0; a row of -inf only is NaN, as in PyTorch.
    const double inf = std::numeric_limits<double>::infinity();
    const Tensor masked = from_vector<double>({0, -inf, 0, -inf, -inf, -inf}, {2, 3});
    const std::vector<double> p = softmax(masked, 1).to_vector<double>();
    EXPECT_DOUBLE_EQ(p[0], 0.5);
    EXPECT_EQ(p[1], 0.0);
    EXPECT_TRUE(std::isnan(p[3]));
    const std::vector<float> pf = softmax(masked.to(DType::Float32), 1).to_vector<float>();
    EXPECT_EQ(pf[1], 0.0f);
    EXPECT_TRUE(std::isnan(pf[4]));
}

TEST(SoftmaxTest, EdgeShapes) {
    EXPECT_EQ(softmax(scalar_tensor(3.0), 0).item<float>(), 1.0f);
    EXPECT_EQ(log_softmax(scalar_tensor(3.0), -1).item<float>(), 0.0f);
    EXPECT_TRUE(all_close(softmax(random_tensor({4, 1, 3}, 2), 1), ones({4, 1, 3}, DType::Float64), 0));
    EXPECT_EQ(softmax(zeros({0, 5}), 1).shape(), (Shape{0, 5}));
    EXPECT_ENGINE_ERROR(softmax(random_tensor({2, 3}, 1), 2), "out of range");
    EXPECT_ENGINE_ERROR(softmax(arange(0, 4), 0), "float32 or float64");
}

TEST(SoftmaxTest, BackwardKernelsMatchJacobianProducts) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{3, 7}, Shape{2, 5, 4}, Shape{2, 4, 3, 70}}) {
            const Tensor x = random_tensor(shape, 41, dtype, -3.0, 3.0);
            const Tensor g = random_tensor(shape, 42, dtype);
            for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
                // grad_x[i] = sum_j dy_j/dx_i g_j with the Jacobian written out in double.
                const Tensor y = per_line(x, dim, naive_softmax);
                const std::vector<double> yv = y.to_vector<double>(), gv = g.to_vector<double>();
                int64_t outer = 1, inner = 1;
                for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
                for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
                const int64_t n = shape[dim];
                std::vector<double> soft(yv.size()), logsoft(yv.size());
                for (int64_t o = 0; o < outer; ++o) {
                    for (int64_t i = 0; i < inner; ++i) {
                        auto at = [&](int64_t c) { return (o * n + c) * inner + i; };
                        for (int64_t a = 0; a < n; ++a) {
                            double s = 0, l = 0;
                            for (int64_t b = 0; b < n; ++b) {
                                const double kron = a == b ? 1.0 : 0.0;
                                s += yv[at(b)] * (kron - yv[at(a)]) * gv[at(b)];  // dy_b / dx_a
                                l += (kron - yv[at(a)]) * gv[at(b)];              // d log y_b / dx_a
                            }
                            soft[at(a)] = s;
                            logsoft[at(a)] = l;
                        }
                    }
                }
                const Tensor ys = softmax(x, dim), yl = log_softmax(x, dim);
                EXPECT_TRUE(all_close(cpu_backend().softmax_backward(ys, g, dim, false),
                                      from_vector<double>(soft, shape), 1e-6, 1e-5));
                EXPECT_TRUE(all_close(cpu_backend().softmax_backward(yl, g, dim, true),
                                      from_vector<double>(logsoft, shape), 1e-6, 1e-5));
            }
        }
    }
}
