// The CUDA backend: the same Backend interface as the CPU, implemented with hand-written kernels
// (kernels/cuda/*.cu, launched through launch.cuh), cuDNN convolutions and cuBLAS matmuls in the real build,
// and our own GEMM and convolution kernels (always available, and the only ones in the emulated build).
// It declares every op of kernels/backend_ops.def and defines each in this folder's file of the op's family
// (kernels/cuda/<family>.cu); everything of this folder is in engine::cuda.
#pragma once

#include "kernels/backend.h"

namespace engine::cuda {

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device_index) : device_index_(device_index) {}
    const char* name() const override { return "cuda"; }
    int device_index() const { return device_index_; }

#define ENGINE_BACKEND_OP(ret, op, params, ...) ret op params override;
#include "kernels/backend_ops.def"
#undef ENGINE_BACKEND_OP

private:
    int device_index_;
};

// One backend per device ordinal; the caller has checked that the device exists.
Backend& backend(int device_index);

}  // namespace engine::cuda
