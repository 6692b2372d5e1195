// Cache-blocked GEMM in the style of BLIS/GotoBLAS: B is packed into KC x NC panels of NR-wide slivers, A into
// MC x KC blocks of MR-high slivers, and an MR x NR micro-kernel keeps its tile of C in vector registers.
// Written with GCC vector extensions so the same code uses AVX2 (x86-64-v3) or AVX-512 (-march=native).
#include "kernels/cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

template <class T>
struct Vec;
template <>
struct Vec<float> {
    typedef float type __attribute__((vector_size(kVecBytes)));
};
template <>
struct Vec<double> {
    typedef double type __attribute__((vector_size(kVecBytes)));
};

// Register tile: MR rows x NV vectors. 6 x 2 keeps 12 accumulators plus the B vectors and the broadcast A value
// within the 16 ymm registers of AVX2; KC x NR of packed B stays in L1, MC x KC of packed A in L2.
template <class T>
struct Blocking {
    static constexpr int kLanes = kVecBytes / static_cast<int>(sizeof(T));
    static constexpr int MR = 6;
    static constexpr int NV = 2;
    static constexpr int NR = NV * kLanes;
    static constexpr int64_t KC = 256;
    static constexpr int64_t MC = sizeof(T) == 4 ? 144 : 96;
    static constexpr int64_t NC = sizeof(T) == 4 ? 3072 : 1536;
};

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

template <class T>
std::unique_ptr<T[], FreeDeleter> aligned_buffer(int64_t count) {
    const size_t bytes = (static_cast<size_t>(count) * sizeof(T) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

// Grow-only packing buffer per thread and slot: a tiny product costs less than the malloc/free of its buffers.
template <class T, int Slot>
T* thread_buffer(int64_t count) {
    thread_local std::unique_ptr<T[], FreeDeleter> buffer;
    thread_local int64_t capacity = 0;
    if (capacity < count) {
        buffer = aligned_buffer<T>(count);
        capacity = count;
    }
    return buffer.get();
}

// ap[p * MR + i] = A(i, p) for each MR-row sliver of the mc x kc block, zero-padded past mc.
template <class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, T* ap) {
    constexpr int MR = Blocking<T>::MR;
    for (int64_t ir = 0; ir < mc; ir += MR) {
        const int64_t rows = std::min<int64_t>(MR, mc - ir);
        const T* src = a + ir * rs;
        if (rows == MR && rs == 1) {
            for (int64_t p = 0; p < kc; ++p)
                for (int i = 0; i < MR; ++i) ap[p * MR + i] = src[p * cs + i];
        } else if (rows == MR) {
            for (int64_t p = 0; p < kc; ++p)
                for (int i = 0; i < MR; ++i) ap[p * MR + i] = src[i * rs + p * cs];
        } else {
            for (int64_t p = 0; p < kc; ++p) {
                for (int64_t i = 0; i < rows; ++i) ap[p * MR + i] = src[i * rs + p * cs];
                for (int64_t i = rows; i < MR; ++i) ap[p * MR + i] = T(0);
            }
        }
        ap += MR * kc;
    }
}

// bp[p * NR + j] = B(p, j) for NR-column slivers [s_begin, s_end) of the kc x nc panel, zero-padded past nc.
template <class T>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t rs, int64_t cs, T* bp, int64_t s_begin, int64_t s_end) {
    constexpr int NR = Blocking<T>::NR;
    for (int64_t s = s_begin; s < s_end; ++s) {
        const int64_t jr = s * NR;
        const int64_t cols = std::min<int64_t>(NR, nc - jr);
        const T* src = b + jr * cs;
        T* dst = bp + jr * kc;
        if (cols == NR && cs == 1) {
            for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * NR, src + p * rs, NR * sizeof(T));
            continue;
        }
        if (cols < NR)
            for (int64_t p = 0; p < kc; ++p) std::fill(dst + p * NR + cols, dst + (p + 1) * NR, T(0));
        if (rs == 1) {  // a transposed B: each column is contiguous along p
            for (int64_t j = 0; j < cols; ++j)
                for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[j * cs + p];
        } else {
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t j = 0; j < cols; ++j) dst[p * NR + j] = src[p * rs + j * cs];
        }
    }
}

