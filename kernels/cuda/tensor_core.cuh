// The warp-level tensor-core instructions our kernels use (PTX ISA 8.x, sm_80 and later), spelled once for nvcc
// (inline PTX) and once for the CUDA emulator, which computes every lane's registers in a warp collective
// (runtime/cuda/emu/emu_device.h) with the fragment layouts the PTX ISA documents, so that a kernel with a wrong
// layout or a missing cp.async wait fails its emulated tests as it would fail on a GPU.
//
// Fragments, for lane L of the warp, g = L / 4 ("groupID") and t = L % 4 ("threadID_in_group"); a 32-bit
// register holding two 16-bit elements keeps the one with the lower column (or row) index in its low half:
//   mma 16x8x16, bf16/fp16 A (row major) B (column major), f32 C/D:
//     a[0] = A[g][2t, 2t+1]   a[1] = A[g+8][2t, 2t+1]   a[2] = A[g][2t+8, 2t+9]   a[3] = A[g+8][2t+8, 2t+9]
//     b[0] = B[2t, 2t+1][g]   b[1] = B[2t+8, 2t+9][g]
//     c[0], c[1] = C[g][2t, 2t+1]   c[2], c[3] = C[g+8][2t, 2t+1]   (D likewise)
//   mma 16x8x8, tf32 (one element per register; the low 13 bits of each are ignored):
//     a[0] = A[g][t]   a[1] = A[g+8][t]   a[2] = A[g][t+4]   a[3] = A[g+8][t+4]
//     b[0] = B[t][g]   b[1] = B[t+4][g]   C/D as above
//   ldmatrix .x4 (8x8 matrices of 16-bit elements, rows of 16 bytes in shared memory): lanes 8i..8i+7 give the
//     addresses of the rows 0..7 of matrix i; r[i] = matrix i [g][2t, 2t+1], or with .trans [2t, 2t+1][g].
#pragma once

#include <cstdint>

#include "runtime/cuda_api.h"
#include "runtime/half.h"

