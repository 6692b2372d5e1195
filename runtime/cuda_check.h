// Checks for CUDA runtime calls and kernel launches: a failure becomes a DeviceError that names the op and
// carries the CUDA message. Only included by CUDA-enabled sources.
#pragma once

#include "runtime/cuda_api.h"

#include "runtime/error.h"

#define ENGINE_CUDA_CHECK(expr, ...)                                                                     \
    do {                                                                                                 \
        const cudaError_t engine_cuda_status_ = (expr);                                                  \
        if (engine_cuda_status_ != cudaSuccess) {                                                        \
            throw ::engine::DeviceError(::engine::detail::concat(__VA_ARGS__, ": ", #expr, " failed: ", \
                                                                 cudaGetErrorString(engine_cuda_status_))); \
        }                                                                                                \
    } while (0)

// After every <<<...>>>: launch configuration errors surface here, asynchronous faults at the next sync.
#define ENGINE_CUDA_CHECK_LAUNCH(...) ENGINE_CUDA_CHECK(cudaGetLastError(), __VA_ARGS__)
