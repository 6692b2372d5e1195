// Kernel selection for matmul and convolution: thread-local overrides, then the environment (kernel_choice.h).
#include "kernels/cuda/kernel_choice.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/error.h"

namespace engine::cuda {
namespace {

thread_local std::optional<GemmImpl> gemm_override;
thread_local std::optional<ConvImpl> conv_override;
thread_local GemmImpl last_gemm = GemmImpl::Own;
thread_local ConvImpl last_conv = ConvImpl::Own;

// The environment variable's value, or nullptr when unset or empty.
const char* env_value(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

const char* gemm_impl_name(GemmImpl impl) { return impl == GemmImpl::Cublas ? "cublas" : "own"; }
const char* conv_impl_name(ConvImpl impl) { return impl == ConvImpl::Cudnn ? "cudnn" : "own"; }

bool vendor_libraries_available() { return ENGINE_WITH_CUDNN != 0; }

GemmImpl gemm_impl() {
    GemmImpl impl = GemmImpl::Cublas;
    if (gemm_override) {
        impl = *gemm_override;
    } else if (const char* value = env_value("ENGINE_CUDA_GEMM")) {
        ENGINE_CHECK(std::strcmp(value, "cublas") == 0 || std::strcmp(value, "own") == 0,
                     "ENGINE_CUDA_GEMM must be 'cublas' or 'own', got '", value, "'");
        impl = std::strcmp(value, "own") == 0 ? GemmImpl::Own : GemmImpl::Cublas;
    }
    return vendor_libraries_available() ? impl : GemmImpl::Own;
}

ConvImpl conv_impl() {
    ConvImpl impl = ConvImpl::Cudnn;
    if (conv_override) {
        impl = *conv_override;
    } else if (const char* value = env_value("ENGINE_CUDA_CONV")) {
        ENGINE_CHECK(std::strcmp(value, "cudnn") == 0 || std::strcmp(value, "own") == 0,
                     "ENGINE_CUDA_CONV must be 'cudnn' or 'own', got '", value, "'");
        impl = std::strcmp(value, "own") == 0 ? ConvImpl::Own : ConvImpl::Cudnn;
    }
    return vendor_libraries_available() ? impl : ConvImpl::Own;
}

bool allow_tf32() {
    const char* value = env_value("ENGINE_CUDA_ALLOW_TF32");
    return value != nullptr && std::strcmp(value, "0") != 0;
}

GemmImpl last_gemm_impl() { return last_gemm; }
ConvImpl last_conv_impl() { return last_conv; }
void record_gemm_impl(GemmImpl impl) { last_gemm = impl; }
void record_conv_impl(ConvImpl impl) { last_conv = impl; }

KernelChoiceGuard::KernelChoiceGuard(std::optional<GemmImpl> gemm, std::optional<ConvImpl> conv)
    : previous_gemm_(gemm_override), previous_conv_(conv_override) {
    if (gemm) gemm_override = gemm;
    if (conv) conv_override = conv;
}

KernelChoiceGuard::~KernelChoiceGuard() {
    gemm_override = previous_gemm_;
    conv_override = previous_conv_;
}

}  // namespace engine::cuda