namespace engine::cuda::tc {

// Round to TF32 (10 mantissa bits, nearest, ties away from zero) as cvt.rna.tf32.f32: the bits the mma reads.
__device__ inline uint32_t to_tf32(float x) {
#if defined(__CUDA_ARCH__)
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
#else
    const uint32_t bits = half_bits::of_float(x);
    if ((bits & 0x7F800000u) == 0x7F800000u) return bits;  // Inf and NaN unchanged
    return (bits + 0x1000u) & ~0x1FFFu;
#endif
}

// Two 16-bit values in one register, `low` in the low half.
__device__ inline uint32_t pack_pair(uint16_t low, uint16_t high) { return uint32_t{low} | (uint32_t{high} << 16); }

#if !defined(__CUDACC__)
namespace emulated {

struct MmaLane {
    float* d;
    const uint32_t* a;
    const uint32_t* b;
    const float* c;
};

inline float low_half(uint32_t r, bool bf16) {
    const uint16_t h = static_cast<uint16_t>(r & 0xFFFF);
    return bf16 ? half_bits::float_of_bfloat16(h) : half_bits::float_of_float16(h);
}
inline float high_half(uint32_t r, bool bf16) { return low_half(r >> 16, bf16); }
inline float tf32_value(uint32_t r) { return half_bits::to_float(r & ~0x1FFFu); }

// D = A * B + C over a (16 x K) A, (K x 8) B: products exact (their inputs have at most 11 significant bits),
// the sum in double and rounded to float once, which is within the error of the hardware's own adder tree.
template <int K>
inline void mma_product(const float (&A)[16][K], const float (&B)[K][8], void* const* lanes) {
    float C[16][8];
    for (int l = 0; l < 32; ++l) {
        const auto* lane = static_cast<const MmaLane*>(lanes[l]);
        const int g = l / 4, t = l % 4;
        C[g][2 * t] = lane->c[0];
        C[g][2 * t + 1] = lane->c[1];
        C[g + 8][2 * t] = lane->c[2];
        C[g + 8][2 * t + 1] = lane->c[3];
    }
    float D[16][8];
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 8; ++j) {
            double sum = C[i][j];
            for (int k = 0; k < K; ++k) sum += static_cast<double>(A[i][k]) * B[k][j];
            D[i][j] = static_cast<float>(sum);
        }
    for (int l = 0; l < 32; ++l) {  // after every lane's inputs were read: d may be c
        auto* lane = static_cast<const MmaLane*>(lanes[l]);
        const int g = l / 4, t = l % 4;
        lane->d[0] = D[g][2 * t];
        lane->d[1] = D[g][2 * t + 1];
        lane->d[2] = D[g + 8][2 * t];
        lane->d[3] = D[g + 8][2 * t + 1];
    }
}

template <bool BF16>
inline const char* mma_16x8x16(void* const* lanes, unsigned int group) {
    if (group != 0xFFFFFFFFu) return "mma.sync.m16n8k16 needs all 32 lanes of the warp";
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
        const auto* lane = static_cast<const MmaLane*>(lanes[l]);
        const int g = l / 4, t = l % 4;
        const uint32_t* a = lane->a;
        A[g][2 * t] = low_half(a[0], BF16), A[g][2 * t + 1] = high_half(a[0], BF16);
        A[g + 8][2 * t] = low_half(a[1], BF16), A[g + 8][2 * t + 1] = high_half(a[1], BF16);
        A[g][2 * t + 8] = low_half(a[2], BF16), A[g][2 * t + 9] = high_half(a[2], BF16);
        A[g + 8][2 * t + 8] = low_half(a[3], BF16), A[g + 8][2 * t + 9] = high_half(a[3], BF16);
        B[2 * t][g] = low_half(lane->b[0], BF16), B[2 * t + 1][g] = high_half(lane->b[0], BF16);
        B[2 * t + 8][g] = low_half(lane->b[1], BF16), B[2 * t + 9][g] = high_half(lane->b[1], BF16);
    }
    mma_product<16>(A, B, lanes);
    return nullptr;
}

inline const char* mma_16x8x8_tf32(void* const* lanes, unsigned int group) {
    if (group != 0xFFFFFFFFu) return "mma.sync.m16n8k8 needs all 32 lanes of the warp";
    float A[16][8], B[8][8];
    for (int l = 0; l < 32; ++l) {
        const auto* lane = static_cast<const MmaLane*>(lanes[l]);
        const int g = l / 4, t = l % 4;
        A[g][t] = tf32_value(lane->a[0]);
        A[g + 8][t] = tf32_value(lane->a[1]);
        A[g][t + 4] = tf32_value(lane->a[2]);
        A[g + 8][t + 4] = tf32_value(lane->a[3]);
        B[t][g] = tf32_value(lane->b[0]);
        B[t + 4][g] = tf32_value(lane->b[1]);
    }
    mma_product<8>(A, B, lanes);
    return nullptr;
}

struct LdmatrixLane {
    const void* row;
    uint32_t* r;
};

template <int Count, bool Trans>
inline const char* ldmatrix(void* const* lanes, unsigned int group) {
    if (group != 0xFFFFFFFFu) return "ldmatrix needs all 32 lanes of the warp";
    const uint16_t* rows[32] = {};
    for (int l = 0; l < 8 * Count; ++l) {
        const void* row = static_cast<const LdmatrixLane*>(lanes[l])->row;
        if (reinterpret_cast<uintptr_t>(row) % 16 != 0) return "ldmatrix: a row address is not 16-byte aligned";
        rows[l] = static_cast<const uint16_t*>(row);
    }
    uint32_t out[32][4];
    for (int l = 0; l < 32; ++l) {
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < Count; ++i) {
            const uint16_t* const* m = rows + 8 * i;  // matrix i: m[row][col]
            out[l][i] = Trans ? pack_pair(m[2 * t][g], m[2 * t + 1][g]) : pack_pair(m[g][2 * t], m[g][2 * t + 1]);
        }
    }
    for (int l = 0; l < 32; ++l)
        for (int i = 0; i < Count; ++i) static_cast<const LdmatrixLane*>(lanes[l])->r[i] = out[l][i];
    return nullptr;
}

}  // namespace emulated