// C tile (MR x NR, row stride ldc) = or += A sliver * packed B sliver over kc. A(i, p) is
// a[i * row_step + p * k_step]: a packed sliver (1, MR) or rows read in place (row and k strides).
template <class T>
inline void micro_kernel(int64_t kc, const T* __restrict a, int64_t row_step, int64_t k_step,
                         const T* __restrict bp, T* __restrict c, int64_t ldc, bool accumulate) {
    using V = typename Vec<T>::type;
    constexpr int MR = Blocking<T>::MR, NV = Blocking<T>::NV, L = Blocking<T>::kLanes;
    const T* rows[MR];
    for (int i = 0; i < MR; ++i) rows[i] = a + i * row_step;
    V acc[MR][NV];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NV; ++j) acc[i][j] = V{};
    int64_t offset = 0;
    for (int64_t p = 0; p < kc; ++p) {
        V bv[NV];
        for (int j = 0; j < NV; ++j) bv[j] = *reinterpret_cast<const V*>(bp + j * L);
        for (int i = 0; i < MR; ++i) {
            const V av = rows[i][offset] - V{};  // a broadcast (x - 0 is exact, unlike 0 + x for x = -0)
            for (int j = 0; j < NV; ++j) acc[i][j] += av * bv[j];
        }
        offset += k_step;
        bp += NV * L;
    }
    for (int i = 0; i < MR; ++i) {
        for (int j = 0; j < NV; ++j) {
            T* dst = c + i * ldc + j * L;
            if (accumulate) {
                V old;
                std::memcpy(&old, dst, sizeof(V));
                acc[i][j] += old;
            }
            std::memcpy(dst, &acc[i][j], sizeof(V));
        }
    }
}

// The mc x kc block of A that a macro-kernel multiplies: packed by pack_a, or read in place when one of its
// strides is 1 (row-major or transposed), which saves the packing pass; only a last sliver with fewer than
// MR rows is then packed (zero-padded).
template <class T>
struct ABlock {
    const T* data;
    int64_t rs, cs;
    bool packed;
};

// C block (mc x nc) (+)= A block * packed B panel, for the column slivers [s_begin, s_end).
template <class T>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const ABlock<T>& a, const T* bp, T* c, int64_t ldc,
                  bool accumulate, int64_t s_begin, int64_t s_end) {
    constexpr int MR = Blocking<T>::MR, NR = Blocking<T>::NR;
    alignas(64) T edge[MR * NR];
    const int64_t full_rows = mc / MR * MR;
    const T* edge_a = nullptr;  // the packed last sliver when A is read in place
    if (!a.packed && full_rows < mc) {
        T* buffer = thread_buffer<T, 2>(MR * Blocking<T>::KC);
        pack_a(mc - full_rows, kc, a.data + full_rows * a.rs, a.rs, a.cs, buffer);
        edge_a = buffer;
    }
    for (int64_t s = s_begin; s < s_end; ++s) {
        const int64_t jr = s * NR;
        const int64_t cols = std::min<int64_t>(NR, nc - jr);
        const T* b_sliver = bp + jr * kc;
        for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, mc - ir);
            const T* a_sliver;
            int64_t row_step, k_step;
            if (a.packed || rows < MR) {
                a_sliver = a.packed ? a.data + ir * kc : edge_a;
                row_step = 1, k_step = MR;
            } else {
                a_sliver = a.data + ir * a.rs;
                row_step = a.rs, k_step = a.cs;
            }
            T* c_tile = c + ir * ldc + jr;
            if (rows == MR && cols == NR) {
                micro_kernel<T>(kc, a_sliver, row_step, k_step, b_sliver, c_tile, ldc, accumulate);
            } else {
                micro_kernel<T>(kc, a_sliver, row_step, k_step, b_sliver, edge, NR, false);
                for (int64_t i = 0; i < rows; ++i) {
                    T* dst = c_tile + i * ldc;
                    const T* src = edge + i * NR;
                    if (accumulate) {
                        for (int64_t j = 0; j < cols; ++j) dst[j] += src[j];
                    } else {
                        for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
                    }
                }
            }
        }
    }
}

}  // namespace

