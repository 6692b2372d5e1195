// CUDA pooling kernels (max with indices, average, adaptive average, and their backward passes) against the CPU
// backend on odd sizes, padding / stride / dilation / ceil_mode variants, views and dtypes, plus gradchecks
// through the device.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "common/pool_params.h"
#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

// Awkward geometry: size 1, primes, stride 0 (= kernel), overlapping windows, padding, ceil_mode windows that
// hang over the edge, dilation, outputs that are not multiples of the 256-thread block.
std::vector<PoolCase> max_pool_cases() {
    return {
        {{1, 1, 1, 1}, pool(1, 1, 1, 1, 0, 0)},
        {{2, 3, 7, 9}, pool(3, 3, 2, 2, 1, 1)},
        {{1, 2, 13, 11}, pool(2, 2, 0, 0, 0, 0)},
        {{2, 2, 10, 9}, pool(3, 3, 2, 2, 1, 1, 1, 1, true)},
        {{1, 3, 11, 13}, pool(3, 3, 1, 1, 1, 1, 2, 2)},
        {{1, 1, 17, 19}, pool(3, 2, 2, 3, 1, 1, 2, 1, true)},
        {{3, 5, 31, 37}, pool(2, 2, 2, 2, 0, 0)},
        {{2, 4, 33, 65}, pool(3, 3, 2, 2, 1, 1)},
        {{1, 2, 5, 7}, pool(2, 3, 3, 2, 1, 1, 4, 3, true)},
    };
}

std::vector<PoolCase> avg_pool_cases() {
    std::vector<PoolCase> cases;
    for (bool include : {true, false}) {
        cases.push_back({{1, 1, 1, 1}, pool(1, 1, 1, 1, 0, 0, 1, 1, false, include)});
        cases.push_back({{2, 3, 7, 9}, pool(3, 3, 2, 2, 1, 1, 1, 1, false, include)});
        cases.push_back({{1, 2, 13, 11}, pool(2, 2, 0, 0, 0, 0, 1, 1, false, include)});
        cases.push_back({{2, 2, 10, 9}, pool(3, 3, 2, 2, 1, 1, 1, 1, true, include)});
        cases.push_back({{1, 3, 11, 13}, pool(5, 3, 3, 1, 2, 1, 1, 1, true, include)});
        cases.push_back({{2, 4, 33, 65}, pool(3, 2, 2, 1, 1, 1, 1, 1, false, include)});
    }
    return cases;
}

std::string describe(const PoolCase& c) {
    const Pool2dParams& p = c.params;
    std::ostringstream s;
    s << shape_str(c.shape) << " kernel " << p.kernel_h << "x" << p.kernel_w << " stride " << p.stride_h << "x"
      << p.stride_w << " pad " << p.pad_h << "x" << p.pad_w << " dilation " << p.dilation_h << "x" << p.dilation_w
      << (p.ceil_mode ? " ceil" : "") << (p.count_include_pad ? "" : " exclude-pad");
    return s.str();
}

// Values in [-range, range) converted to dt: integer dtypes get many ties, which must resolve to the first one.
Tensor values(const Shape& shape, uint64_t seed, DType dt, double range = 1.0) {
    if (dt == DType::UInt8) return random_tensor(shape, seed, DType::Float64, 0.0, 250.0).to(dt);
    if (dt == DType::Int64 || dt == DType::Int32) return random_tensor(shape, seed, DType::Float64, -9.0, 9.0).to(dt);
    return random_tensor(shape, seed, dt, -range, range);
}

}  // namespace

TEST(CudaMaxPoolTest, ValuesAndIndicesMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 1;
    for (const PoolCase& c : max_pool_cases()) {
        for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::UInt8}) {
            const Tensor x = values(c.shape, seed++, dt);
            const auto [y, idx] = max_pool2d_with_indices(x, c.params);
            const auto [dy, didx] = max_pool2d_with_indices(to_cuda(x), c.params);
            EXPECT_TRUE(matches_cpu(dy, y, 0.0, 0.0)) << describe(c) << " " << dtype_name(dt);
            EXPECT_TRUE(matches_cpu(didx, idx, 0.0, 0.0)) << describe(c) << " " << dtype_name(dt);
        }
    }
}