// The emulated instructions name their caller in reports: a defaulted last parameter takes the call site.
#define ENGINE_TC_SITE , ::emu::detail::Site site = {__builtin_FILE(), __builtin_LINE()}
#define ENGINE_TC_COLLECTIVE(data, fn) ::emu::detail::warp_collective(site, 0xFFFFFFFFu, &(data), (fn))
#else
#define ENGINE_TC_SITE
#endif

#if defined(__CUDACC__)
// One mma.sync with four fp32 accumulators, four A and two B registers; SHAPE_TYPES as "m16n8k16.row.col....".
#define ENGINE_TC_MMA(SHAPE_TYPES)                                                                                    \
    asm volatile("mma.sync.aligned." SHAPE_TYPES " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};\n"       \
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])                                                     \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]), \
                   "f"(c[3]))
#endif

// d = A * B + c, bf16 (BF16) or fp16 inputs, fp32 accumulation. d may be c.
template <bool BF16>
__device__ inline void mma_16x8x16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                   const float (&c)[4] ENGINE_TC_SITE) {
#if defined(__CUDACC__)
    if constexpr (BF16) {
        ENGINE_TC_MMA("m16n8k16.row.col.f32.bf16.bf16.f32");
    } else {
        ENGINE_TC_MMA("m16n8k16.row.col.f32.f16.f16.f32");
    }
#else
    emulated::MmaLane lane{d, a, b, c};
    ENGINE_TC_COLLECTIVE(lane, &emulated::mma_16x8x16<BF16>);
#endif
}

// d = A * B + c in TF32 (registers from to_tf32), fp32 accumulation. d may be c.
__device__ inline void mma_16x8x8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                       const float (&c)[4] ENGINE_TC_SITE) {
#if defined(__CUDACC__)
    ENGINE_TC_MMA("m16n8k8.row.col.f32.tf32.tf32.f32");
#else
    emulated::MmaLane lane{d, a, b, c};
    ENGINE_TC_COLLECTIVE(lane, &emulated::mma_16x8x8_tf32);
#endif
}

// ldmatrix.sync.aligned.m8n8.x4(.trans).shared.b16: `row` is this lane's row address (16-byte aligned).
template <bool Trans>
__device__ inline void ldmatrix_x4(uint32_t (&r)[4], const void* row ENGINE_TC_SITE) {
#if defined(__CUDACC__)
    const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(row));
    if constexpr (Trans) {
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(address));
    } else {
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                     : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                     : "r"(address));
    }
#else
    emulated::LdmatrixLane lane{row, r};
    ENGINE_TC_COLLECTIVE(lane, (&emulated::ldmatrix<4, Trans>));
#endif
}

// cp.async.cg.shared.global: 16 bytes from global to shared memory, of which the first src_bytes (0..16) are
// read and the rest zero-filled; done once this thread waits for its group.
__device__ inline void cp_async_16(void* shared, const void* global, unsigned src_bytes ENGINE_TC_SITE) {
#if defined(__CUDACC__)
    const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(shared));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(global), "r"(src_bytes));
#else
    ::emu::detail::async_copy(site, shared, global, 16, src_bytes);
#endif
}

__device__ inline void cp_async_commit() {
#if defined(__CUDACC__)
    asm volatile("cp.async.commit_group;\n" ::);
#else
    ::emu::detail::async_copy_commit();
#endif
}

// Waits until at most `Pending` of this thread's committed groups are still in flight.
template <int Pending>
__device__ inline void cp_async_wait() {
#if defined(__CUDACC__)
    asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
#else
    ::emu::detail::async_copy_wait(Pending);
#endif
}

}  // namespace engine::cuda::tc
