// CUDA reductions (sum / mean / max / min over dim sets, max / min with indices, var) against the CPU backend:
// rows and columns shorter and longer than a block, extents long enough to be split across blocks, NaN, ties,
// integer and bool inputs, plus gradchecks through the device.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

const ReduceOp kOps[] = {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min};

struct Case {
    Shape shape;
    std::vector<int64_t> dims;
};

// Rows (last dims), columns (leading dims), mixed dim sets, size-1 dims and everything.
const Case kCases[] = {
    {{1}, {}},           {{7}, {0}},            {{4099}, {}},          {{3, 1025}, {1}},      {{33, 257}, {0}},
    {{255, 31}, {0, 1}}, {{5, 7, 33}, {0, 2}},  {{5, 7, 33}, {1}},     {{2, 3, 4, 5}, {0, 2, 3}},
    {{2, 3, 4, 5}, {1, 3}}, {{6, 1, 9}, {1}},   {{1000, 3}, {0}},      {{3, 1, 1}, {1, 2}},
};

}  // namespace

TEST(CudaReduceTest, EveryOpOverDimSets) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const Case& c : kCases) {
            const Tensor x = random_tensor(c.shape, 1 + c.shape.size(), dt, -2.0, 2.0);
            const Tensor d = to_cuda(x);
            for (ReduceOp op : kOps) {
                const bool keepdim = op == ReduceOp::Mean || op == ReduceOp::Max;  // keepdim only changes the shape
                const double tol = op == ReduceOp::Max || op == ReduceOp::Min ? 0.0 : rtol_of(dt);
                EXPECT_TRUE(matches_cpu(gpu().reduce(op, d, c.dims, keepdim),
                                        cpu_backend().reduce(op, x, c.dims, keepdim), tol * 1e-2, tol))
                    << reduce_op_name(op) << " of " << shape_str(c.shape) << " over " << shape_str(c.dims)
                    << (keepdim ? " keepdim " : " ") << dtype_name(dt);
            }
        }
    }
}

TEST(CudaReduceTest, NonContiguousInputs) {
    REQUIRE_CUDA_DEVICE();
    const Tensor x = random_tensor({33, 40}, 2, DType::Float32);
    const Tensor d = to_cuda(x);
    for (ReduceOp op : kOps) {
        EXPECT_TRUE(matches_cpu(gpu().reduce(op, d.t(), {1}, false), cpu_backend().reduce(op, x.t(), {1}, false),
                                1e-7, 1e-5));
        EXPECT_TRUE(matches_cpu(gpu().reduce(op, d.narrow(1, 3, 17), {0}, true),
                                cpu_backend().reduce(op, x.narrow(1, 3, 17), {0}, true), 1e-7, 1e-5));
        EXPECT_TRUE(matches_cpu(gpu().reduce(op, d.narrow(0, 2, 1).expand({9, 40}), {}, false),
                                cpu_backend().reduce(op, x.narrow(0, 2, 1).expand({9, 40}), {}, false), 1e-6, 1e-5));
    }
}

TEST(CudaReduceTest, LongExtentsSplitAcrossBlocks) {
    REQUIRE_CUDA_DEVICE();
    // A row of 40000 (split into chunks, then merged) and a column extent of 20000 over 3 columns.
    const Tensor row = random_tensor({40000}, 3, DType::Float32, 0.0, 1.0);
    const Tensor cols = random_tensor({20000, 3}, 4, DType::Float64);
    for (ReduceOp op : kOps) {
        EXPECT_TRUE(matches_cpu(gpu().reduce(op, to_cuda(row), {}, false), cpu_backend().reduce(op, row, {}, false),
                                0, 1e-6));
        EXPECT_TRUE(matches_cpu(gpu().reduce(op, to_cuda(cols), {0}, false),
                                cpu_backend().reduce(op, cols, {0}, false), 1e-12, 1e-12));
    }
    EXPECT_TRUE(matches_cpu(gpu().var(to_cuda(row), {}, 1.0, false), cpu_backend().var(row, {}, 1.0, false), 0, 1e-5));
    EXPECT_TRUE(matches_cpu(gpu().var(to_cuda(cols), {0}, 0.0, true), cpu_backend().var(cols, {0}, 0.0, true), 0,
                            1e-12));
    const auto [v, i] = gpu().reduce_with_index(ReduceOp::Max, to_cuda(row), 0, false);
    const auto [cv, ci] = cpu_backend().reduce_with_index(ReduceOp::Max, row, 0, false);
    EXPECT_TRUE(matches_cpu(v, cv, 0, 0));
    EXPECT_TRUE(matches_cpu(i, ci, 0, 0));
}

TEST(CudaReduceTest, NaNPropagatesThroughMaxMinAndSum) {
    REQUIRE_CUDA_DEVICE();
    Tensor x = random_tensor({4, 300}, 5);
    x.narrow(0, 1, 1).narrow(1, 250, 1).fill_(NAN);
    x.narrow(0, 3, 1).narrow(1, 0, 1).fill_(NAN);
    for (ReduceOp op : kOps) {
        for (int64_t dim : {0, 1}) {
            EXPECT_TRUE(matches_cpu(gpu().reduce(op, to_cuda(x), {dim}, false),
                                    cpu_backend().reduce(op, x, {dim}, false), 0, 1e-12))
                << reduce_op_name(op) << " dim " << dim;
        }
    }
}