TEST(CudaMaxPoolTest, NaNPropagatesAndThreeDimInputs) {
    REQUIRE_CUDA_DEVICE();
    Tensor x = random_tensor({2, 6, 7}, 3, DType::Float32);
    std::vector<float> v = x.to_vector<float>();
    v[5] = std::numeric_limits<float>::quiet_NaN();
    v[40] = std::numeric_limits<float>::quiet_NaN();
    v[41] = std::numeric_limits<float>::quiet_NaN();
    x = from_vector(v, x.shape());
    const Pool2dParams p = pool(3, 3, 2, 2, 1, 1);
    const auto [y, idx] = max_pool2d_with_indices(x, p);
    const auto [dy, didx] = max_pool2d_with_indices(to_cuda(x), p);
    EXPECT_TRUE(matches_cpu(dy, y, 0.0, 0.0));
    EXPECT_TRUE(matches_cpu(didx, idx, 0.0, 0.0));
}

TEST(CudaMaxPoolTest, NonContiguousInputs) {
    REQUIRE_CUDA_DEVICE();
    const Tensor base = random_tensor({3, 2, 11, 14}, 4, DType::Float32);
    const Tensor dev = to_cuda(base);
    const Pool2dParams p = pool(3, 2, 2, 1, 1, 1);
    for (const auto& [cpu_view, dev_view] :
         std::vector<std::pair<Tensor, Tensor>>{{base.transpose(2, 3), dev.transpose(2, 3)},
                                                {base.narrow(3, 2, 9), dev.narrow(3, 2, 9)},
                                                {base.transpose(0, 1), dev.transpose(0, 1)}}) {
        const auto [y, idx] = max_pool2d_with_indices(cpu_view, p);
        const auto [dy, didx] = max_pool2d_with_indices(dev_view, p);
        EXPECT_TRUE(matches_cpu(dy, y, 0.0, 0.0)) << shape_str(cpu_view.shape());
        EXPECT_TRUE(matches_cpu(didx, idx, 0.0, 0.0)) << shape_str(cpu_view.shape());
    }
}

TEST(CudaMaxPoolTest, BackwardScattersToTheIndices) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 100;
    for (const PoolCase& c : max_pool_cases()) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            const Tensor x = values(c.shape, seed++, dt);
            const auto [y, idx] = max_pool2d_with_indices(x, c.params);
            const Tensor gy = random_tensor(y.shape(), seed++, dt);
            const Tensor expected = cpu_backend().max_pool2d_backward(gy, idx, x.shape());
            const Tensor got = gpu().max_pool2d_backward(to_cuda(gy), to_cuda(idx), x.shape());
            EXPECT_TRUE(matches_cpu(got, expected, 1e-6, rtol_of(dt))) << describe(c) << " " << dtype_name(dt);
        }
    }
    // A non-contiguous gradient.
    const Tensor x = random_tensor({2, 3, 9, 8}, 7, DType::Float64);
    const auto [y, idx] = max_pool2d_with_indices(x, pool(2, 2, 1, 1, 0, 0));
    const Tensor gy = random_tensor({2, 3, 7, 8}, 8, DType::Float64).transpose(2, 3);
    EXPECT_TRUE(matches_cpu(gpu().max_pool2d_backward(to_cuda(gy), to_cuda(idx), x.shape()),
                            cpu_backend().max_pool2d_backward(gy, idx, x.shape()), 1e-12, 1e-12));
}

