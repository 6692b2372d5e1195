// CUDA indexing (gather, scatter / scatter_add / scatter of a value, index_select, index_add) against the CPU
// backend over dims, dtypes, int64 and int32 indices, repeated indices and views; out-of-range indices raise the
// CPU backend's error; gradchecks through the device.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

Tensor values(const Shape& shape, uint64_t seed, DType dt) { return random_values(shape, seed, dt); }

// Indices in [0, size) (with repeats), as int64 or int32.
Tensor indices(const Shape& shape, int64_t size, uint64_t seed, DType dt = DType::Int64) {
    return random_tensor(shape, seed, DType::Float64, 0.0, static_cast<double>(size)).to(DType::Int64).to(dt);
}

// Index of `shape` except at dim, where it has `len` entries, within x's sizes.
Shape index_shape(const Shape& x_shape, int64_t dim, int64_t len) {
    Shape s = x_shape;
    for (size_t d = 0; d < s.size(); ++d) s[d] = std::max<int64_t>(1, s[d] - 1);
    s[dim] = len;
    return s;
}

// The error messages of the same call on both backends: equal and non-empty.
template <class F>
void expect_same_error(const F& call, const Tensor& x, const Tensor& index, const std::string& what) {
    const std::string expected = error_message([&] { call(x, index); });
    const std::string got = error_message([&] { call(to_cuda(x), to_cuda(index)); });
    EXPECT_FALSE(expected.empty()) << what;
    EXPECT_EQ(got, expected) << what;
}

}  // namespace

TEST(CudaGatherTest, MatchesCpuOverDimsDTypesAndIndexTypes) {
    REQUIRE_CUDA_DEVICE();
    const Shape shape = {4, 5, 6};
    uint64_t seed = 1;
    for (DType dt : kAllDTypes) {
        for (int64_t dim = 0; dim < 3; ++dim) {
            for (DType it : {DType::Int64, DType::Int32}) {
                const Tensor x = values(shape, seed++, dt);
                const Tensor index = indices(index_shape(shape, dim, 7), shape[dim], seed++, it);
                EXPECT_TRUE(matches_cpu(gather(to_cuda(x), dim, to_cuda(index)), gather(x, dim, index), 0.0, 0.0))
                    << "dim " << dim << " " << dtype_name(dt) << " " << dtype_name(it);
            }
        }
    }
}

TEST(CudaGatherTest, StridedInputsAndLargeIndex) {
    REQUIRE_CUDA_DEVICE();
    const Tensor base = random_tensor({6, 5, 7}, 10, DType::Float64);
    const Tensor x = base.transpose(0, 2);                           // (7, 5, 6)
    const Tensor index = indices({6, 5, 3}, 5, 11).transpose(0, 2);  // (3, 5, 6), non-contiguous
    EXPECT_TRUE(
        matches_cpu(gather(to_cuda(base).transpose(0, 2), 1, to_cuda(indices({6, 5, 3}, 5, 11)).transpose(0, 2)),
                    gather(x, 1, index), 0.0, 0.0));
    const Tensor wide = random_tensor({3, 1000}, 12, DType::Float32);
    const Tensor many = indices({3, 2500}, 1000, 13);
    EXPECT_TRUE(matches_cpu(gather(to_cuda(wide), 1, to_cuda(many)), gather(wide, 1, many), 0.0, 0.0));
}

