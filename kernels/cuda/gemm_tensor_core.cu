// The tensor-core GEMM (see gemm_tensor_core.h). One block computes a 128 x 128 tile of C with 8 warps of
// 64 x 32 each; K advances 32 at a time through a 3-stage cp.async pipeline in dynamic shared memory, so the
// loads of tile t + 2 overlap the mma.sync of tile t. Fragments come out of shared memory through ldmatrix
// (16-bit inputs; B transposed on the way) or 32-bit loads (TF32). Shared memory rows are stored as 16-byte
// chunks at XOR-swizzled positions, so that the 8 rows one ldmatrix phase (or one fragment load) reads fall in
// distinct banks:
//   16-bit A (4 chunks a row):  chunk ^ ((row >> 1) & 3)    16-bit B (16 chunks a row): chunk ^ (row & 7)
//   TF32   A (8 chunks a row):  chunk ^ (row & 7)           TF32   B (32 chunks a row): chunk ^ ((row & 3) << 1)
// Edges: a chunk that runs past K or N is zero-filled by cp.async's source size, rows past M or K load nothing.
// A or B whose rows are not 16-byte aligned take the same kernel with plain loads instead of cp.async.
#include "kernels/cuda/gemm_tensor_core.h"

#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_core.cuh"
#include "runtime/cuda/emu/shared_memory.cuh"
#include "runtime/cuda_check.h"
#include "runtime/error.h"
#include "runtime/half.h"

