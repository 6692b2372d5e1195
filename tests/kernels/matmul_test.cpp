// matmul (torch.matmul semantics: 2-D, batched, broadcast batches, 1-D operands, strided views) and linear
// against a naive double-precision reference, in float32 (oneDNN sgemm or our GEMM) and float64 (our GEMM).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;

namespace {

// Reference torch.matmul on float64 values: promotes 1-D operands, broadcasts batch dims, loops in double.
Tensor reference_matmul(const Tensor& a_in, const Tensor& b_in) {
    Shape as = a_in.shape(), bs = b_in.shape();
    const bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    const Shape batch = broadcast_shapes(a_batch, b_batch, "reference");
    const std::vector<double> a = a_in.to_vector<double>(), b = b_in.to_vector<double>();
    const int64_t count = shape_numel(batch);
    std::vector<double> out(static_cast<size_t>(count * m * n), 0.0);
    // Batch index -> flat matrix index of an operand whose batch shape broadcasts to `batch`.
    auto matrix_index = [&](const Shape& own, int64_t flat) {
        int64_t index = 0, stride = 1;
        for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
            const int64_t i = flat % batch[d];
            flat /= batch[d];
            const int64_t od = d - static_cast<int64_t>(batch.size() - own.size());
            if (od >= 0) {
                if (own[od] != 1) index += i * stride;
                stride *= own[od];
            }
        }
        return index;
    };
    for (int64_t t = 0; t < count; ++t) {
        const double* pa = a.data() + matrix_index(a_batch, t) * m * k;
        const double* pb = b.data() + matrix_index(b_batch, t) * k * n;
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (int64_t p = 0; p < k; ++p) s += pa[i * k + p] * pb[p * n + j];
                out[(t * m + i) * n + j] = s;
            }
    }
    Shape out_shape = batch;
    if (!a_vec) out_shape.push_back(m);
    if (!b_vec) out_shape.push_back(n);
    return from_vector(out, out_shape);
}

// float32 results are compared against the float64 reference with a tolerance scaled by sqrt(k).
::testing::AssertionResult matches_reference(const Tensor& a, const Tensor& b) {
    const Tensor out = matmul(a, b);
    const Tensor expected = reference_matmul(a, b);
    if (out.dtype() != a.dtype()) return ::testing::AssertionFailure() << "result dtype changed";
    const double k = static_cast<double>(a.size(-1));
    const double tol = a.dtype() == DType::Float32 ? 2e-6 * std::max(1.0, k) : 1e-12 * std::max(1.0, k);
    return all_close(out, expected, tol, 1e-4);
}

const DType kDtypes[] = {DType::Float32, DType::Float64};

}  // namespace

TEST(MatmulTest, TwoDimensionalShapes) {
    const std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1},    {7, 13, 5},   {2, 3, 1},   {1, 17, 31},
                                                        {37, 53, 71}, {64, 400, 120}, {131, 257, 67},
                                                        {300, 300, 300}, {5, 600, 3}};
    uint64_t seed = 1;
    for (DType dt : kDtypes)
        for (const auto& s : shapes) {
            const Tensor a = random_tensor({s[0], s[1]}, seed++, dt);
            const Tensor b = random_tensor({s[1], s[2]}, seed++, dt);
            EXPECT_TRUE(matches_reference(a, b)) << dtype_name(dt) << " " << s[0] << "x" << s[1] << "x" << s[2];
        }
}

TEST(MatmulTest, BatchedAndBroadcastBatches) {
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 5, 7}, {3, 7, 2}},       {{1, 4, 3}, {6, 3, 5}},    {{2, 1, 4, 3}, {5, 3, 6}},
        {{4, 3}, {2, 3, 5}},          {{2, 4, 3}, {3, 5}},       {{2, 3, 4, 3}, {3, 5}},
        {{7, 2, 2}, {1, 2, 11}},      {{64, 8, 9}, {64, 9, 8}},  {{2, 61, 67}, {2, 67, 59}}};
    uint64_t seed = 100;
    for (DType dt : kDtypes)
        for (const auto& [sa, sb] : cases) {
            const Tensor a = random_tensor(sa, seed++, dt), b = random_tensor(sb, seed++, dt);
            EXPECT_TRUE(matches_reference(a, b)) << shape_str(sa) << " @ " << shape_str(sb);
        }
}

