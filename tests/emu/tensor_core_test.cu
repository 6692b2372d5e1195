// The emulator's tensor-core instructions (kernels/cuda/tensor_core.cuh): each lane builds its fragments from
// the PTX ISA's layout tables written out again here, independently of the emulator's code, so that a wrong
// layout on either side fails; ldmatrix with and without .trans; cp.async copies land only when waited for
// (wait_group N leaves the N newest groups in flight) and zero-fill past their source size; an mma that not
// every lane of the warp reaches is reported.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "emu/emu_test_util.h"
#include "kernels/cuda/tensor_core.cuh"
#include "runtime/cuda_api.h"
#include "runtime/half.h"

using namespace emu_test;
using engine::bfloat16;
namespace tc = engine::cuda::tc;

namespace {

// A (16 x 16) and B (16 x 8, k x n) as bfloat16 bits, row major; C and D (16 x 8) float.
__global__ void one_mma_bf16(const uint16_t* A, const uint16_t* B, const float* C, float* D) {
    const int l = static_cast<int>(threadIdx.x), g = l / 4, t = l % 4;
    auto a = [&](int r, int c) { return A[r * 16 + c]; };
    auto b = [&](int r, int c) { return B[r * 8 + c]; };
    const uint32_t fa[4] = {tc::pack_pair(a(g, 2 * t), a(g, 2 * t + 1)), tc::pack_pair(a(g + 8, 2 * t), a(g + 8, 2 * t + 1)),
                            tc::pack_pair(a(g, 2 * t + 8), a(g, 2 * t + 9)),
                            tc::pack_pair(a(g + 8, 2 * t + 8), a(g + 8, 2 * t + 9))};
    const uint32_t fb[2] = {tc::pack_pair(b(2 * t, g), b(2 * t + 1, g)), tc::pack_pair(b(2 * t + 8, g), b(2 * t + 9, g))};
    const float fc[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
    float fd[4];
    tc::mma_16x8x16<true>(fd, fa, fb, fc);
    D[g * 8 + 2 * t] = fd[0], D[g * 8 + 2 * t + 1] = fd[1], D[(g + 8) * 8 + 2 * t] = fd[2];
    D[(g + 8) * 8 + 2 * t + 1] = fd[3];
}

// A (16 x 8), B (8 x 8) float (values exact in TF32), C and D (16 x 8).
__global__ void one_mma_tf32(const float* A, const float* B, const float* C, float* D) {
    const int l = static_cast<int>(threadIdx.x), g = l / 4, t = l % 4;
    const uint32_t fa[4] = {tc::to_tf32(A[g * 8 + t]), tc::to_tf32(A[(g + 8) * 8 + t]), tc::to_tf32(A[g * 8 + t + 4]),
                            tc::to_tf32(A[(g + 8) * 8 + t + 4])};
    const uint32_t fb[2] = {tc::to_tf32(B[t * 8 + g]), tc::to_tf32(B[(t + 4) * 8 + g])};
    const float fc[4] = {C[g * 8 + 2 * t], C[g * 8 + 2 * t + 1], C[(g + 8) * 8 + 2 * t], C[(g + 8) * 8 + 2 * t + 1]};
    float fd[4];
    tc::mma_16x8x8_tf32(fd, fa, fb, fc);
    D[g * 8 + 2 * t] = fd[0], D[g * 8 + 2 * t + 1] = fd[1], D[(g + 8) * 8 + 2 * t] = fd[2];
    D[(g + 8) * 8 + 2 * t + 1] = fd[3];
}

std::vector<float> small_integers(size_t n, int seed) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(static_cast<int>((i * 37 + seed * 11) % 9) - 4);
    return v;
}

std::vector<float> reference(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
                             int k) {
    std::vector<float> d(16 * 8);
    for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 8; ++j) {
            float s = c[i * 8 + j];
            for (int p = 0; p < k; ++p) s += a[i * k + p] * b[p * 8 + j];  // small integers: exact
            d[i * 8 + j] = s;
        }
    return d;
}

// Each lane points at one row: lane 8i + r at row (7 - r) of matrix i, so the addresses, not the lane order,
// must decide where a row goes. Matrix i holds i * 64 + row * 8 + col.
template <bool Trans>
__global__ void load_matrices(uint32_t* out) {
    struct alignas(16) Matrices {
        uint16_t v[4][8][8];
    };
    __shared__ Matrices shared;
    auto& m = shared.v;
    for (int e = static_cast<int>(threadIdx.x); e < 256; e += 32) m[e / 64][(e / 8) % 8][e % 8] = static_cast<uint16_t>(e);
    __syncwarp();
    const int l = static_cast<int>(threadIdx.x);
    uint32_t r[4];
    tc::ldmatrix_x4<Trans>(r, &m[l / 8][7 - l % 8][0]);
    for (int i = 0; i < 4; ++i) out[l * 4 + i] = r[i];
}

