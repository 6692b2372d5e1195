// matmul through cuBLAS (real build only). cuBLAS is column-major: the row-major product C = A @ B is computed as
// C^T = B^T @ A^T, which reads the same memory with the operands swapped. Strided operands go in as they are
// when a transposed-or-not layout with a leading dimension describes them, else as contiguous copies.
#if ENGINE_WITH_CUDNN

#include "runtime/cuda_api.h"

#include <cublas_v2.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "kernels/cuda/kernel_choice.h"
#include "kernels/cuda/matmul_cuda.h"
#include "kernels/backend.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {
namespace {

std::string status_text(cublasStatus_t status) {
    return detail::concat(cublasGetStatusName(status), " (", cublasGetStatusString(status), ")");
}

#define ENGINE_CUBLAS_CHECK(expr, ...)                                                                          \
    do {                                                                                                        \
        const cublasStatus_t engine_cublas_status_ = (expr);                                                    \
        if (engine_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                                   \
            throw ::engine::DeviceError(::engine::detail::concat(__VA_ARGS__, ": ", #expr, " failed: ",        \
                                                                 status_text(engine_cublas_status_)));          \
        }                                                                                                       \
    } while (0)

// One handle per device and thread (cuBLAS handles are not meant to be shared between concurrent threads);
// the stream is set on every call.
class CublasHandle {
public:
    explicit CublasHandle(int device) {
        ENGINE_CUDA_CHECK(cudaSetDevice(device), "cublasCreate");
        ENGINE_CUBLAS_CHECK(cublasCreate(&handle_), "matmul: creating the cuBLAS handle on cuda:", device);
    }
    ~CublasHandle() {
        if (handle_ != nullptr) cublasDestroy(handle_);
    }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
    cublasHandle_t get() const { return handle_; }

private:
    cublasHandle_t handle_ = nullptr;
};

cublasHandle_t handle_for(int device, cudaStream_t stream) {
    thread_local std::unordered_map<int, std::unique_ptr<CublasHandle>> handles;
    auto& slot = handles[device];
    if (!slot) slot = std::make_unique<CublasHandle>(device);
    ENGINE_CUBLAS_CHECK(cublasSetStream(slot->get(), stream), "matmul: cublasSetStream");
    return slot->get();
}

// How a rows x cols operand reads in column-major terms: row-major (op N of the swapped product, ld = row
// stride) or column-major (op T, ld = column stride).
struct BlasLayout {
    cublasOperation_t op;
    int64_t ld;
};

std::optional<BlasLayout> blas_layout(int64_t rows, int64_t cols, const MatrixArg& m) {
    if (m.col_stride == 1 && m.row_stride >= std::max<int64_t>(1, cols)) return BlasLayout{CUBLAS_OP_N, m.row_stride};
    if (m.row_stride == 1 && m.col_stride >= std::max<int64_t>(1, rows)) return BlasLayout{CUBLAS_OP_T, m.col_stride};
    return std::nullopt;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

template <class T>
cublasStatus_t gemm_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                    const T* alpha, const T* a, int lda, long long sa, const T* b, int ldb,
                                    long long sb, const T* beta, T* c, int ldc, long long sc, int batch) {
    if constexpr (std::is_same_v<T, float>) {
        if (batch == 1) return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
    } else {
        if (batch == 1) return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return cublasDgemmStridedBatched(h, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
    }
}

// bfloat16 / float16 operands and result, fp32 accumulation (CUBLAS_COMPUTE_32F; tensor cores by default).
template <class T>
cublasStatus_t gemm_ex_strided_batched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                       int k, const T* a, int lda, long long sa, const T* b, int ldb, long long sb,
                                       T* c, int ldc, long long sc, int batch) {
    const cudaDataType_t type = std::is_same_v<T, bfloat16> ? CUDA_R_16BF : CUDA_R_16F;
    const float alpha = 1, beta = 0;
    return cublasGemmStridedBatchedEx(h, ta, tb, m, n, k, &alpha, a, type, lda, sa, b, type, ldb, sb, &beta, c, type,
                                      ldc, sc, batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
}

template <class T>
bool run(const Tensor& a_in, const Tensor& b_in, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k,
         int device, cudaStream_t stream) {
    if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(batch)) return false;
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
    if (!la || !lb || !fits_int(la->ld) || !fits_int(lb->ld)) return false;
    cublasHandle_t handle = handle_for(device, stream);
    const bool tf32 = std::is_same_v<T, float> && allow_tf32();
    ENGINE_CUBLAS_CHECK(cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                        "matmul: cublasSetMathMode");
    const int ldb = static_cast<int>(lb->ld), lda = static_cast<int>(la->ld);
    const long long sb = matrix_arg(b).batch_stride, sa = matrix_arg(a).batch_stride;
    cublasStatus_t status;
    if constexpr (std::is_same_v<T, bfloat16> || std::is_same_v<T, float16>) {
        status = gemm_ex_strided_batched<T>(handle, lb->op, la->op, static_cast<int>(n), static_cast<int>(m),
                                            static_cast<int>(k), b.data<T>(), ldb, sb, a.data<T>(), lda, sa,
                                            out.data<T>(), static_cast<int>(n), m * n, static_cast<int>(batch));
    } else {
        const T alpha = 1, beta = 0;
        status = gemm_strided_batched<T>(handle, lb->op, la->op, static_cast<int>(n), static_cast<int>(m),
                                         static_cast<int>(k), &alpha, b.data<T>(), ldb, sb, a.data<T>(), lda, sa,
                                         &beta, out.data<T>(), static_cast<int>(n), m * n, static_cast<int>(batch));
    }
    ENGINE_CUBLAS_CHECK(status, "matmul (", batch, " x ", m, " x ", k, ") @ (", k, " x ", n, ") ",
                        dtype_name(out.dtype()), " on cuda:", device);
    return true;
}

}  // namespace

bool matmul_cublas(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k,
                   int device, cudaStream_t stream) {
    if (a.dtype() == DType::Float32) return run<float>(a, b, out, batch, m, n, k, device, stream);
    if (a.dtype() == DType::Float64) return run<double>(a, b, out, batch, m, n, k, device, stream);
    if (a.dtype() == DType::BFloat16) return run<bfloat16>(a, b, out, batch, m, n, k, device, stream);
    if (a.dtype() == DType::Float16) return run<float16>(a, b, out, batch, m, n, k, device, stream);
    return false;
}

}  // namespace engine::cuda

#endif  // ENGINE_WITH_CUDNN