TEST(CudaScatterTest, MatchesCpuIncludingRepeatedIndices) {
    REQUIRE_CUDA_DEVICE();
    const Shape shape = {4, 5, 6};
    uint64_t seed = 100;
    for (DType dt : kAllDTypes) {
        for (int64_t dim = 0; dim < 3; ++dim) {
            for (DType it : {DType::Int64, DType::Int32}) {
                const Tensor self = values(shape, seed++, dt);
                // Repeated indices along dim: the last write wins (scatter) or all add up (scatter_add).
                const Tensor index = indices(index_shape(shape, dim, 9), shape[dim], seed++, it);
                const Tensor src = values(index.shape(), seed++, dt);
                const std::string what = "dim " + std::to_string(dim) + " " + dtype_name(dt) + " " + dtype_name(it);
                EXPECT_TRUE(matches_cpu(scatter(to_cuda(self), dim, to_cuda(index), to_cuda(src)),
                                        scatter(self, dim, index, src), 0.0, 0.0))
                    << what;
                EXPECT_TRUE(matches_cpu(scatter(to_cuda(self), dim, to_cuda(index), 1.0),
                                        scatter(self, dim, index, 1.0), 0.0, 0.0))
                    << what;
                if (dt == DType::Bool) continue;  // scatter_add is not defined for bool
                EXPECT_TRUE(matches_cpu(scatter_add(to_cuda(self), dim, to_cuda(index), to_cuda(src)),
                                        scatter_add(self, dim, index, src), 1e-6, 1e-6))
                    << what;
            }
        }
    }
}

TEST(CudaScatterTest, StridedSelfAndLargerSource) {
    REQUIRE_CUDA_DEVICE();
    const Tensor self = random_tensor({5, 8}, 200, DType::Float32);
    const Tensor src = random_tensor({9, 4}, 201, DType::Float32);  // larger than the index: only its corner is read
    const Tensor index = indices({3, 5}, 5, 202);
    EXPECT_TRUE(matches_cpu(scatter(to_cuda(self).t(), 1, to_cuda(index), to_cuda(src).t()),
                            scatter(self.t(), 1, index, src.t()), 0.0, 0.0));
    EXPECT_TRUE(matches_cpu(scatter_add(to_cuda(self).t(), 0, to_cuda(indices({2, 5}, 8, 203)), to_cuda(src).t()),
                            scatter_add(self.t(), 0, indices({2, 5}, 8, 203), src.t()), 1e-6, 1e-6));
}

TEST(CudaIndexSelectTest, MatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    const Shape shape = {4, 5, 6};
    uint64_t seed = 300;
    for (DType dt : kAllDTypes) {
        for (int64_t dim = 0; dim < 3; ++dim) {
            for (DType it : {DType::Int64, DType::Int32}) {
                const Tensor x = values(shape, seed++, dt);
                const Tensor index = indices({11}, shape[dim], seed++, it);
                EXPECT_TRUE(
                    matches_cpu(index_select(to_cuda(x), dim, to_cuda(index)), index_select(x, dim, index), 0.0, 0.0))
                    << "dim " << dim << " " << dtype_name(dt) << " " << dtype_name(it);
            }
        }
    }
    const Tensor base = random_tensor({7, 3, 5}, 310, DType::Float64);
    const Tensor index = indices({4}, 5, 311);
    EXPECT_TRUE(matches_cpu(index_select(to_cuda(base).transpose(0, 2), 0, to_cuda(index)),
                            index_select(base.transpose(0, 2), 0, index), 0.0, 0.0));
    const Tensor scalar_index = full({}, 2.0, DType::Int64);
    EXPECT_TRUE(matches_cpu(index_select(to_cuda(base), 1, to_cuda(scalar_index)), index_select(base, 1, scalar_index),
                            0.0, 0.0));
}