namespace engine::cuda {
namespace {

constexpr int kBM = 128, kBN = 128, kBK = 32, kStages = 3, kThreads = 256;
constexpr int kWarpM = 64, kWarpN = 32;  // 2 x 4 warps

template <class In>
struct Tiles {
    static constexpr int kElems = 16 / static_cast<int>(sizeof(In));  // per 16-byte chunk: 8 halves or 4 floats
    static constexpr int kAStage = kBM * kBK, kBStage = kBK * kBN;    // elements per pipeline stage
    static constexpr size_t kSharedBytes = kStages * (kAStage + kBStage) * sizeof(In);
};

template <class In>
__device__ inline int a_chunk(int row, int chunk) {
    if constexpr (sizeof(In) == 2) {
        return chunk ^ ((row >> 1) & 3);
    } else {
        return chunk ^ (row & 7);
    }
}

template <class In>
__device__ inline int b_chunk(int row, int chunk) {
    if constexpr (sizeof(In) == 2) {
        return chunk ^ (row & 7);
    } else {
        return chunk ^ ((row & 3) << 1);
    }
}

// Element (row, col) of a stage of A (kBM x kBK) or B (kBK x kBN).
template <class In>
__device__ inline int a_at(int row, int col) {
    constexpr int e = Tiles<In>::kElems;
    return row * kBK + a_chunk<In>(row, col / e) * e + col % e;
}
template <class In>
__device__ inline int b_at(int row, int col) {
    constexpr int e = Tiles<In>::kElems;
    return row * kBN + b_chunk<In>(row, col / e) * e + col % e;
}

// The first `valid` elements of a 16-byte chunk from global memory, the rest zeros.
template <class In, bool Aligned>
__device__ inline void copy_chunk(In* dst, const In* src, int valid) {
    if constexpr (Aligned) {
        tc::cp_async_16(dst, src, static_cast<unsigned>(valid) * sizeof(In));
    } else {
        for (int i = 0; i < Tiles<In>::kElems; ++i) dst[i] = i < valid ? src[i] : In(0);
    }
}

__device__ inline int valid_elems(int64_t remaining, int chunk) {
    return remaining <= 0 ? 0 : remaining >= chunk ? chunk : static_cast<int>(remaining);
}

// One tile (Rows x Cols elements) of a row-major matrix into a shared-memory stage: `src` is the tile's first
// element, `rows` and `cols` how many of its rows and columns lie inside the matrix (the rest load zeros),
// IsA: A's swizzle (a_chunk) rather than B's.
template <class In, bool Aligned, bool IsA, int Rows, int Cols>
__device__ void load_tile(In* stage, const In* src, int64_t ld, int64_t rows, int64_t cols) {
    constexpr int e = Tiles<In>::kElems, chunks = Cols / e;
    for (int q = static_cast<int>(threadIdx.x); q < Rows * chunks; q += kThreads) {
        const int row = q / chunks, chunk = q % chunks;
        const int valid = row < rows ? valid_elems(cols - int64_t{chunk} * e, e) : 0;
        const int at = (IsA ? a_chunk<In>(row, chunk) : b_chunk<In>(row, chunk)) * e;
        copy_chunk<In, Aligned>(stage + row * Cols + at, valid ? src + row * ld + chunk * e : src, valid);
    }
}

// Stage `k0` of the block at (m0, n0): A's kBM x kBK tile and B's kBK x kBN tile.
template <class In, class Out, bool Aligned>
__device__ void load_stage(const TensorCoreGemm<In, Out>& p, const In* A, const In* B, In* sA, In* sB, int64_t m0,
                           int64_t n0, int64_t k0) {
    load_tile<In, Aligned, true, kBM, kBK>(sA, A + m0 * p.lda + k0, p.lda, p.m - m0, p.k - k0);
    load_tile<In, Aligned, false, kBK, kBN>(sB, B + k0 * p.ldb + n0, p.ldb, p.k - k0, p.n - n0);
}

using Accumulators = float[4][4][4];  // [m16 tile][n8 tile][fragment]

// One stage's K (kBK) for this warp's 64 x 32: 16-bit inputs, ldmatrix + m16n8k16.
template <class In>
__device__ void multiply_stage_16bit(Accumulators& acc, const In* sA, const In* sB, int wm, int wn, int lane) {
    constexpr bool kBF16 = std::is_same_v<In, bfloat16>;
    for (int ks = 0; ks < kBK / 16; ++ks) {
        uint32_t a[4][4], b[4][2];
        for (int mt = 0; mt < 4; ++mt) {  // lanes 0-15: rows 0-15 at k 0-7; lanes 16-31: the same rows at k 8-15
            const int row = wm + mt * 16 + (lane & 15), chunk = ks * 2 + (lane >> 4);
            tc::ldmatrix_x4<false>(a[mt], sA + row * kBK + a_chunk<In>(row, chunk) * 8);
        }
        for (int np = 0; np < 2; ++np) {  // rows k 0-7, k 8-15 of n 0-7, then of n 8-15: b of two n8 tiles
            const int krow = ks * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, chunk = (wn + np * 16) / 8 + (lane >> 4);
            uint32_t r[4];
            tc::ldmatrix_x4<true>(r, sB + krow * kBN + b_chunk<In>(krow, chunk) * 8);
            b[2 * np][0] = r[0], b[2 * np][1] = r[1], b[2 * np + 1][0] = r[2], b[2 * np + 1][1] = r[3];
        }
        for (int mt = 0; mt < 4; ++mt)
            for (int nt = 0; nt < 4; ++nt) tc::mma_16x8x16<kBF16>(acc[mt][nt], a[mt], b[nt], acc[mt][nt]);
    }
}

// The same for float32 inputs rounded to TF32: fragments by 32-bit loads, m16n8k8.
__device__ inline void multiply_stage_tf32(Accumulators& acc, const float* sA, const float* sB, int wm, int wn,
                                           int lane) {
    const int g = lane / 4, t = lane % 4;
    for (int ks = 0; ks < kBK / 8; ++ks) {
        uint32_t a[4][4], b[4][2];
        const int k = ks * 8 + t;
        for (int mt = 0; mt < 4; ++mt) {
            const int r = wm + mt * 16 + g;
            a[mt][0] = tc::to_tf32(sA[a_at<float>(r, k)]);
            a[mt][1] = tc::to_tf32(sA[a_at<float>(r + 8, k)]);
            a[mt][2] = tc::to_tf32(sA[a_at<float>(r, k + 4)]);
            a[mt][3] = tc::to_tf32(sA[a_at<float>(r + 8, k + 4)]);
        }
        for (int nt = 0; nt < 4; ++nt) {
            const int n = wn + nt * 8 + g;
            b[nt][0] = tc::to_tf32(sB[b_at<float>(k, n)]);
            b[nt][1] = tc::to_tf32(sB[b_at<float>(k + 4, n)]);
        }
        for (int mt = 0; mt < 4; ++mt)
            for (int nt = 0; nt < 4; ++nt) tc::mma_16x8x8_tf32(acc[mt][nt], a[mt], b[nt], acc[mt][nt]);
    }
}

template <class In, class Out, bool Aligned>
__global__ void __launch_bounds__(kThreads) gemm_tensor_core_kernel(TensorCoreGemm<In, Out> p) {
    using T = Tiles<In>;
    ENGINE_DYNAMIC_SHARED(In, shared);
    In* const sA = shared;
    In* const sB = shared + kStages * T::kAStage;
    const int64_t z = blockIdx.z;
    const In* const A = p.a + z * p.a_batch;
    const In* const B = p.b + z * p.b_batch;
    Out* const C = p.c + z * p.c_batch;
    const int64_t m0 = int64_t{blockIdx.y} * kBM, n0 = int64_t{blockIdx.x} * kBN;
    const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
    const int wm = (warp / 4) * kWarpM, wn = (warp % 4) * kWarpN;

    Accumulators acc;
    for (auto& tile : acc)
        for (auto& row : tile)
            for (float& v : row) v = 0.0f;

    const int64_t tiles = (p.k + kBK - 1) / kBK;
    for (int s = 0; s < kStages - 1; ++s) {
        if (s < tiles) load_stage<In, Out, Aligned>(p, A, B, sA + s * T::kAStage, sB + s * T::kBStage, m0, n0, s * kBK);
        tc::cp_async_commit();
    }
    for (int64_t t = 0; t < tiles; ++t) {
        tc::cp_async_wait<kStages - 2>();  // this thread's copies of tile t have landed...
        __syncthreads();                   // ...and everyone's; everyone is also done with tile t - 1's slot
        const int64_t next = t + kStages - 1;
        const int slot = static_cast<int>(next % kStages);
        if (next < tiles)
            load_stage<In, Out, Aligned>(p, A, B, sA + slot * T::kAStage, sB + slot * T::kBStage, m0, n0, next * kBK);
        tc::cp_async_commit();
        const int cur = static_cast<int>(t % kStages);
        if constexpr (sizeof(In) == 2) {
            multiply_stage_16bit<In>(acc, sA + cur * T::kAStage, sB + cur * T::kBStage, wm, wn, lane);
        } else {
            multiply_stage_tf32(acc, sA + cur * T::kAStage, sB + cur * T::kBStage, wm, wn, lane);
        }
    }
    tc::cp_async_wait<0>();

    const int g = lane / 4, tq = lane % 4;
    for (int mt = 0; mt < 4; ++mt)
        for (int nt = 0; nt < 4; ++nt)
            for (int f = 0; f < 4; ++f) {
                const int64_t row = m0 + wm + mt * 16 + g + (f >= 2 ? 8 : 0);
                const int64_t col = n0 + wn + nt * 8 + 2 * tq + (f & 1);
                if (row >= p.m || col >= p.n) continue;
                Out* out = C + row * p.ldc + col;
                float v = p.alpha * acc[mt][nt][f];
                if (p.beta != 0.0f) v += p.beta * static_cast<float>(*out);
                *out = static_cast<Out>(v);
            }
}

template <class In>
bool rows_aligned(const In* base, int64_t ld, int64_t batch_stride) {
    return reinterpret_cast<uintptr_t>(base) % 16 == 0 && (ld * static_cast<int64_t>(sizeof(In))) % 16 == 0 &&
           (batch_stride * static_cast<int64_t>(sizeof(In))) % 16 == 0;
}

template <class In, class Out, bool Aligned>
void launch_tensor_core(const TensorCoreGemm<In, Out>& p, cudaStream_t stream, const char* op) {
    constexpr size_t shared = Tiles<In>::kSharedBytes;
    auto* kernel = &gemm_tensor_core_kernel<In, Out, Aligned>;
    ENGINE_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared)),
                      op, ": allowing ", shared, " bytes of shared memory to the tensor-core GEMM");
    const dim3 grid(static_cast<unsigned>((p.n + kBN - 1) / kBN), static_cast<unsigned>((p.m + kBM - 1) / kBM),
                    static_cast<unsigned>(p.batch));
    launch(op, Shape{p.batch, p.m, p.n, p.k}, LaunchConfig{grid, dim3(kThreads), shared, stream}, kernel, p);
}

}  // namespace

