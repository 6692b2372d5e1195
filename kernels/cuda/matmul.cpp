// Matrix products on the CUDA backend: cuBLAS in the real build (unless ENGINE_CUDA_GEMM=own or a
// KernelChoiceGuard says otherwise), else our GEMM (gemm.cu), which reads any strides directly.
#include "runtime/cuda_api.h"

#include <algorithm>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/gemm.h"
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
    ENGINE_DISPATCH_FLOATING(a.dtype(), "matmul",
                             [&] { matmul_own<scalar_t>(a, b, out, batch, m, n, k, device_index_, stream); });
    return out;
}

}  // namespace engine::cuda
