// Matrix products on the CPU: float32 through oneDNN's sgemm (when built with oneDNN), everything else through
// our own blocked GEMM. Strided operands are passed as they are whenever a BLAS layout can describe them.
#include <algorithm>
#include <optional>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/gemm.h"
#include "kernels/matrix_arg.h"
#include "runtime/parallel.h"

#if ENGINE_WITH_ONEDNN
#include <dnnl.h>
#endif

namespace engine::cpu {
namespace {

// Products smaller than this (in multiply-adds) run one matrix per thread across the batch.
constexpr int64_t kSmallGemm = int64_t{1} << 21;

// Runs gemm_one(b) for every batch index, in parallel across the batch when each product is small.
template <class F>
void for_each_batch(int64_t batch, int64_t work_per_item, const F& gemm_one) {
    if (batch > 1 && work_per_item < kSmallGemm) {
        const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, work_per_item));
        parallel_for(0, batch, grain, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) gemm_one(b);
        });
    } else {
        for (int64_t b = 0; b < batch; ++b) gemm_one(b);
    }
}

template <class T>
void matmul_own(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k) {
    const MatrixArg ma = matrix_arg(a), mb = matrix_arg(b);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    for_each_batch(batch, m * n * k, [&](int64_t i) {
        gemm<T>(m, n, k, {pa + i * ma.batch_stride, ma.row_stride, ma.col_stride},
                {pb + i * mb.batch_stride, mb.row_stride, mb.col_stride}, pc + i * m * n, n, false);
    });
}

#if ENGINE_WITH_ONEDNN
// Below this, sgemm's thread team costs more than the product (64x10x84 takes ~3 us on one thread and ~5 us
// on two): our GEMM runs it on the calling thread.
constexpr int64_t kTinyGemm = int64_t{1} << 16;

// How sgemm reads a rows x cols operand: row-major ('N', ld = row stride) or a transposed row-major matrix
// ('T', ld = column stride). nullopt when the strides fit neither (then the operand is copied).
struct BlasLayout {
    char trans;
    int64_t ld;
};

std::optional<BlasLayout> blas_layout(int64_t rows, int64_t cols, const MatrixArg& m) {
    if (m.col_stride == 1 && m.row_stride >= std::max<int64_t>(1, cols)) return BlasLayout{'N', m.row_stride};
    if (m.row_stride == 1 && m.col_stride >= std::max<int64_t>(1, rows)) return BlasLayout{'T', m.col_stride};
    if (rows == 1 && m.col_stride >= 1) return BlasLayout{'T', m.col_stride};  // a row read with a stride
    return std::nullopt;
}

void matmul_sgemm(const Tensor& a_in, const Tensor& b_in, Tensor& out, int64_t batch, int64_t m, int64_t n,
                  int64_t k) {
    Tensor a = a_in, b = b_in;
    std::optional<BlasLayout> la = blas_layout(m, k, matrix_arg(a));
    if (!la) {
        a = dense(a);
        la = blas_layout(m, k, matrix_arg(a));
    }
    std::optional<BlasLayout> lb = blas_layout(k, n, matrix_arg(b));
    if (!lb) {
        b = dense(b);
        lb = blas_layout(k, n, matrix_arg(b));
    }
    const int64_t stride_a = matrix_arg(a).batch_stride, stride_b = matrix_arg(b).batch_stride;
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* pc = out.data<float>();
    for_each_batch(batch, m * n * k, [&](int64_t i) {
        const dnnl_status_t status = dnnl_sgemm(la->trans, lb->trans, m, n, k, 1.0f, pa + i * stride_a, la->ld,
                                                pb + i * stride_b, lb->ld, 0.0f, pc + i * m * n, n);
        ENGINE_CHECK(status == dnnl_success, "matmul: dnnl_sgemm failed with status ", static_cast<int>(status),
                     " for (", m, " x ", k, ") @ (", k, " x ", n, ")");
    });
}
#endif

}  // namespace

Tensor CpuBackend::matmul(const Tensor& a, const Tensor& b) {
    if (is_half(a.dtype()))  // the product of the exact float values, accumulated in float, rounded once
        return in_float32(*this, a.dtype(), {a, b}, [&](const std::vector<Tensor>& f) { return matmul(f[0], f[1]); });
    const int64_t d = a.dim();
    const int64_t batch = d == 3 ? a.size(0) : 1;
    const int64_t m = a.size(d - 2), k = a.size(d - 1), n = b.size(d - 1);
    Tensor out = d == 3 ? empty({batch, m, n}, a.dtype()) : empty({m, n}, a.dtype());
    if (out.numel() == 0) return out;
    if (k == 0) {
        fill_(out, 0.0);
        return out;
    }
#if ENGINE_WITH_ONEDNN
    if (a.dtype() == DType::Float32 && m * n * k >= kTinyGemm) {
        matmul_sgemm(a, b, out, batch, m, n, k);
        return out;
    }
#endif
    ENGINE_DISPATCH_FLOATING(a.dtype(), "matmul", [&] { matmul_own<scalar_t>(a, b, out, batch, m, n, k); });
    return out;
}

}  // namespace engine::cpu
