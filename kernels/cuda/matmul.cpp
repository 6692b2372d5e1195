// Matrix products on the CUDA backend: cuBLAS in the real build (unless ENGINE_CUDA_GEMM=own or a
// KernelChoiceGuard says otherwise), else our GEMM (gemm.cu), which reads any strides directly. bfloat16 and
// float16 products, and float32 ones with our GEMM when TF32 is allowed (ENGINE_CUDA_ALLOW_TF32), run on our
// tensor-core GEMM (gemm_tensor_core.cu) with fp32 accumulation.
#include "runtime/cuda_api.h"

#include <algorithm>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/gemm_tensor_core.h"
#include "kernels/cuda/kernel_choice.h"
#include "kernels/cuda/matmul_cuda.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {
namespace {

template <class T>
void matmul_own(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k,
                int device, cudaStream_t stream) {
    const MatrixArg ma = matrix_arg(a), mb = matrix_arg(b);
    GemmArgs<T> p;
    p.m = m;
    p.n = n;
    p.k = k;
    p.outer_count = batch;
    p.a.ptr = a.data<T>();
    p.a.s0 = ma.row_stride;
    p.a.s1 = ma.col_stride;
    p.a.batch_outer = ma.batch_stride;
    p.b.ptr = b.data<T>();
    p.b.s0 = mb.row_stride;
    p.b.s1 = mb.col_stride;
    p.b.batch_outer = mb.batch_stride;
    p.c = out.data<T>();
    p.ldc = n;
    p.c_outer = m * n;
    p.c_size = batch * m * n;
    gemm(p, BKind::Dense, device, stream, "matmul");
}

// Row-major operands (dense copies where the rows are not contiguous) into the tensor-core kernel; C in T.
template <class T>
void matmul_tensor_core(const Tensor& a_in, const Tensor& b_in, Tensor& out, int64_t batch, int64_t m, int64_t n,
                        int64_t k, cudaStream_t stream) {
    const Tensor a = dense(a_in), b = dense(b_in);
    TensorCoreGemm<T, T> p;
    p.m = m, p.n = n, p.k = k, p.batch = batch;
    p.a = static_cast<const T*>(a.raw_data()), p.lda = k, p.a_batch = a.dim() == 3 ? m * k : 0;
    p.b = static_cast<const T*>(b.raw_data()), p.ldb = n, p.b_batch = b.dim() == 3 ? k * n : 0;
    p.c = static_cast<T*>(out.raw_data()), p.ldc = n, p.c_batch = m * n;
    gemm_tensor_core(p, stream, "matmul");
}

}  // namespace

Tensor CudaBackend::matmul(const Tensor& a, const Tensor& b) {
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "matmul");
    const int64_t d = a.dim();
    const int64_t batch = d == 3 ? a.size(0) : 1;
    const int64_t m = a.size(d - 2), k = a.size(d - 1), n = b.size(d - 1);
    Tensor out = empty(d == 3 ? Shape{batch, m, n} : Shape{m, n}, a.dtype(), Device::cuda(device_index_));
    if (out.numel() == 0) return out;
    const cudaStream_t stream = current_stream(device_index_);
#if ENGINE_WITH_CUDNN
    if (k > 0 && gemm_impl() == GemmImpl::Cublas && matmul_cublas(a, b, out, batch, m, n, k, device_index_, stream)) {
        record_gemm_impl(GemmImpl::Cublas);
        return out;
    }
#endif
    record_gemm_impl(GemmImpl::Own);
    if (a.dtype() == DType::BFloat16) {
        matmul_tensor_core<bfloat16>(a, b, out, batch, m, n, k, stream);
        return out;
    }
    if (a.dtype() == DType::Float16) {
        matmul_tensor_core<float16>(a, b, out, batch, m, n, k, stream);
        return out;
    }
    if (a.dtype() == DType::Float32 && allow_tf32()) {
        matmul_tensor_core<float>(a, b, out, batch, m, n, k, stream);
        return out;
    }
    ENGINE_DISPATCH_FLOATING(a.dtype(), "matmul",
                             [&] { matmul_own<scalar_t>(a, b, out, batch, m, n, k, device_index_, stream); });
    return out;
}

}  // namespace engine::cuda
