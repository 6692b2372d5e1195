// Helpers for the CUDA backend tests. The same sources build two binaries: cuda_tests (the real device; every
// test skips with a visible message when there is none) and cuda_emu_tests (the emulated device, present on
// every machine). A test computes an op on the CPU backend and on the CUDA device from the same inputs and
// compares.
#pragma once

#include <gtest/gtest.h>

#include "common/test_util.h"
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

inline Tensor to_cuda(const Tensor& t) { return t.to(cuda_device()); }

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