template <class T>
void gemm(int64_t m, int64_t n, int64_t k, GemmOperand<T> a, GemmOperand<T> b, T* c, int64_t ldc, bool accumulate) {
    using B = Blocking<T>;
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
        return;
    }
    // Below ~2 MFLOP waking the thread team costs more than it saves.
    const bool parallel = !in_parallel_region() && num_threads() > 1 && m * n * k >= (int64_t{1} << 20);
    const int64_t threads = parallel ? num_threads() : 1;

    // M blocks: a multiple of the thread count when there are several, so every thread gets equal work.
    const int64_t max_blocks = (m + B::MC - 1) / B::MC;
    const int64_t rounds = (max_blocks + threads - 1) / threads;
    const int64_t m_blocks_wanted = std::min<int64_t>(rounds * threads, (m + B::MR - 1) / B::MR);
    int64_t mc = (m + m_blocks_wanted - 1) / m_blocks_wanted;
    mc = (mc + B::MR - 1) / B::MR * B::MR;
    const int64_t m_blocks = (m + mc - 1) / mc;

    // Packing A pays off when many column slivers reuse it (and keeps rows that are 4 KiB apart from fighting
    // over L1 sets); for narrow products a row-major or transposed A is read in place.
    const bool pack_whole_a = n >= 512 || (a.row_stride != 1 && a.col_stride != 1);
    const int64_t nc_max = std::min<int64_t>(B::NC, (n + B::NR - 1) / B::NR * B::NR);
    T* const bp = thread_buffer<T, 0>(B::KC * nc_max);

    for (int64_t jc = 0; jc < n; jc += B::NC) {
        const int64_t nc = std::min<int64_t>(B::NC, n - jc);
        const int64_t slivers = (nc + B::NR - 1) / B::NR;
        // With fewer M blocks than threads, threads share a block and split its column slivers.
        const int64_t n_splits = std::min<int64_t>(slivers, std::max<int64_t>(1, threads / m_blocks));
        const int64_t units = m_blocks * n_splits;
        for (int64_t pc = 0; pc < k; pc += B::KC) {
            const int64_t kc = std::min<int64_t>(B::KC, k - pc);
            const bool acc = accumulate || pc > 0;
            const T* b_panel = b.data + pc * b.row_stride + jc * b.col_stride;
            parallel_for(0, slivers, parallel ? 2 : slivers + 1, [&](int64_t s0, int64_t s1) {
                pack_b(kc, nc, b_panel, b.row_stride, b.col_stride, bp, s0, s1);
            });
            parallel_for(0, units, parallel ? 2 : units + 1, [&](int64_t u0, int64_t u1) {
                T* const packed_a = pack_whole_a ? thread_buffer<T, 1>(mc * B::KC) : nullptr;
                int64_t packed_block = -1;
                for (int64_t u = u0; u < u1; ++u) {
                    const int64_t ib = u / n_splits, split = u % n_splits;
                    const int64_t ic = ib * mc;
                    const int64_t rows = std::min<int64_t>(mc, m - ic);
                    const T* a_block = a.data + ic * a.row_stride + pc * a.col_stride;
                    if (pack_whole_a && packed_block != ib) {
                        pack_a(rows, kc, a_block, a.row_stride, a.col_stride, packed_a);
                        packed_block = ib;
                    }
                    const ABlock<T> block = pack_whole_a ? ABlock<T>{packed_a, 0, 0, true}
                                                         : ABlock<T>{a_block, a.row_stride, a.col_stride, false};
                    const int64_t s0 = slivers * split / n_splits, s1 = slivers * (split + 1) / n_splits;
                    macro_kernel(rows, nc, kc, block, bp, c + ic * ldc + jc, ldc, acc, s0, s1);
                }
            });
        }
    }
}

template void gemm<float>(int64_t, int64_t, int64_t, GemmOperand<float>, GemmOperand<float>, float*, int64_t, bool);
template void gemm<double>(int64_t, int64_t, int64_t, GemmOperand<double>, GemmOperand<double>, double*, int64_t,
                           bool);

}  // namespace engine::cpu