TEST(CudaIndexAddTest, MatchesCpuOnBothPaths) {
    REQUIRE_CUDA_DEVICE();
    const Shape shape = {4, 5, 6};
    uint64_t seed = 400;
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::UInt8}) {
        for (int64_t dim = 0; dim < 3; ++dim) {
            for (DType it : {DType::Int64, DType::Int32}) {
                const Tensor self = values(shape, seed++, dt);
                const Tensor index = indices({9}, shape[dim], seed++, it);  // repeats add up
                Shape src_shape = shape;
                src_shape[dim] = 9;
                const Tensor src = values(src_shape, seed++, dt);
                EXPECT_TRUE(matches_cpu(gpu().index_add(to_cuda(self), dim, to_cuda(index), to_cuda(src)),
                                        cpu_backend().index_add(self, dim, index, src), 1e-6, 1e-6))
                    << "dim " << dim << " " << dtype_name(dt) << " " << dtype_name(it);
            }
        }
    }
    // Enough columns for the one-thread-per-column path with floats, and a strided source.
    const Tensor self = random_tensor({3, 65536}, 450, DType::Float32);
    const Tensor src = random_tensor({65536, 5}, 451, DType::Float32).t();
    const Tensor index = indices({5}, 3, 452);
    EXPECT_TRUE(matches_cpu(gpu().index_add(to_cuda(self), 0, to_cuda(index), to_cuda(src)),
                            cpu_backend().index_add(self, 0, index, src), 1e-6, 1e-6));
}

TEST(CudaIndexOpsTest, OutOfRangeIndicesRaiseTheCpuError) {
    REQUIRE_CUDA_DEVICE();
    const Tensor x = random_tensor({3, 5}, 500, DType::Float32);
    for (DType it : {DType::Int64, DType::Int32}) {
        for (double bad : {5.0, -1.0, 100.0}) {
            Tensor index = full({3, 4}, 1.0, DType::Int64);
            std::vector<int64_t> v = index.to_vector<int64_t>();
            v[6] = static_cast<int64_t>(bad);  // first bad position (1, 2)
            v[9] = 7;
            index = from_vector(v, {3, 4}).to(it);
            const std::string what = std::string(dtype_name(it)) + " " + std::to_string(bad);
            expect_same_error([](const Tensor& a, const Tensor& i) { return gather(a, 1, i); }, x, index, what);
            expect_same_error([](const Tensor& a, const Tensor& i) { return scatter(a, 1, i, 2.0); }, x, index, what);
            expect_same_error(
                [](const Tensor& a, const Tensor& i) {
                    return scatter_add(a, 1, i, ones_like(a).expand({3, 5}));
                },
                x, index, what);
            const Tensor flat = index.reshape({-1});
            expect_same_error([](const Tensor& a, const Tensor& i) { return index_select(a, 1, i); }, x, flat, what);
            expect_same_error(
                [](const Tensor& a, const Tensor& i) {
                    return backend_for(a).index_add(a, 1, i, zeros({3, 12}, a.dtype(), a.device()));
                },
                x, flat, what);
        }
    }
    EXPECT_ENGINE_ERROR(gather(to_cuda(x), 1, to_cuda(from_vector<int64_t>({0, 5}, {1, 2}))),
                        "gather: index 5 out of range for dim 1 of size 5");
    // The device keeps working after an error.
    EXPECT_TRUE(matches_cpu(gather(to_cuda(x), 1, to_cuda(indices({3, 2}, 5, 501))),
                            gather(x, 1, indices({3, 2}, 5, 501)), 0.0, 0.0));
}

TEST(CudaIndexOpsGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    const Tensor index = indices({3, 4}, 5, 600);  // repeats: the gradient adds up
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return gather(in[0].to(dev), 1, to_cuda(index)).to(Device::cpu()); },
        {random_leaf({3, 5}, 601)}));
    const Tensor rows = indices({6}, 4, 602);
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return index_select(in[0].to(dev), 0, to_cuda(rows)).to(Device::cpu()); },
        {random_leaf({4, 3}, 603)}));
    const Tensor unique = from_vector<int64_t>({2, 0, 4, 1, 3, 4, 2, 0}, {2, 4});
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return scatter(in[0].to(dev), 0, to_cuda(unique.narrow(0, 0, 1)), in[1].to(dev)).to(Device::cpu());
        },
        {random_leaf({5, 4}, 604), random_leaf({2, 4}, 605)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return scatter_add(in[0].to(dev), 0, to_cuda(unique), in[1].to(dev)).to(Device::cpu());
        },
        {random_leaf({5, 4}, 606), random_leaf({3, 5}, 607)}));
}
