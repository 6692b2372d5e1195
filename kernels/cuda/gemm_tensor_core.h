// Our tensor-core GEMM (kernels/cuda/gemm_tensor_core.cu): C = alpha * A @ B + beta * C with fp32 accumulation,
// for A and B in bfloat16 or float16 (mma.sync m16n8k16) or float32 read as TF32 (m16n8k8, each input rounded
// to TF32 as cuBLAS's TF32 mode does), C in float32 or in the inputs' 16-bit type. Row-major A (M x K) and
// B (K x N) with any leading dimensions, batched by element strides; sizes need not be multiples of the tiles.
#pragma once

#include <cstdint>

#include "runtime/cuda_api.h"

namespace engine::cuda {

template <class In, class Out>
struct TensorCoreGemm {
    int64_t m = 0, n = 0, k = 0, batch = 1;
    const In* a = nullptr;
    int64_t lda = 0, a_batch = 0;
    const In* b = nullptr;
    int64_t ldb = 0, b_batch = 0;
    Out* c = nullptr;
    int64_t ldc = 0, c_batch = 0;
    float alpha = 1, beta = 0;  // beta == 0 never reads C
};

// Launches on `stream` of the current device; `op` labels errors. In: float (TF32), bfloat16 or float16; Out:
// float or In.
template <class In, class Out>
void gemm_tensor_core(const TensorCoreGemm<In, Out>& p, cudaStream_t stream, const char* op);

}  // namespace engine::cuda
