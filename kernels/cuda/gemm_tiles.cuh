// The building blocks of our GEMM kernel (gemm.cu): tile shapes, shared-memory tiles, 16-byte vector access and
// the loaders that bring a BM x BK slice of A and a BK x BN slice of B into registers and then into shared
// memory: a strided matrix (either axis contiguous, or neither), or an implicit im2col matrix.
#pragma once

#include "runtime/cuda_api.h"

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/gemm.h"

#if defined(__CUDACC__)
#define GEMM_UNROLL _Pragma("unroll")
#else
#define GEMM_UNROLL
#endif

namespace engine::cuda::tile {

// Elements per 16-byte vector.
template <class T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));

template <class T>
struct alignas(16) Vec16 {
    T v[kVec<T>];
};

template <class T>
__device__ __forceinline__ void load16(const T* p, T* out) {
    const Vec16<T> x = *reinterpret_cast<const Vec16<T>*>(p);
    GEMM_UNROLL
    for (int i = 0; i < kVec<T>; ++i) out[i] = x.v[i];
}

template <class T>
__device__ __forceinline__ void store16(T* p, const T* in) {
    Vec16<T> x;
    GEMM_UNROLL
    for (int i = 0; i < kVec<T>; ++i) x.v[i] = in[i];
    *reinterpret_cast<Vec16<T>*>(p) = x;
}

__host__ __device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

template <int BM_, int BN_, int BK_, int TM_, int TN_>
struct TileConfig {
    static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_;
    static constexpr int kThreads = (BM / TM) * (BN / TN);
};
using FloatLarge = TileConfig<128, 128, 8, 8, 8>;  // 256 threads, 64 outputs each
using FloatSmall = TileConfig<64, 64, 8, 8, 4>;    // 128 threads, for products with few output tiles
using DoubleTile = TileConfig<64, 64, 8, 4, 4>;    // 256 threads

template <class T, class Cfg>
struct alignas(16) SharedTiles {
    T a[2][Cfg::BK * Cfg::BM];  // A slice stored transposed: [k][m]
    T b[2][Cfg::BK * Cfg::BN];  // B slice: [k][n]
};

// The threads' share of an R x C tile of a strided matrix: groups of V consecutive elements along the fast axis
// (the contiguous one, when there is one), one 16-byte load per group when `vec`, else V checked scalar loads.
// The K axis is the tile's column axis for A (kKIsCol) and its row axis for B.
template <class T, int R, int C, int NT, bool kKIsCol>
struct DenseLoader {
    static constexpr int V = kVec<T>;
    static constexpr int kGroups = R * C / (NT * V);
    static constexpr int kElems = kGroups * V;
    static_assert(kGroups >= 1 && R * C == kGroups * NT * V && R % V == 0 && C % V == 0, "tile/threads mismatch");

    const T* base;
    int64_t s0, s1, col_period, s_col_outer;
    int64_t r_origin, c_origin, r_end, c_end;
    bool col_fast, vec;
    int r_local[kGroups], c_local[kGroups];

    __device__ void init(const Operand<T>& op, int64_t outer, int64_t inner, int64_t fixed_origin, int64_t rows,
                         int64_t cols, bool fast, bool vectorised, int tid) {
        base = op.ptr + outer * op.batch_outer + inner * op.batch_inner;
        s0 = op.s0;
        s1 = op.s1;
        col_period = op.col_period;
        s_col_outer = op.s_col_outer;
        r_origin = kKIsCol ? fixed_origin : 0;
        c_origin = kKIsCol ? 0 : fixed_origin;
        r_end = rows;
        c_end = cols;
        col_fast = fast;
        vec = vectorised;
        GEMM_UNROLL
        for (int g = 0; g < kGroups; ++g) {
            const int gid = tid + g * NT;
            if (col_fast) {
                c_local[g] = (gid % (C / V)) * V;
                r_local[g] = gid / (C / V);
            } else {
                r_local[g] = (gid % (R / V)) * V;
                c_local[g] = gid / (R / V);
            }
        }
    }

    __device__ int64_t offset(int64_t r, int64_t c) const {
        const int64_t col = col_period > 0 ? (c / col_period) * s_col_outer + (c % col_period) * s1 : c * s1;
        return r * s0 + col;
    }

    __device__ void load(int64_t k0, T* reg) const {
        const int64_t r0 = kKIsCol ? r_origin : k0, c0 = kKIsCol ? k0 : c_origin;
        GEMM_UNROLL
        for (int g = 0; g < kGroups; ++g) {
            const int64_t r = r0 + r_local[g], c = c0 + c_local[g];
            T* out = reg + g * V;
            const bool whole = col_fast ? (r < r_end && c + V <= c_end) : (r + V <= r_end && c < c_end);
            if (vec && whole) {
                load16(base + offset(r, c), out);
            } else {
                GEMM_UNROLL
                for (int v = 0; v < V; ++v) {
                    const int64_t rr = col_fast ? r : r + v, cc = col_fast ? c + v : c;
                    out[v] = rr < r_end && cc < c_end ? base[offset(rr, cc)] : T(0);
                }
            }
        }
    }

    // Shared tile layout: [col][row] when kTransposed (A), else [row][col] (B).
    template <bool kTransposed>
    __device__ void store(T* smem, const T* reg) const {
        GEMM_UNROLL
        for (int g = 0; g < kGroups; ++g) {
            GEMM_UNROLL
            for (int v = 0; v < V; ++v) {
                const int rr = r_local[g] + (col_fast ? 0 : v), cc = c_local[g] + (col_fast ? v : 0);
                smem[kTransposed ? cc * R + rr : rr * C + cc] = reg[g * V + v];
            }
        }
    }
};