template <class In, class Out>
void gemm_tensor_core(const TensorCoreGemm<In, Out>& p, cudaStream_t stream, const char* op) {
    ENGINE_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0 && p.batch >= 0, op, ": negative GEMM size (", p.m, ", ", p.n, ", ",
                 p.k, ") x ", p.batch);
    if (p.m == 0 || p.n == 0 || p.batch == 0) return;
    ENGINE_CHECK((p.m + kBM - 1) / kBM <= 65535 && p.batch <= 65535 && (p.n + kBN - 1) / kBN <= 0x7FFFFFFF, op,
                 ": GEMM of ", p.batch, " x (", p.m, " x ", p.n, ") beyond the tensor-core kernel's grid");
    if (rows_aligned(p.a, p.lda, p.a_batch) && rows_aligned(p.b, p.ldb, p.b_batch)) {
        launch_tensor_core<In, Out, true>(p, stream, op);
    } else {
        launch_tensor_core<In, Out, false>(p, stream, op);
    }
}

template void gemm_tensor_core<float, float>(const TensorCoreGemm<float, float>&, cudaStream_t, const char*);
template void gemm_tensor_core<bfloat16, float>(const TensorCoreGemm<bfloat16, float>&, cudaStream_t, const char*);
template void gemm_tensor_core<bfloat16, bfloat16>(const TensorCoreGemm<bfloat16, bfloat16>&, cudaStream_t,
                                                   const char*);
template void gemm_tensor_core<float16, float>(const TensorCoreGemm<float16, float>&, cudaStream_t, const char*);
template void gemm_tensor_core<float16, float16>(const TensorCoreGemm<float16, float16>&, cudaStream_t, const char*);

}  // namespace engine::cuda