TEST(MatmulTest, VectorOperands) {
    const std::vector<std::pair<Shape, Shape>> cases = {{{3}, {3}},       {{1}, {1}},          {{3}, {3, 4}},
                                                        {{4, 3}, {3}},    {{3}, {2, 3, 4}},    {{2, 4, 3}, {3}},
                                                        {{13}, {13, 1}}, {{2, 1, 5, 3}, {3}}};
    uint64_t seed = 200;
    for (DType dt : kDtypes)
        for (const auto& [sa, sb] : cases) {
            const Tensor a = random_tensor(sa, seed++, dt), b = random_tensor(sb, seed++, dt);
            EXPECT_TRUE(matches_reference(a, b)) << shape_str(sa) << " @ " << shape_str(sb);
        }
    EXPECT_EQ(matmul(ones({3}), ones({3})).dim(), 0);
    EXPECT_FLOAT_EQ(matmul(ones({3}), ones({3})).item<float>(), 3.0f);
}

TEST(MatmulTest, StridedViews) {
    uint64_t seed = 300;
    for (DType dt : kDtypes) {
        // Transposed 2-D operands (what linear's and matmul's backward produce).
        const Tensor at = random_tensor({13, 7}, seed++, dt).t();  // (7, 13)
        const Tensor bt = random_tensor({5, 13}, seed++, dt).t();  // (13, 5)
        EXPECT_TRUE(matches_reference(at, bt));
        EXPECT_TRUE(matches_reference(at, random_tensor({13, 5}, seed++, dt)));
        // Batched transposes and a permuted batch dim.
        const Tensor a3 = random_tensor({3, 9, 4}, seed++, dt).transpose(1, 2);  // (3, 4, 9)
        const Tensor b3 = random_tensor({9, 3, 6}, seed++, dt).transpose(0, 1);  // (3, 9, 6)
        EXPECT_TRUE(matches_reference(a3, b3));
        // Rows longer than the matrix (narrow) and a column narrowed out of a wider matrix.
        const Tensor an = random_tensor({6, 20}, seed++, dt).narrow(1, 3, 11);
        const Tensor bn = random_tensor({11, 30}, seed++, dt).narrow(1, 7, 4);
        EXPECT_TRUE(matches_reference(an, bn));
        // Stride-0 dims inside a matrix (expanded row / column).
        const Tensor ae = random_tensor({1, 8}, seed++, dt).expand({5, 8});
        const Tensor be = random_tensor({8, 1}, seed++, dt).expand({8, 3});
        EXPECT_TRUE(matches_reference(ae, be));
        // Every other row: row stride 2 * cols.
        const Tensor as = random_tensor({10, 6}, seed++, dt).view({5, 2, 6}).select(1, 1);
        EXPECT_TRUE(matches_reference(as, random_tensor({6, 4}, seed++, dt)));
        // Neither stride is 1 (packed or copied), with enough columns to take the packed-A path.
        const Tensor ag = random_tensor({13, 7, 3}, seed++, dt).select(2, 1);  // (13, 7), strides (21, 3)
        const Tensor bg = random_tensor({7, 600, 2}, seed++, dt).select(2, 0);  // (7, 600), strides (1200, 2)
        EXPECT_TRUE(matches_reference(ag, bg));
        EXPECT_TRUE(matches_reference(ag, random_tensor({7, 5}, seed++, dt)));
    }
}

