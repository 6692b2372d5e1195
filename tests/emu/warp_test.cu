// Warp intrinsics in the emulator: every shuffle variant with widths below 32, 8-byte values, ballot/any/all,
// sub-warp groups and partial warps under every schedule, and the mask and site bugs check mode must report.
#include <gtest/gtest.h>

#include "emu/emu_test_util.h"
#include "runtime/cuda_api.h"

using namespace emu_test;

namespace {

enum Variant { kIdx, kUp, kDown, kXor };

__device__ int lane_value(unsigned tid) { return static_cast<int>(tid) * 3 + 1; }

__global__ void shuffle_kernel(int* out, int variant, int param, int width) {
    const unsigned tid = threadIdx.x;
    const int v = lane_value(tid);
    int r = 0;
    switch (variant) {
        case kIdx: r = __shfl_sync(0xffffffffu, v, param, width); break;
        case kUp: r = __shfl_up_sync(0xffffffffu, v, static_cast<unsigned>(param), width); break;
        case kDown: r = __shfl_down_sync(0xffffffffu, v, static_cast<unsigned>(param), width); break;
        case kXor: r = __shfl_xor_sync(0xffffffffu, v, param, width); break;
    }
    out[tid] = r;
}

int expected_shuffle(unsigned tid, int variant, int param, int width) {
    const int lane = static_cast<int>(tid % 32), base = static_cast<int>(tid) - lane;
    const int segment = lane & ~(width - 1);
    int src = lane;
    switch (variant) {
        case kIdx: src = segment + (param & (width - 1)); break;
        case kUp: src = (lane & (width - 1)) >= param ? lane - param : lane; break;
        case kDown: src = (lane & (width - 1)) + param < width ? lane + param : lane; break;
        case kXor: src = (lane ^ param) >= segment + width ? lane : (lane ^ param); break;
    }
    return static_cast<int>(base + src) * 3 + 1;
}

TEST(EmuWarpTest, ShuffleVariantsWithEveryWidth) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        for (int variant : {kIdx, kUp, kDown, kXor}) {
            for (int width : {32, 16, 8, 4, 2}) {
                for (int param : {0, 1, 3, 5}) {
                    if (variant == kXor && param == 0) continue;
                    DeviceBuffer<int> out(64);
                    emu::launch(dim3(1), dim3(64), 0, nullptr, shuffle_kernel, out.get(), variant, param, width);
                    const auto r = out.download();
                    for (unsigned t = 0; t < 64; ++t)
                        ASSERT_EQ(r[t], expected_shuffle(t, variant, param, width))
                            << "variant " << variant << " width " << width << " param " << param << " thread " << t
                            << " " << o.str();
                }
            }
        }
    }
}

struct Pair {
    float a;
    int b;
};

__global__ void warp_sum_double(const double* in, double* out, Pair* pairs) {
    double v = in[threadIdx.x];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0) out[threadIdx.x / 32] = v;
    const Pair p{static_cast<float>(threadIdx.x) * 0.5f, static_cast<int>(threadIdx.x)};
    pairs[threadIdx.x] = __shfl_xor_sync(0xffffffffu, p, 1);
}

TEST(EmuWarpTest, EightByteValuesAndStructs) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        std::vector<double> in(96);
        for (int i = 0; i < 96; ++i) in[i] = i * 0.25;
        DeviceBuffer<double> din(in), dout(3);
        DeviceBuffer<Pair> pairs(96);
        emu::launch(dim3(1), dim3(96), 0, nullptr, warp_sum_double, din.get(), dout.get(), pairs.get());
        const auto sums = dout.download();
        for (int w = 0; w < 3; ++w) {
            double s = 0;
            for (int i = 0; i < 32; ++i) s += in[w * 32 + i];
            EXPECT_EQ(sums[w], s);
        }
        const auto p = pairs.download();
        for (int i = 0; i < 96; ++i) {
            EXPECT_EQ(p[i].b, i ^ 1);
            EXPECT_EQ(p[i].a, (i ^ 1) * 0.5f);
        }
    }
}

__global__ void vote_kernel(unsigned* out) {
    const unsigned lane = threadIdx.x % 32;
    const int pred = lane % 3 == 0;
    out[threadIdx.x * 5 + 0] = __ballot_sync(0xffffffffu, pred);
    out[threadIdx.x * 5 + 1] = static_cast<unsigned>(__any_sync(0xffffffffu, pred));
    out[threadIdx.x * 5 + 2] = static_cast<unsigned>(__all_sync(0xffffffffu, pred));
    out[threadIdx.x * 5 + 3] = static_cast<unsigned>(__all_sync(0xffffffffu, lane < 40));
    // Two half-warp groups at different sites with disjoint masks: legal, and they do not interfere.
    if (lane < 16) {
        out[threadIdx.x * 5 + 4] = __ballot_sync(0x0000ffffu, lane % 2 == 0);
    } else {
        out[threadIdx.x * 5 + 4] = __ballot_sync(0xffff0000u, lane % 4 == 0);
    }
}