TEST(CudaReduceTest, IntegerAndBoolInputs) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Int64, DType::Int32, DType::UInt8, DType::Bool}) {
        const Tensor x = random_tensor({31, 257}, 6, DType::Float64, 0.0, dt == DType::Bool ? 2.0 : 100.0)
                             .to(DType::Int64)
                             .to(dt);
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
            for (const std::vector<int64_t>& dims : {std::vector<int64_t>{}, {0}, {1}}) {
                EXPECT_TRUE(matches_cpu(gpu().reduce(op, to_cuda(x), dims, false),
                                        cpu_backend().reduce(op, x, dims, false), 0, 0))
                    << reduce_op_name(op) << " " << dtype_name(dt) << " over " << shape_str(dims);
            }
        }
    }
    EXPECT_ENGINE_ERROR(gpu().reduce(ReduceOp::Mean, to_cuda(arange(0, 5)), {}, false), "float32 or float64");
}

TEST(CudaReduceTest, EmptyInputs) {
    REQUIRE_CUDA_DEVICE();
    const Tensor x = empty({0, 4}, DType::Float32, cuda_device());
    EXPECT_TRUE(matches_cpu(gpu().reduce(ReduceOp::Sum, x, {0}, false), zeros({4}), 0, 0));
    const Tensor mean = gpu().reduce(ReduceOp::Mean, x, {0}, false).to(Device::cpu());
    EXPECT_TRUE(std::isnan(mean.to_vector<float>()[0]));
    EXPECT_ENGINE_ERROR(gpu().reduce(ReduceOp::Max, x, {0}, false), "over an empty dim");
    EXPECT_EQ(gpu().reduce(ReduceOp::Max, x, {1}, false).numel(), 0);
}

TEST(CudaReduceWithIndexTest, FirstOccurrenceOnTies) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::UInt8}) {
        // Few distinct values, so every row and column has ties.
        const Tensor x = random_tensor({37, 1025}, 7, DType::Float64, 0.0, 5.0).to(DType::Int64).to(dt);
        for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min}) {
            for (int64_t dim : {0, 1}) {
                const bool keepdim = dim == 1;
                const auto [v, i] = gpu().reduce_with_index(op, to_cuda(x), dim, keepdim);
                const auto [cv, ci] = cpu_backend().reduce_with_index(op, x, dim, keepdim);
                EXPECT_TRUE(matches_cpu(v, cv, 0, 0)) << reduce_op_name(op) << " dim " << dim;
                EXPECT_TRUE(matches_cpu(i, ci, 0, 0)) << reduce_op_name(op) << " dim " << dim << " " << dtype_name(dt);
            }
        }
    }
    // A middle dim, a transposed input, NaN (the first NaN wins) and a 0-d input.
    Tensor y = random_tensor({3, 40, 5}, 8);
    y.narrow(1, 7, 1).narrow(2, 2, 1).fill_(NAN);
    y.narrow(1, 30, 1).fill_(NAN);
    for (const Tensor& t : {y, y.transpose(0, 1)}) {
        const auto [v, i] = gpu().reduce_with_index(ReduceOp::Min, to_cuda(t), 1, false);
        const auto [cv, ci] = cpu_backend().reduce_with_index(ReduceOp::Min, t, 1, false);
        EXPECT_TRUE(matches_cpu(v, cv, 0, 0));
        EXPECT_TRUE(matches_cpu(i, ci, 0, 0));
    }
    const auto [v0, i0] = gpu().reduce_with_index(ReduceOp::Max, to_cuda(scalar_tensor(2.5)), 0, false);
    EXPECT_EQ(v0.item<float>(), 2.5f);
    EXPECT_EQ(i0.item<int64_t>(), 0);
}

TEST(CudaVarTest, CorrectionsAndDimSets) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const Case& c : kCases) {
            // An offset mean: the two-pass / Welford schemes must not cancel catastrophically.
            const Tensor x = random_tensor(c.shape, 9, dt, 99.0, 101.0);
            for (double correction : {0.0, 1.0, 2.0}) {
                EXPECT_TRUE(matches_cpu(gpu().var(to_cuda(x), c.dims, correction, true),
                                        cpu_backend().var(x, c.dims, correction, true), 1e-9, 10 * rtol_of(dt)))
                    << shape_str(c.shape) << " over " << shape_str(c.dims) << " correction " << correction;
            }
        }
    }
}

TEST(CudaReduceGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return sum(in[0].to(dev), {0, 2}).to(Device::cpu()); },
                                 {random_leaf({3, 4, 5}, 1)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return mean(in[0].to(dev).t(), {1}, true).to(Device::cpu()); },
        {random_leaf({6, 5}, 2)}));
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return var(in[0].to(dev), {1}).to(Device::cpu()); },
                                 {random_leaf({4, 7}, 3)}));
    // Random values are distinct, so there is no tie at the max.
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return max(in[0].to(dev), 1, false).first.to(Device::cpu()); },
        {random_leaf({5, 6}, 4)}));
}