TEST(CudaAvgPoolTest, ForwardMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 200;
    for (const PoolCase& c : avg_pool_cases()) {
        for (DType dt : {DType::Float32, DType::Float64, DType::Int64}) {
            const Tensor x = values(c.shape, seed++, dt);
            EXPECT_TRUE(matches_cpu(avg_pool2d(to_cuda(x), c.params), avg_pool2d(x, c.params), 1e-7, rtol_of(dt)))
                << describe(c) << " " << dtype_name(dt);
        }
    }
    const Tensor base = random_tensor({2, 3, 12, 10}, 9, DType::Float32);
    const Pool2dParams p = pool(3, 3, 2, 2, 1, 1, 1, 1, true, false);
    EXPECT_TRUE(
        matches_cpu(avg_pool2d(to_cuda(base).transpose(2, 3), p), avg_pool2d(base.transpose(2, 3), p), 1e-7, 1e-5));
}

TEST(CudaAvgPoolTest, BackwardMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 300;
    for (const PoolCase& c : avg_pool_cases()) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            const Tensor y = avg_pool2d(values(c.shape, seed++, dt), c.params);
            const Tensor gy = random_tensor(y.shape(), seed++, dt);
            EXPECT_TRUE(matches_cpu(gpu().avg_pool2d_backward(to_cuda(gy), c.shape, c.params),
                                    cpu_backend().avg_pool2d_backward(gy, c.shape, c.params), 1e-7, rtol_of(dt)))
                << describe(c) << " " << dtype_name(dt);
        }
    }
}

TEST(CudaAdaptiveAvgPoolTest, ForwardAndBackwardMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    struct Case {
        Shape shape;
        int64_t out_h, out_w;
    };
    const Case cases[] = {{{1, 1, 1, 1}, 3, 3},   {{2, 3, 7, 9}, 3, 4},   {{1, 2, 5, 5}, 5, 5}, {{2, 1, 4, 4}, 7, 6},
                          {{1, 3, 13, 10}, 1, 1}, {{3, 5, 31, 17}, 5, 7}, {{1, 2, 6, 11}, 4, 3}};
    uint64_t seed = 400;
    for (const Case& c : cases) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            const Tensor x = random_tensor(c.shape, seed++, dt);
            const Tensor y = adaptive_avg_pool2d(x, c.out_h, c.out_w);
            EXPECT_TRUE(matches_cpu(adaptive_avg_pool2d(to_cuda(x), c.out_h, c.out_w), y, 1e-7, rtol_of(dt)))
                << shape_str(c.shape) << " -> " << c.out_h << "x" << c.out_w;
            const Tensor gy = random_tensor(y.shape(), seed++, dt);
            EXPECT_TRUE(matches_cpu(gpu().adaptive_avg_pool2d_backward(to_cuda(gy), c.shape),
                                    cpu_backend().adaptive_avg_pool2d_backward(gy, c.shape), 1e-7, rtol_of(dt)))
                << shape_str(c.shape) << " -> " << c.out_h << "x" << c.out_w;
        }
    }
    const Tensor base = random_tensor({2, 3, 9, 8}, 10, DType::Float64);
    EXPECT_TRUE(matches_cpu(adaptive_avg_pool2d(to_cuda(base).transpose(1, 3), 4, 2),
                            adaptive_avg_pool2d(base.transpose(1, 3), 4, 2), 1e-12, 1e-12));
}

TEST(CudaPoolGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    // Distinct random values: no ties in the max windows.
    for (const Pool2dParams& p : {pool(3, 3, 2, 2, 1, 1), pool(2, 3, 1, 2, 1, 1, 2, 1, true)}) {
        EXPECT_TRUE(
            passes_gradcheck([&](const TensorList& in) { return max_pool2d(in[0].to(dev), p).to(Device::cpu()); },
                             {random_leaf({1, 2, 7, 6}, 11)}));
    }
    for (const Pool2dParams& p : {pool(3, 3, 2, 2, 1, 1), pool(3, 2, 2, 1, 1, 1, 1, 1, true, false)}) {
        EXPECT_TRUE(
            passes_gradcheck([&](const TensorList& in) { return avg_pool2d(in[0].to(dev), p).to(Device::cpu()); },
                             {random_leaf({2, 1, 7, 6}, 12)}));
    }
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return adaptive_avg_pool2d(in[0].to(dev), 3, 4).to(Device::cpu()); },
        {random_leaf({1, 2, 5, 7}, 13)}));
}
