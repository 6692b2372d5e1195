// Our own cache-blocked GEMM (operand packing + a register-tiled micro-kernel), used for float64 and for float32
// in builds without oneDNN. Operands are described by element strides, so transposed views need no copy.
#pragma once

#include <cstdint>

namespace engine::cpu {

// Element (i, j) of the matrix is data[i * row_stride + j * col_stride].
template <class T>
struct GemmOperand {
    const T* data;
    int64_t row_stride;
    int64_t col_stride;
};

// C (m x n, row stride ldc, unit column stride) = A (m x k) * B (k x n), or C += A * B when `accumulate`.
// Runs on all threads unless called inside a parallel region (then on the calling thread only).
template <class T>
void gemm(int64_t m, int64_t n, int64_t k, GemmOperand<T> a, GemmOperand<T> b, T* c, int64_t ldc, bool accumulate);

extern template void gemm<float>(int64_t, int64_t, int64_t, GemmOperand<float>, GemmOperand<float>, float*, int64_t,
                                 bool);
extern template void gemm<double>(int64_t, int64_t, int64_t, GemmOperand<double>, GemmOperand<double>, double*,
                                  int64_t, bool);

}  // namespace engine::cpu
