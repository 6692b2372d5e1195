// Forward tests of the reductions (sum, mean, max / min, amax / amin, argmax / argmin, var, std) against
// naive grouped references in double, on row / column / multi-pass / chunked layouts and strided inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;

namespace {

// Groups the elements of a row-major array by their output position (reduced dims dropped; empty = all).
std::vector<std::vector<double>> groups_of(const std::vector<double>& v, const Shape& shape,
                                           const std::vector<int64_t>& dims) {
    auto reduced = [&](size_t d) {
        return dims.empty() || std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end();
    };
    int64_t out_n = 1;
    for (size_t d = 0; d < shape.size(); ++d)
        if (!reduced(d)) out_n *= shape[d];
    std::vector<std::vector<double>> groups(static_cast<size_t>(out_n));
    for (size_t i = 0; i < v.size(); ++i) {
        int64_t rest = static_cast<int64_t>(i), out = 0, scale = 1;
        for (size_t d = shape.size(); d-- > 0;) {
            const int64_t c = rest % shape[d];
            rest /= shape[d];
            if (!reduced(d)) {
                out += c * scale;
                scale *= shape[d];
            }
        }
        groups[out].push_back(v[i]);
    }
    return groups;
}

Tensor naive_reduce(const Tensor& x, const std::vector<int64_t>& dims, const Shape& out_shape,
                    const std::function<double(const std::vector<double>&)>& f) {
    const auto groups = groups_of(x.to_vector<double>(), x.shape(), dims);
    std::vector<double> out;
    for (const auto& g : groups) out.push_back(f(g));
    return from_vector<double>(out, out_shape);
}

double naive_sum(const std::vector<double>& g) { return std::accumulate(g.begin(), g.end(), 0.0); }
double naive_mean(const std::vector<double>& g) { return naive_sum(g) / static_cast<double>(g.size()); }
double naive_max(const std::vector<double>& g) { return *std::max_element(g.begin(), g.end()); }
double naive_min(const std::vector<double>& g) { return *std::min_element(g.begin(), g.end()); }
std::function<double(const std::vector<double>&)> naive_var(double correction) {
    return [correction](const std::vector<double>& g) {
        const double m = naive_mean(g);
        double s = 0;
        for (double v : g) s += (v - m) * (v - m);
        return s / std::max(0.0, static_cast<double>(g.size()) - correction);
    };
}

Shape out_shape_of(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
    Shape out;
    for (size_t d = 0; d < shape.size(); ++d) {
        const bool r = dims.empty() || std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end();
        if (!r) out.push_back(shape[d]);
        if (r && keepdim) out.push_back(1);
    }
    return out;
}

struct Case {
    Shape shape;
    std::vector<int64_t> dims;
};

const std::vector<Case> kCases = {
    {{7}, {0}},
    {{3, 5}, {1}},
    {{3, 5}, {0}},
    {{2, 3, 4}, {1}},
    {{2, 3, 4}, {0, 2}},
    {{2, 3, 4, 5}, {0, 2, 3}},
    {{2, 3, 4, 5}, {1, 3}},
    {{4, 1, 5}, {1}},
    {{4, 1, 5}, {0, 1}},
    {{3, 4, 5}, {}},
    {{1, 1, 1}, {2}},
    {{13, 17}, {0, 1}},
    {{2, 300, 3}, {1}},
    {{600, 7}, {0}},
};

}  // namespace

TEST(ReduceTest, SumMeanMaxMinMatchReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Case& c : kCases) {
            for (bool keepdim : {false, true}) {
                const Tensor x = random_tensor(c.shape, 11, dtype, -2.0, 3.0);
                const Shape out = out_shape_of(c.shape, c.dims, keepdim);
                const std::string where = shape_str(c.shape) + " dims " + shape_str(c.dims);
                EXPECT_TRUE(all_close(sum(x, c.dims, keepdim), naive_reduce(x, c.dims, out, naive_sum), 1e-5)) << where;
                EXPECT_TRUE(all_close(mean(x, c.dims, keepdim), naive_reduce(x, c.dims, out, naive_mean), 1e-6))
                    << where;
                EXPECT_TRUE(all_close(amax(x, c.dims, keepdim), naive_reduce(x, c.dims, out, naive_max), 0)) << where;
                EXPECT_TRUE(all_close(amin(x, c.dims, keepdim), naive_reduce(x, c.dims, out, naive_min), 0)) << where;
                EXPECT_EQ(sum(x, c.dims, keepdim).dtype(), dtype);
            }
        }
    }
}