// Copies 16 bytes per lane in two groups and records what shared memory holds after each wait.
__global__ void async_copies(const uint32_t* src, uint32_t* seen) {
    struct alignas(16) Buffers {
        uint32_t first[32][4], second[32][4];
    };
    __shared__ Buffers shared;
    auto& first = shared.first;
    auto& second = shared.second;
    const int l = static_cast<int>(threadIdx.x);
    for (int i = 0; i < 4; ++i) first[l][i] = second[l][i] = 0xDEADu;
    tc::cp_async_16(first[l], src + l * 4, 16);
    tc::cp_async_commit();
    tc::cp_async_16(second[l], src + 128 + l * 4, 8);  // 8 of 16 bytes: the rest zero-filled
    tc::cp_async_commit();
    seen[l] = first[l][0];               // nothing waited for yet
    tc::cp_async_wait<1>();
    seen[32 + l] = first[l][0];          // the first group is done...
    seen[64 + l] = second[l][0];         // ...the second not
    tc::cp_async_wait<0>();
    seen[96 + l] = second[l][1];
    seen[128 + l] = second[l][2];        // zero-filled
}

__global__ void mma_in_half_a_warp(float* D) {
    if (threadIdx.x >= 16) return;
    const uint32_t a[4] = {}, b[2] = {};
    const float c[4] = {};
    float d[4];
    tc::mma_16x8x16<true>(d, a, b, c);
    D[threadIdx.x] = d[0];
}

}  // namespace

TEST(EmuTensorCoreTest, MmaBf16FollowsThePtxFragmentLayout) {
    const std::vector<float> a = small_integers(256, 1), b = small_integers(128, 2), c = small_integers(128, 3);
    std::vector<uint16_t> a_bits(256), b_bits(128);
    for (size_t i = 0; i < 256; ++i) a_bits[i] = bfloat16(a[i]).bits;
    for (size_t i = 0; i < 128; ++i) b_bits[i] = bfloat16(b[i]).bits;
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<uint16_t> da(a_bits), db(b_bits);
        DeviceBuffer<float> dc(c), dd(128);
        emu::launch(dim3(1), dim3(32), 0, nullptr, one_mma_bf16, da.get(), db.get(), dc.get(), dd.get());
        EXPECT_EQ(dd.download(), reference(a, b, c, 16));
    }
}

TEST(EmuTensorCoreTest, MmaTf32FollowsThePtxFragmentLayoutAndRoundsItsInputs) {
    std::vector<float> a = small_integers(128, 4), b = small_integers(64, 5);
    const std::vector<float> c = small_integers(128, 6);
    std::vector<float> a_read = a;
    a[0] = 1.0f + 0x1p-12f;  // below TF32's precision: read as 1
    a[1] = 1.0f + 0x1p-11f;  // a tie: rounded away from zero, to 1 + 2^-10
    a_read[0] = 1.0f;
    a_read[1] = 1.0f + 0x1p-10f;
    DeviceBuffer<float> da(a), db(b), dc(c), dd(128);
    emu::launch(dim3(1), dim3(32), 0, nullptr, one_mma_tf32, da.get(), db.get(), dc.get(), dd.get());
    EXPECT_EQ(dd.download(), reference(a_read, b, c, 8));
}

TEST(EmuTensorCoreTest, LdmatrixGivesEachLaneItsPairPlainAndTransposed) {
    DeviceBuffer<uint32_t> out(128);
    emu::launch(dim3(1), dim3(32), 0, nullptr, load_matrices<false>, out.get());
    const std::vector<uint32_t> plain = out.download();
    emu::launch(dim3(1), dim3(32), 0, nullptr, load_matrices<true>, out.get());
    const std::vector<uint32_t> transposed = out.download();
    for (int l = 0; l < 32; ++l) {
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < 4; ++i) {
            // Row r of the matrix ldmatrix loads is the one lane 8i + r points at: stored row 7 - r.
            auto at = [&](int row, int col) { return static_cast<uint32_t>(i * 64 + (7 - row) * 8 + col); };
            EXPECT_EQ(plain[l * 4 + i], at(g, 2 * t) | (at(g, 2 * t + 1) << 16)) << "lane " << l << " matrix " << i;
            EXPECT_EQ(transposed[l * 4 + i], at(2 * t, g) | (at(2 * t + 1, g) << 16)) << "lane " << l << " matrix " << i;
        }
    }
}

TEST(EmuTensorCoreTest, CpAsyncLandsWhenWaitedForAndZeroFills) {
    std::vector<uint32_t> src(256);
    for (uint32_t i = 0; i < 256; ++i) src[i] = 1000 + i;
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<uint32_t> dsrc(src), seen(160);
        emu::launch(dim3(1), dim3(32), 0, nullptr, async_copies, dsrc.get(), seen.get());
        const std::vector<uint32_t> s = seen.download();
        for (uint32_t l = 0; l < 32; ++l) {
            EXPECT_EQ(s[l], 0xDEADu) << "read before any wait: the copy must not have landed";
            EXPECT_EQ(s[32 + l], 1000 + l * 4);
            EXPECT_EQ(s[64 + l], 0xDEADu) << "wait_group 1 leaves the newest group in flight";
            EXPECT_EQ(s[96 + l], 1000 + 128 + l * 4 + 1);
            EXPECT_EQ(s[128 + l], 0u);
        }
    }
}

TEST(EmuTensorCoreTest, MmaThatNotEveryLaneReachesIsReported) {
    emu::ScopedOptions scoped(checked());
    DeviceBuffer<float> d(32);
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, mma_in_half_a_warp, d.get()),
                           "mma.sync.m16n8k16 needs all 32 lanes", "tensor_core_test.cu:");
}