TEST(EmuWarpTest, BallotAnyAllAndSubWarpGroups) {
    unsigned every_third = 0;
    for (unsigned l = 0; l < 32; l += 3) every_third |= 1u << l;
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<unsigned> out(48 * 5);  // a full warp and a partial one of 16 lanes
        emu::launch(dim3(1), dim3(48), 0, nullptr, vote_kernel, out.get());
        const auto r = out.download();
        for (unsigned t = 0; t < 48; ++t) {
            const unsigned lanes = t < 32 ? 0xffffffffu : 0x0000ffffu;
            EXPECT_EQ(r[t * 5 + 0], every_third & lanes) << t;
            EXPECT_EQ(r[t * 5 + 1], 1u);
            EXPECT_EQ(r[t * 5 + 2], 0u);
            EXPECT_EQ(r[t * 5 + 3], 1u);
            const unsigned expected = t % 32 < 16 ? 0x5555u : 0x11110000u;
            EXPECT_EQ(r[t * 5 + 4], expected & lanes) << t;
        }
    }
}

__global__ void active_mask_kernel(unsigned* out) {
    if (threadIdx.x % 32 >= 20) return;
    __syncwarp(0x000fffffu);
    out[threadIdx.x] = __activemask();
}

TEST(EmuWarpTest, ActiveMaskLeavesOutExitedLanes) {
    emu::ScopedOptions scoped(checked());
    DeviceBuffer<unsigned> out(32);
    emu::launch(dim3(1), dim3(32), 0, nullptr, active_mask_kernel, out.get());
    const auto r = out.download();
    for (int i = 0; i < 20; ++i) EXPECT_EQ(r[i], 0x000fffffu);
}

// ---- planted bug 3: warp op masks and sites.
__global__ void sum_with_mask(const int* in, int* out, unsigned mask) {
    int v = in[threadIdx.x];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(mask, v, offset);
    if (threadIdx.x == 0) *out = v;
}

TEST(EmuWarpTest, FullMaskReductionIsCorrect) {
    std::vector<int> in(32);
    for (int i = 0; i < 32; ++i) in[i] = i * i;
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<int> din(in), out(1);
        emu::launch(dim3(1), dim3(32), 0, nullptr, sum_with_mask, din.get(), out.get(), 0xffffffffu);
        EXPECT_EQ(out.download()[0], 10416);
    }
}

TEST(EmuWarpTest, WrongMaskIsReported) {
    // 0x1f where 0xffffffff was meant, called by all 32 lanes.
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<int> in(32), out(1);
        EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, sum_with_mask, in.get(), out.get(), 0x1fu),
                               "__shfl_down_sync at emu/warp_test.cu", "is not in mask 0x0000001f", "block (0,0,0)");
    }
}

__global__ void half_warp_reads_exited_lanes(int* out) {
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<int>(threadIdx.x), 16);
}

__global__ void reduce_in_small_block(int* out) {
    int v = static_cast<int>(threadIdx.x);
    for (int mask = 16; mask > 0; mask /= 2) v += __shfl_xor_sync(0xffffffffu, v, mask);
    out[threadIdx.x] = v;
}

__global__ void lanes_at_different_sites(int* out) {
    int v = static_cast<int>(threadIdx.x);
    if (threadIdx.x % 2 == 0) {
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    } else {
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    }
    out[threadIdx.x] = v;
}

__global__ void bad_width(int* out) { out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0, 12); }

TEST(EmuWarpTest, SourceLanesOutsideTheGroupMismatchedSitesAndBadWidthsAreReported) {
    emu::ScopedOptions scoped(checked(emu::Schedule::Random, 7));
    DeviceBuffer<int> out(32);
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, half_warp_reads_exited_lanes, out.get()),
                           "source lane 16", "has exited");
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(16), 0, nullptr, reduce_in_small_block, out.get()),
                           "source lane", "does not exist (partial warp)");
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, lanes_at_different_sites, out.get()),
                           "warp lanes disagree", "emu/warp_test.cu");
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, bad_width, out.get()),
                           "width 12 is not a power of two");
}

TEST(EmuWarpTest, FastModeToleratesMismatchedSites) {
    emu::ScopedOptions scoped(fast());
    DeviceBuffer<int> out(32);
    emu::launch(dim3(1), dim3(32), 0, nullptr, lanes_at_different_sites, out.get());
    const auto r = out.download();
    for (int i = 0; i < 32; ++i) EXPECT_EQ(r[i], i ^ 1);
}

}  // namespace