// B (BK x BN) as the im2col matrix of one image: row k = (c, kh, kw), column n = (oh, ow). Threads walk the
// columns (neighbouring output pixels read neighbouring input pixels); each thread keeps its V columns for the
// whole block and decodes one row per slice.
template <class T, int R, int C, int NT>
struct Im2colLoader {
    static constexpr int V = kVec<T>;
    static constexpr int kElems = V;
    static_assert(R * C == NT * V && C % V == 0 && NT % (C / V) == 0, "one group per thread");

    const T* x;
    Im2colGeometry g;
    int64_t k_end;
    int r_local, c_local;
    int64_t ih0[V], iw0[V];
    bool valid[V];

    __device__ void init(const Operand<T>& op, const Im2colGeometry& geometry, int64_t outer, int64_t inner, int64_t n0,
                         int64_t n_end, int64_t k_limit, int tid) {
        x = op.ptr + outer * op.batch_outer + inner * op.batch_inner;
        g = geometry;
        k_end = k_limit;
        c_local = (tid % (C / V)) * V;
        r_local = tid / (C / V);
        GEMM_UNROLL
        for (int v = 0; v < V; ++v) {
            const int64_t n = n0 + c_local + v;
            valid[v] = n < n_end;
            const int64_t oh = valid[v] ? n / g.ow : 0, ow = valid[v] ? n - oh * g.ow : 0;
            ih0[v] = oh * g.stride_h - g.pad_h;
            iw0[v] = ow * g.stride_w - g.pad_w;
        }
    }

    __device__ void load(int64_t k0, T* reg) const {
        const int64_t k = k0 + r_local;
        const int64_t taps = g.kh * g.kw;
        const int64_t c = k / taps, tap = k - c * taps;
        const int64_t kh = tap / g.kw, kw = tap - kh * g.kw;
        const T* plane = x + c * g.h * g.w;
        const int64_t dh = kh * g.dilation_h, dw = kw * g.dilation_w;
        GEMM_UNROLL
        for (int v = 0; v < V; ++v) {
            const int64_t ih = ih0[v] + dh, iw = iw0[v] + dw;
            const bool inside = valid[v] && k < k_end && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
            reg[v] = inside ? plane[ih * g.w + iw] : T(0);
        }
    }

    __device__ void store(T* smem, const T* reg) const {
        GEMM_UNROLL
        for (int v = 0; v < V; ++v) smem[r_local * C + c_local + v] = reg[v];
    }
};

// B (BK x BN) as the transposed im2col matrices of all images: row k = (image, oh, ow), column n = (c, kh, kw).
// Threads walk the rows (neighbouring output pixels); each thread decodes its column once.
template <class T, int R, int C, int NT>
struct Im2colTLoader {
    static constexpr int V = kVec<T>;
    static constexpr int kElems = V;
    static_assert(R * C == NT * V && R % V == 0, "one group per thread");

    const T* x;
    Im2colGeometry g;
    int64_t k_end;
    int r_local, c_local;
    bool valid;
    int64_t channel_offset, kh_offset, kw_offset;

    __device__ void init(const Operand<T>& op, const Im2colGeometry& geometry, int64_t outer, int64_t inner, int64_t n0,
                         int64_t n_end, int64_t k_limit, int tid) {
        x = op.ptr + outer * op.batch_outer + inner * op.batch_inner;
        g = geometry;
        k_end = k_limit;
        r_local = (tid % (R / V)) * V;
        c_local = tid / (R / V);
        const int64_t n = n0 + c_local;
        valid = n < n_end;
        const int64_t taps = g.kh * g.kw;
        const int64_t c = valid ? n / taps : 0, tap = valid ? n - c * taps : 0;
        const int64_t kh = tap / g.kw, kw = tap - kh * g.kw;
        channel_offset = c * g.h * g.w;
        kh_offset = kh * g.dilation_h - g.pad_h;
        kw_offset = kw * g.dilation_w - g.pad_w;
    }

    __device__ void load(int64_t k0, T* reg) const {
        const int64_t k = k0 + r_local;
        const int64_t pixels = g.oh * g.ow;
        int64_t image = k / pixels;
        const int64_t pixel = k - image * pixels;
        int64_t oh = pixel / g.ow, ow = pixel - oh * g.ow;
        GEMM_UNROLL
        for (int v = 0; v < V; ++v) {
            const int64_t ih = oh * g.stride_h + kh_offset, iw = ow * g.stride_w + kw_offset;
            const bool inside = valid && k + v < k_end && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
            reg[v] = inside ? x[image * g.image_stride + channel_offset + ih * g.w + iw] : T(0);
            if (++ow == g.ow) {
                ow = 0;
                if (++oh == g.oh) {
                    oh = 0;
                    ++image;
                }
            }
        }
    }

    __device__ void store(T* smem, const T* reg) const {
        GEMM_UNROLL
        for (int v = 0; v < V; ++v) smem[(r_local + v) * C + c_local] = reg[v];
    }
};

template <class T, class Cfg, BKind kB>
using BLoaderFor = std::conditional_t<
    kB == BKind::Dense, DenseLoader<T, Cfg::BK, Cfg::BN, Cfg::kThreads, false>,
    std::conditional_t<kB == BKind::Im2col, Im2colLoader<T, Cfg::BK, Cfg::BN, Cfg::kThreads>,
                       Im2colTLoader<T, Cfg::BK, Cfg::BN, Cfg::kThreads>>>;

}  // namespace engine::cuda::tile
