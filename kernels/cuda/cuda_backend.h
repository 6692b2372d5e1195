// The CUDA backend. This first version proves the device plumbing (allocation, transfers, a hand-written
// kernel launched with checks); the CUDA backend issue overrides the remaining ops.
#pragma once

#include "kernels/backend.h"

namespace engine {

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device_index) : device_index_(device_index) {}
    const char* name() const override { return "cuda"; }

    void fill_(Tensor& out, double value) override;
    void copy_(Tensor& dst, const Tensor& src) override;

private:
    int device_index_;
};

// One backend per device ordinal; the caller has checked that the device exists.
Backend& cuda_backend(int device_index);

}  // namespace engine
