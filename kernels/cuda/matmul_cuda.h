// Internal interface of the CUDA backend's matmul: operands as BLAS-style strided matrices, our GEMM
// (matmul.cpp) and cuBLAS (cublas_matmul.cpp, real build only).
#pragma once

#include <cstdint>

#include "runtime/cuda_api.h"
#include "runtime/tensor.h"

namespace engine::cuda_matmul {

// A (B, rows, cols) or (rows, cols) operand as batch stride + matrix strides; size-1 dims get strides that make
// the layout plain (their stride is arbitrary in a view).
struct MatrixArg {
    int64_t batch_stride, row_stride, col_stride;
};
MatrixArg matrix_arg(const Tensor& t);

#if ENGINE_WITH_CUDNN
// out (batch, m, n) = a @ b with cuBLAS; false when cuBLAS cannot take the sizes (beyond int).
bool matmul_cublas(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k,
                   int device, cudaStream_t stream);
#endif

}  // namespace engine::cuda_matmul