TEST(ReduceTest, NegativeDimsAndAllElements) {
    const Tensor x = random_tensor({3, 4, 5}, 3);
    EXPECT_TRUE(all_close(sum(x, {-1}), sum(x, {2})));
    EXPECT_TRUE(all_close(sum(x, {-3, -1}, true), sum(x, {0, 2}, true)));
    EXPECT_EQ(sum(x).dim(), 0);
    EXPECT_NEAR(sum(x).item<double>(), naive_sum(x.to_vector<double>()), 1e-12);
    EXPECT_NEAR(max(x).item<double>(), naive_max(x.to_vector<double>()), 0);
    EXPECT_NEAR(min(x).item<double>(), naive_min(x.to_vector<double>()), 0);
    // A 0-d tensor reduces over dim 0 / -1 to itself.
    const Tensor s = scalar_tensor(2.5, DType::Float64);
    EXPECT_EQ(sum(s, {0}).item<double>(), 2.5);
    EXPECT_EQ(mean(s, {-1}, true).dim(), 0);
}

TEST(ReduceTest, LongRowsAndWideColumnsUseParallelPaths) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const std::vector<Case> big = {{{3, 100003}, {1}},
                                       {{200001}, {0}},
                                       {{5, 1000, 300}, {1}},
                                       {{8, 3, 64, 64}, {0, 2, 3}},
                                       {{100000, 3}, {0}}};
        for (const Case& c : big) {
            const Tensor x = random_tensor(c.shape, 5, dtype, 0.0, 1.0);
            const Shape out = out_shape_of(c.shape, c.dims, false);
            EXPECT_TRUE(all_close(sum(x, c.dims), naive_reduce(x, c.dims, out, naive_sum), 1e-6, 1e-6))
                << shape_str(c.shape);
            EXPECT_TRUE(all_close(amax(x, c.dims), naive_reduce(x, c.dims, out, naive_max), 0)) << shape_str(c.shape);
            EXPECT_TRUE(all_close(var(x, c.dims), naive_reduce(x, c.dims, out, naive_var(1.0)), 1e-6, 1e-5))
                << shape_str(c.shape);
        }
    }
}

TEST(ReduceTest, StridedInputs) {
    const Tensor base = random_tensor({6, 7, 5}, 8);
    const std::vector<Tensor> views = {base.transpose(0, 2), base.narrow(1, 2, 4), base.permute({1, 2, 0}),
                                       random_tensor({1, 7, 1}, 9).expand({4, 7, 3})};
    for (const Tensor& v : views) {
        const Tensor c = v.contiguous();
        for (const std::vector<int64_t>& dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {}}) {
            const Shape out = out_shape_of(v.shape(), dims, false);
            EXPECT_TRUE(all_close(sum(v, dims), naive_reduce(c, dims, out, naive_sum), 1e-9)) << shape_str(v.shape());
            EXPECT_TRUE(all_close(amin(v, dims), naive_reduce(c, dims, out, naive_min), 0));
            EXPECT_TRUE(all_close(var(v, dims, 0.0), naive_reduce(c, dims, out, naive_var(0.0)), 1e-9));
        }
    }
}

TEST(ReduceTest, IntegerAndBoolInputs) {
    const Tensor i32 = from_vector<int32_t>({1, -2, 3, 4, 5, 6}, {2, 3});
    const Tensor s = sum(i32, {1});
    EXPECT_EQ(s.dtype(), DType::Int64);
    EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{2, 15}));
    EXPECT_EQ(sum(i32).item<int64_t>(), 17);
    const Tensor big = full({3}, 2e9, DType::Int64);
    EXPECT_EQ(sum(big).item<int64_t>(), 6000000000LL);
    const Tensor b = from_vector<bool>({true, false, true, true}, {4});
    EXPECT_EQ(sum(b).dtype(), DType::Int64);
    EXPECT_EQ(sum(b).item<int64_t>(), 3);
    EXPECT_EQ(max(b).item<bool>(), true);
    EXPECT_EQ(min(b).item<bool>(), false);
    EXPECT_EQ(amax(i32, {0}).to_vector<int32_t>(), (std::vector<int32_t>{4, 5, 6}));
    EXPECT_EQ(amin(i32, {1}).dtype(), DType::Int32);
    EXPECT_EQ(amin(i32, {1}).to_vector<int32_t>(), (std::vector<int32_t>{-2, 4}));
    EXPECT_ENGINE_ERROR(mean(i32), "mean");
    EXPECT_ENGINE_ERROR(var(i32), "var");
}

