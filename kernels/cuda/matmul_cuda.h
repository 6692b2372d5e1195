// Internal interface of the CUDA backend's matmul: operands as BLAS-style strided matrices (MatrixArg,
// kernels/matrix_arg.h), our GEMM (matmul.cpp) and cuBLAS (cublas_matmul.cpp, real build only).
#pragma once

#include <cstdint>

#include "kernels/matrix_arg.h"
#include "runtime/cuda_api.h"
#include "runtime/tensor.h"

namespace engine::cuda {

#if ENGINE_WITH_CUDNN
// out (batch, m, n) = a @ b with cuBLAS; false when cuBLAS cannot take the sizes (beyond int).
bool matmul_cublas(const Tensor& a, const Tensor& b, Tensor& out, int64_t batch, int64_t m, int64_t n, int64_t k,
                   int device, cudaStream_t stream);
#endif

}  // namespace engine::cuda
