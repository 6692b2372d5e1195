// Our GEMM on the CUDA device (kernels/cuda/gemm.cu): C = alpha * A @ B (+ bias per row) (+ beta * C) for float
// and double, with any strides, batched, and with B optionally read straight out of an image as the im2col
// matrix of a convolution (implicit GEMM, no im2col buffer). The matmul and convolution paths describe their
// products with GemmArgs; gemm() picks the tiles and the K split and launches.
#pragma once

#include <cstdint>

#include "runtime/cuda_api.h"

namespace engine::cuda {

// How B is read. Dense: a strided matrix. Im2col: B (C*KH*KW x OH*OW) is the im2col matrix of one image of a
// convolution's input (rows c*KH*KW + kh*KW + kw, columns oh*OW + ow). Im2colT: B (N*OH*OW x C*KH*KW) is the
// transpose of the im2col matrices of all images stacked, for the weight gradient.
enum class BKind { Dense, Im2col, Im2colT };

// A strided operand. Dense element (i, j) of a (rows x cols) matrix is at ptr[i * s0 + j * s1], except that for
// A with col_period > 0 the column index j is split as (j / col_period, j % col_period) at strides (s_col_outer,
// s1): the weight gradient's A runs over (image, pixel). For im2col operands ptr is the (group's) first channel of
// image 0.
template <class T>
struct Operand {
    const T* ptr = nullptr;
    int64_t s0 = 0, s1 = 0;
    int64_t col_period = 0, s_col_outer = 0;
    int64_t batch_outer = 0, batch_inner = 0;  // offset of batch (outer, inner), see GemmArgs
};

// A convolution's geometry as the im2col operand sees it (per group: c is the group's channel count).
struct Im2colGeometry {
    int64_t c = 0, h = 0, w = 0;
    int64_t kh = 1, kw = 1, oh = 1, ow = 1;
    int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
    int64_t image_stride = 0;  // between images of the input (Im2colT, whose rows span every image)
};

// Batches are numbered (outer, inner) with inner in [0, inner_count): e.g. (image, group) for a convolution.
// C is written at c + outer * c_outer + inner * c_inner, row-major with leading dimension ldc; c_size is the
// number of elements of the whole output region (all batches), which must be dense when the product is split
// along K (the partial sums then go to a workspace and are added up afterwards).
template <class T>
struct GemmArgs {
    int64_t m = 0, n = 0, k = 0;
    int64_t outer_count = 1, inner_count = 1;
    Operand<T> a, b;
    Im2colGeometry conv;
    T* c = nullptr;
    int64_t ldc = 0, c_outer = 0, c_inner = 0, c_size = 0;
    const T* bias = nullptr;  // row i of batch (outer, inner) adds bias[inner * bias_inner + i]
    int64_t bias_inner = 0;
    T alpha = 1, beta = 0;  // beta == 0 never reads C
    // Set by gemm(): the K split and how the tiles are read and written.
    int64_t splits = 1, k_per_split = 0, c_split = 0;
    bool a_col_fast = true, a_vec = false, b_col_fast = true, b_vec = false, c_vec = false;
};

// Runs the product on `stream` of `device` (the current device). `op` labels errors. k == 0 gives
// C = beta * C (+ bias).
template <class T>
void gemm(GemmArgs<T> args, BKind b_kind, int device, cudaStream_t stream, const char* op);

}  // namespace engine::cuda