TEST(ReduceTest, EmptyInputs) {
    const Tensor e = zeros({2, 0, 3}, DType::Float64);
    EXPECT_EQ(sum(e, {1}).shape(), (Shape{2, 3}));
    EXPECT_TRUE(all_close(sum(e, {1}), zeros({2, 3}, DType::Float64)));
    EXPECT_TRUE(std::isnan(mean(e).item<double>()));
    EXPECT_EQ(sum(e, {0}).shape(), (Shape{0, 3}));
    EXPECT_EQ(amax(e, {0}).shape(), (Shape{0, 3}));  // nothing to reduce into: fine
    EXPECT_ENGINE_ERROR(max(e), "max");
    EXPECT_ENGINE_ERROR(amax(e, {1}), "dim 1 of size 0");
    EXPECT_ENGINE_ERROR(max(e, 1), "dim 1 of size 0");
    EXPECT_ENGINE_ERROR(argmin(e, 1), "argmin");
    EXPECT_TRUE(std::isnan(var(e, {1}).to_vector<double>()[0]));
}

TEST(ReduceTest, BadDims) {
    const Tensor x = random_tensor({2, 3}, 1);
    EXPECT_ENGINE_ERROR(sum(x, {2}), "out of range");
    EXPECT_ENGINE_ERROR(mean(x, {-3}), "out of range");
    EXPECT_ENGINE_ERROR(sum(x, {1, -1}), "twice");
    EXPECT_ENGINE_ERROR(max(x, 5), "out of range");
    EXPECT_ENGINE_ERROR(argmax(x, -3), "out of range");
    EXPECT_ENGINE_ERROR(sum(Tensor()), "undefined");
}

TEST(ReduceTest, MaxMinAlongDimWithIndices) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{5}, Shape{4, 7}, Shape{3, 6, 5}, Shape{2, 300, 3}, Shape{3, 1, 2}}) {
            const Tensor x = random_tensor(shape, 21, dtype);
            for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
                for (bool keepdim : {false, true}) {
                    auto [mx, imx] = max(x, dim, keepdim);
                    auto [mn, imn] = min(x, dim, keepdim);
                    const Shape out = out_shape_of(shape, {dim}, keepdim);
                    EXPECT_TRUE(all_close(mx, naive_reduce(x, {dim}, out, naive_max), 0));
                    EXPECT_TRUE(all_close(mn, naive_reduce(x, {dim}, out, naive_min), 0));
                    EXPECT_EQ(imx.dtype(), DType::Int64);
                    EXPECT_EQ(imx.shape(), out);
                    // The index points at the value: gather it back.
                    const Tensor ik = keepdim ? imx : imx.unsqueeze(dim);
                    EXPECT_TRUE(all_close(gather(x, dim, ik).reshape(out), mx, 0));
                    EXPECT_TRUE(all_close(argmax(x, dim, keepdim), imx, 0));
                    EXPECT_TRUE(all_close(argmin(x, dim, keepdim), imn, 0));
                }
            }
        }
    }
}

