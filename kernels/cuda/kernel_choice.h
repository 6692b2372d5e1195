// Which implementation the CUDA backend uses for matmul (cuBLAS or our GEMM) and convolution (cuDNN or our
// implicit-GEMM kernels). Precedence: a KernelChoiceGuard on this thread, then the settings (ENGINE_CUDA_GEMM,
// ENGINE_CUDA_CONV, runtime/settings.h), whose default is the vendor library. Builds without the vendor libraries
// (the emulated one) always run our kernels; asking them for the vendor path is not an error.
// ENGINE_CUDA_ALLOW_TF32 lets cuBLAS, cuDNN and our tensor-core GEMM use TF32 for float32 (off by default, so
// that float32 results match the CPU backend to float32 rounding).
//
// KernelChoiceGuard is not a second way to override the settings: it is per thread and part of the kernels'
// API, so that code (bench_cuda) runs both paths side by side; ScopedSetting changes the process-wide default
// beneath it.
#pragma once

#include <optional>

#include "runtime/settings.h"

namespace engine::cuda {

// GemmImpl and ConvImpl are declared with the settings that choose them (runtime/settings.h).

const char* gemm_impl_name(GemmImpl impl);
const char* conv_impl_name(ConvImpl impl);

// Whether cuBLAS and cuDNN are compiled in (the real CUDA build).
bool vendor_libraries_available();

// What the next matmul / convolution on this thread will use (never a vendor path when it is unavailable).
// A bad value in the environment throws engine::Error naming it and the accepted values (runtime/settings.h).
GemmImpl gemm_impl();
ConvImpl conv_impl();
bool allow_tf32();

// What the last matmul / convolution on this thread ran: a vendor path hands problems it cannot take (sizes beyond
// int, no usable algorithm) to our kernels. Recorded by the backend; read by tests and the bench.
GemmImpl last_gemm_impl();
ConvImpl last_conv_impl();
void record_gemm_impl(GemmImpl impl);
void record_conv_impl(ConvImpl impl);

// Overrides the choice for this thread while alive; std::nullopt leaves that choice as it was. Guards nest.
class KernelChoiceGuard {
public:
    explicit KernelChoiceGuard(std::optional<GemmImpl> gemm, std::optional<ConvImpl> conv = std::nullopt);
    explicit KernelChoiceGuard(ConvImpl conv) : KernelChoiceGuard(std::nullopt, conv) {}
    ~KernelChoiceGuard();
    KernelChoiceGuard(const KernelChoiceGuard&) = delete;
    KernelChoiceGuard& operator=(const KernelChoiceGuard&) = delete;

private:
    std::optional<GemmImpl> previous_gemm_;
    std::optional<ConvImpl> previous_conv_;
};

}  // namespace engine::cuda
