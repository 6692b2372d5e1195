// Helpers for the CUDA backend tests. The same sources build two binaries: cuda_tests (the real device; every
// test skips with a visible message when there is none) and cuda_emu_tests (the emulated device, present on
// every machine). A test computes an op on the CPU backend and on the CUDA device from the same inputs and
// compares.
#pragma once

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "kernels/backend.h"
#include "runtime/cuda_device.h"

namespace engine::test {

inline Device cuda_device() { return Device::cuda(0); }

inline bool is_emulated_cuda() { return ENGINE_CUDA_EMULATION != 0; }

// First statement of every test that needs a device.
#define REQUIRE_CUDA_DEVICE()                                                                              \
    do {                                                                                                   \
        if (!::engine::cuda::is_available())                                                               \
            GTEST_SKIP() << "no CUDA device (" << ::engine::cuda::unavailable_reason() << "): skipped";     \
    } while (0)

// Fixtures of the suites whose every test needs a device.
class CudaTest : public ::testing::Test {
protected:
    void SetUp() override { REQUIRE_CUDA_DEVICE(); }
};

template <class Param>
class CudaParamTest : public ::testing::TestWithParam<Param> {
protected:
    void SetUp() override { REQUIRE_CUDA_DEVICE(); }
};

// The device's backend, for the tests that call kernels directly.
inline Backend& gpu() { return backend_for(cuda_device()); }

inline Tensor to_cuda(const Tensor& t) { return t.to(cuda_device()); }

// Every dtype, for the ops that take any.
inline constexpr DType kAllDTypes[] = {DType::Float32, DType::Float64, DType::Int64,
                                       DType::Int32,   DType::UInt8,   DType::Bool};

// Random values that `dt` holds exactly: uniform in [-1, 1) for floats, 0 / 1 for bool, integers in [0, 100).
inline Tensor random_values(const Shape& shape, uint64_t seed, DType dt) {
    if (dt == DType::Float32 || dt == DType::Float64) return random_tensor(shape, seed, dt);
    if (dt == DType::Bool) return random_tensor(shape, seed, DType::Float64, 0.0, 2.0).to(DType::Int64).to(dt);
    return random_tensor(shape, seed, DType::Float64, 0.0, 100.0).to(dt);
}

// The CUDA result, brought back to the CPU, against the CPU backend's result (same dtype and shape).
inline ::testing::AssertionResult matches_cpu(const Tensor& cuda_result, const Tensor& cpu_result,
                                              double atol = 1e-5, double rtol = 1e-5) {
    if (!cuda_result.device().is_cuda()) return ::testing::AssertionFailure() << "result is not on the CUDA device";
    if (cuda_result.dtype() != cpu_result.dtype()) {
        return ::testing::AssertionFailure() << "dtype " << dtype_name(cuda_result.dtype()) << " vs CPU "
                                             << dtype_name(cpu_result.dtype());
    }
    return all_close(cuda_result.to(Device::cpu()), cpu_result, atol, rtol);
}

}  // namespace engine::test