TEST(ReduceTest, TiesGiveFirstOccurrenceAndNanWins) {
    const Tensor x = from_vector<float>({1, 3, 3, 0, 2, 2, 2, 2, 5, 1, 5, 5}, {3, 4});
    auto [v1, i1] = max(x, 1);
    EXPECT_EQ(i1.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0}));
    EXPECT_EQ(v1.to_vector<float>(), (std::vector<float>{3, 2, 5}));
    EXPECT_EQ(argmin(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 1}));
    // Column layout (reduce dim 0 with inner > 1).
    EXPECT_EQ(argmax(x, 0).to_vector<int64_t>(), (std::vector<int64_t>{2, 0, 2, 2}));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor y = from_vector<float>({1, nan, 3, nan, 0, 4, 1, 2}, {2, 4});
    auto [v2, i2] = max(y, 1);
    EXPECT_TRUE(std::isnan(v2.to_vector<float>()[0]));
    EXPECT_EQ(i2.to_vector<int64_t>()[0], 1);
    EXPECT_EQ(i2.to_vector<int64_t>()[1], 1);
    EXPECT_EQ(argmin(y.t(), 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
    EXPECT_EQ(argmax(y.t().contiguous(), 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
    EXPECT_TRUE(std::isnan(max(y).item<float>()));
    EXPECT_TRUE(std::isnan(amin(y, {1}).to_vector<float>()[0]));
    EXPECT_EQ(amin(y, {1}).to_vector<float>()[1], 0.0f);
    // A 0-d input gives itself and index 0.
    auto [v3, i3] = max(scalar_tensor(4.0), 0);
    EXPECT_EQ(v3.item<float>(), 4.0f);
    EXPECT_EQ(i3.item<int64_t>(), 0);
}

TEST(ReduceTest, VarAndStdMatchReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Case& c : kCases) {
            for (double correction : {0.0, 1.0, 2.0}) {
                const Tensor x = random_tensor(c.shape, 4, dtype, -1.0, 2.0);
                const Shape out = out_shape_of(c.shape, c.dims, true);
                const Tensor expected = naive_reduce(x, c.dims, out, naive_var(correction));
                EXPECT_TRUE(all_close(var(x, c.dims, correction, true), expected, 1e-6, 1e-5))
                    << shape_str(c.shape) << " correction " << correction;
                EXPECT_TRUE(all_close(engine::std(x, c.dims, correction, true), sqrt(expected), 1e-6, 1e-5));
            }
        }
    }
    // One element with correction 1 is 0/0; too large a correction gives inf, as PyTorch.
    EXPECT_TRUE(std::isnan(var(from_vector<double>({3.0}, {1})).item<double>()));
    EXPECT_TRUE(std::isinf(var(from_vector<double>({1.0, 2.0}, {2}), {}, 3.0).item<double>()));
}

TEST(ReduceTest, VarIsStableForLargeOffsets) {
    // Values 1e4 + U(-1, 1) in float32: a one-pass sum of squares in float would lose every digit.
    const Tensor noise = random_tensor({4, 50000}, 17, DType::Float64);
    const Tensor x = add(noise, 1e4).to(DType::Float32);
    const Tensor expected = naive_reduce(x, {1}, {4}, naive_var(1.0));
    EXPECT_TRUE(all_close(var(x, {1}), expected, 1e-6, 1e-5));
    EXPECT_TRUE(all_close(var(x.t(), {0}), expected, 1e-6, 1e-5));
    EXPECT_NEAR(var(x).item<float>(), naive_var(1.0)(x.to_vector<double>()), 1e-5);
}

TEST(ReduceTest, BackendReduceDirect) {
    // The kernel contract: sorted dims, empty = all; integer sums widen to int64.
    const Tensor x = random_tensor({3, 4, 5}, 2);
    const Tensor r = cpu_backend().reduce(ReduceOp::Sum, x, {0, 2}, true);
    EXPECT_EQ(r.shape(), (Shape{1, 4, 1}));
    EXPECT_TRUE(all_close(r, naive_reduce(x, {0, 2}, {1, 4, 1}, naive_sum)));
    const Tensor all = cpu_backend().reduce(ReduceOp::Mean, x, {}, false);
    EXPECT_NEAR(all.item<double>(), naive_mean(x.to_vector<double>()), 1e-12);
    const Tensor u8 = from_vector<uint8_t>({200, 100, 50}, {3});
    EXPECT_EQ(cpu_backend().reduce(ReduceOp::Sum, u8, {}, false).item<int64_t>(), 350);
    EXPECT_EQ(cpu_backend().reduce(ReduceOp::Max, u8, {}, false).item<uint8_t>(), 200);
}
