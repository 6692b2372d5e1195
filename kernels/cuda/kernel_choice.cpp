// Kernel selection for matmul and convolution: thread-local overrides, then the settings (kernel_choice.h).
#include "kernels/cuda/kernel_choice.h"

namespace engine::cuda {
namespace {

thread_local std::optional<GemmImpl> gemm_override;
thread_local std::optional<ConvImpl> conv_override;
thread_local GemmImpl last_gemm = GemmImpl::Own;
thread_local ConvImpl last_conv = ConvImpl::Own;

}  // namespace

const char* gemm_impl_name(GemmImpl impl) { return impl == GemmImpl::Cublas ? "cublas" : "own"; }
const char* conv_impl_name(ConvImpl impl) { return impl == ConvImpl::Cudnn ? "cudnn" : "own"; }

bool vendor_libraries_available() { return ENGINE_WITH_CUDNN != 0; }

GemmImpl gemm_impl() {
    const GemmImpl impl = gemm_override ? *gemm_override : setting(&Settings::cuda_gemm);
    return vendor_libraries_available() ? impl : GemmImpl::Own;
}

ConvImpl conv_impl() {
    const ConvImpl impl = conv_override ? *conv_override : setting(&Settings::cuda_conv);
    return vendor_libraries_available() ? impl : ConvImpl::Own;
}

bool allow_tf32() { return setting(&Settings::cuda_allow_tf32); }

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
