// The CUDA backend: the same Backend interface as the CPU, implemented with hand-written kernels
// (kernels/cuda/*.cu, launched through launch.cuh), cuDNN convolutions and cuBLAS matmuls in the real build,
// and our own GEMM and convolution kernels (always available, and the only ones in the emulated build).
// Each op family lives in its own .cu file; this class only lists what is overridden.
#pragma once

#include "kernels/backend.h"

namespace engine {

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device_index) : device_index_(device_index) {}
    const char* name() const override { return "cuda"; }
    int device_index() const { return device_index_; }

    // --- memory, elementwise, reductions, softmax, losses, randomness, optimizer steps
    void fill_(Tensor& out, double value) override;
    void copy_(Tensor& dst, const Tensor& src) override;

    // --- pooling, batch norm, interpolation, shape and index ops

    // --- matmul and convolution

private:
    int device_index_;
};

// One backend per device ordinal; the caller has checked that the device exists.
Backend& cuda_backend(int device_index);

}  // namespace engine
