// CUDA random fills reproduce the CPU's Philox stream: uniform and Bernoulli values bit for bit, normal values
// to rounding, at any offset, so that dropout draws the same masks on both devices.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

::testing::AssertionResult identical(const Tensor& cuda_result, const Tensor& cpu_result) {
    const std::vector<double> a = cuda_result.to_vector<double>(), e = cpu_result.to_vector<double>();
    if (a.size() != e.size()) return ::testing::AssertionFailure() << "sizes differ";
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != e[i]) return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << e[i];
    }
    return ::testing::AssertionSuccess();
}

}  // namespace

TEST(CudaRandomTest, UniformAndBernoulliAreBitIdenticalToCpu) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (int64_t n : {1, 7, 257, 4099}) {
            for (uint64_t offset : {uint64_t{0}, uint64_t{12345}, (uint64_t{1} << 32) - 3}) {
                for (auto [kind, a, b] : {std::tuple{RandomKind::Uniform, 0.0, 1.0},
                                          std::tuple{RandomKind::Uniform, -2.5, 7.0},
                                          std::tuple{RandomKind::Bernoulli, 0.3, 0.0},
                                          std::tuple{RandomKind::Bernoulli, 0.9, 0.0}}) {
                    Tensor host = empty({n}, dt), dev = empty({n}, dt, cuda_device());
                    cpu_backend().random_(host, kind, a, b, 0xC0FFEE, offset);
                    gpu().random_(dev, kind, a, b, 0xC0FFEE, offset);
                    EXPECT_TRUE(identical(dev, host)) << dtype_name(dt) << " n=" << n << " offset " << offset;
                }
            }
        }
    }
}

TEST(CudaRandomTest, NormalMatchesCpuToRounding) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor host = empty({1025}, dt), dev = empty({1025}, dt, cuda_device());
        cpu_backend().random_(host, RandomKind::Normal, 1.5, 2.0, 42, 99);
        gpu().random_(dev, RandomKind::Normal, 1.5, 2.0, 42, 99);
        EXPECT_TRUE(matches_cpu(dev, host, 1e-6, dt == DType::Float32 ? 1e-6 : 1e-12));
    }
}

TEST(CudaRandomTest, DropoutDrawsTheCpuMask) {
    REQUIRE_CUDA_DEVICE();
    const Tensor x = random_tensor({33, 31}, 1, DType::Float32, 0.5, 1.5);  // nonzero, so zeros mark drops
    Generator cpu_gen(2024), gpu_gen(2024);
    for (int step = 0; step < 3; ++step) {  // successive draws advance both offsets alike
        const Tensor expected = dropout(x, 0.3, true, cpu_gen);
        const Tensor actual = dropout(to_cuda(x), 0.3, true, gpu_gen);
        EXPECT_TRUE(identical(actual, expected)) << "step " << step;
    }
    EXPECT_EQ(cpu_gen.offset(), gpu_gen.offset());
}