TEST(MatmulTest, BackendReadsBroadcastBatchInPlace) {
    // A stride-0 batch (an expanded matrix) and a transposed batch go straight to the backend.
    for (DType dt : kDtypes) {
        const Tensor a = random_tensor({1, 5, 6}, 400, dt).expand({4, 5, 6});
        const Tensor b = random_tensor({4, 3, 6}, 401, dt).transpose(1, 2);
        const Tensor out = cpu_backend().matmul(a, b);
        EXPECT_TRUE(out.is_contiguous());
        EXPECT_TRUE(all_close(out, reference_matmul(a.contiguous(), b.contiguous()), 1e-5, 1e-4));
    }
}

TEST(MatmulTest, EmptyDims) {
    for (DType dt : kDtypes) {
        const Tensor z = matmul(ones({3, 0}, dt), ones({0, 4}, dt));
        EXPECT_EQ(z.shape(), (Shape{3, 4}));
        for (double v : z.to_vector<double>()) EXPECT_EQ(v, 0.0);
        EXPECT_EQ(matmul(ones({0, 5}, dt), ones({5, 2}, dt)).shape(), (Shape{0, 2}));
        EXPECT_EQ(matmul(ones({2, 0, 5}, dt), ones({5, 2}, dt)).shape(), (Shape{2, 0, 2}));
    }
}

TEST(MatmulTest, BadInputs) {
    EXPECT_ENGINE_ERROR(matmul(ones({2, 3}), ones({4, 5})), "cannot be multiplied");
    EXPECT_ENGINE_ERROR(matmul(ones({3}), ones({4})), "cannot be multiplied");
    EXPECT_ENGINE_ERROR(matmul(ones({2, 2, 3}), ones({3, 3, 2})), "matmul");  // batch 2 vs 3
    EXPECT_ENGINE_ERROR(matmul(ones({2, 3}, DType::Float64), ones({3, 2}, DType::Float32)), "same dtype");
    EXPECT_ENGINE_ERROR(matmul(scalar_tensor(1.0), ones({3})), "at least 1 dim");
    EXPECT_ENGINE_ERROR(matmul(ones({2, 3}, DType::Int64), ones({3, 2}, DType::Int64)), "float32 or float64");
    EXPECT_ENGINE_ERROR(matmul(Tensor(), ones({3})), "undefined");
}

TEST(LinearTest, MatchesReference) {
    uint64_t seed = 500;
    for (DType dt : kDtypes) {
        const Tensor w = random_tensor({4, 5}, seed++, dt), b = random_tensor({4}, seed++, dt);
        for (const Shape& xs : {Shape{5}, Shape{3, 5}, Shape{2, 3, 5}, Shape{1, 1, 5}}) {
            const Tensor x = random_tensor(xs, seed++, dt);
            Tensor expected = reference_matmul(x, w.t().contiguous());
            const std::vector<double> e = expected.to_vector<double>(), bv = b.to_vector<double>();
            std::vector<double> with_bias(e.size());
            for (size_t i = 0; i < e.size(); ++i) with_bias[i] = e[i] + bv[i % 4];
            const double tol = dt == DType::Float32 ? 1e-5 : 1e-12;
            EXPECT_TRUE(all_close(linear(x, w, b), from_vector(with_bias, expected.shape()), tol, 1e-5));
            EXPECT_TRUE(all_close(linear(x, w), expected, tol, 1e-5));
        }
        // Non-contiguous input and weight.
        const Tensor xt = random_tensor({5, 3}, seed++, dt).t();
        const Tensor wt = random_tensor({5, 4}, seed++, dt).t();
        EXPECT_TRUE(all_close(linear(xt, wt), reference_matmul(xt.contiguous(), wt.t().contiguous()), 1e-5, 1e-5));
    }
}

TEST(LinearTest, BadInputs) {
    EXPECT_ENGINE_ERROR(linear(ones({2, 5}), ones({4, 6})), "features");
    EXPECT_ENGINE_ERROR(linear(ones({2, 5}), ones({4, 5}), ones({3})), "bias must have shape [4]");
    EXPECT_ENGINE_ERROR(linear(ones({2, 5}), ones({5})), "weight must have 2 dims");
    EXPECT_ENGINE_ERROR(linear(ones({2, 5}, DType::Float64), ones({4, 5})), "same dtype");
}
