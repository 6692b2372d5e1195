// Block barriers in the emulator: correct kernels (barriers in loops and nested device functions, the
// count/and/or variants, 1- and 1024-thread blocks, 3-D grids, dynamic shared memory) under every schedule, and
// the planted bugs the schedules and checks must catch: a missing barrier, a divergent barrier, a deadlock.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "emu/emu_test_util.h"
#include "runtime/cuda/emu/shared_memory.cuh"
#include "runtime/cuda_api.h"

using namespace emu_test;

namespace {

constexpr int kTile = 16;

__device__ void load_tile(float (*tile)[kTile + 1], const float* m, int rows, int cols, int row, int col) {
    tile[threadIdx.y][threadIdx.x] = row < rows && col < cols ? m[row * cols + col] : 0.0f;
}

__device__ void sync_in_helper() { __syncthreads(); }

// C = A (m x k) * B (k x n): two barriers per tile step, one of them inside a nested device function.
__global__ void tiled_matmul(const float* a, const float* b, float* c, int m, int k, int n) {
    __shared__ float ta[kTile][kTile + 1];
    __shared__ float tb[kTile][kTile + 1];
    const int row = blockIdx.y * kTile + threadIdx.y;
    const int col = blockIdx.x * kTile + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < k; t += kTile) {
        load_tile(ta, a, m, k, row, t + threadIdx.x);
        load_tile(tb, b, k, n, t + threadIdx.y, col);
        sync_in_helper();
        for (int i = 0; i < kTile; ++i) acc += ta[threadIdx.y][i] * tb[i][threadIdx.x];
        __syncthreads();
    }
    if (row < m && col < n) c[row * n + col] = acc;
}

std::vector<float> cpu_matmul(const std::vector<float>& a, const std::vector<float>& b, int m, int k, int n) {
    std::vector<float> c(static_cast<size_t>(m) * n);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p) s += static_cast<double>(a[i * k + p]) * b[p * n + j];
            c[i * n + j] = static_cast<float>(s);
        }
    return c;
}

std::vector<float> iota_values(size_t n, float scale) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>((i * 7919) % 23) * scale - 1.0f;
    return v;
}

TEST(EmuBarrierTest, TiledMatmulWithBarriersInLoopsAndHelpersUnderEverySchedule) {
    const int m = 37, k = 45, n = 29;  // none a multiple of the tile
    const auto a = iota_values(m * k, 0.125f), b = iota_values(k * n, 0.25f);
    const auto expected = cpu_matmul(a, b, m, k, n);
    for (bool check : {false, true}) {
        for (const emu::Options& o : all_schedules(check)) {
            emu::ScopedOptions scoped(o);
            DeviceBuffer<float> da(a), db(b), dc(m * n);
            emu::launch(dim3((n + kTile - 1) / kTile, (m + kTile - 1) / kTile), dim3(kTile, kTile), 0, nullptr,
                        tiled_matmul, da.get(), db.get(), dc.get(), m, k, n);
            const auto c = dc.download();
            for (size_t i = 0; i < c.size(); ++i) ASSERT_NEAR(c[i], expected[i], 1e-3) << o.str() << " at " << i;
        }
    }
}

__global__ void barrier_variants(const int* flags, int* out) {
    const int f = flags[threadIdx.x];
    const int count = __syncthreads_count(f);
    const int all = __syncthreads_and(f);
    const int any = __syncthreads_or(f);
    out[threadIdx.x * 3 + 0] = count;
    out[threadIdx.x * 3 + 1] = all;
    out[threadIdx.x * 3 + 2] = any;
}

TEST(EmuBarrierTest, CountAndOrVariants) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        for (int pattern = 0; pattern < 3; ++pattern) {
            std::vector<int> flags(100);
            for (int i = 0; i < 100; ++i) flags[i] = pattern == 0 ? (i % 3 == 0) : pattern == 1 ? 1 : 0;
            const int count = std::accumulate(flags.begin(), flags.end(), 0);
            DeviceBuffer<int> df(flags), dout(300);
            emu::launch(dim3(1), dim3(100), 0, nullptr, barrier_variants, df.get(), dout.get());
            const auto out = dout.download();
            for (int i = 0; i < 100; ++i) {
                ASSERT_EQ(out[i * 3], count);
                ASSERT_EQ(out[i * 3 + 1], count == 100 ? 1 : 0);
                ASSERT_EQ(out[i * 3 + 2], count > 0 ? 1 : 0);
            }
        }
    }
}

// Every thread writes its global linear id after a barrier; blocks and grids in three dimensions.
__global__ void global_ids(unsigned* out) {
    const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
    __syncthreads();
    out[block * per_block + thread] = block * per_block + thread;
}

TEST(EmuBarrierTest, OneThreadBlocksFullBlocksAndThreeDimensionalGrids) {
    const dim3 cases[][2] = {{dim3(7), dim3(1)},
                             {dim3(3), dim3(1024)},
                             {dim3(3, 4, 5), dim3(4, 4, 4)},
                             {dim3(2, 1, 3), dim3(1, 1, 64)},
                             {dim3(1, 2, 1), dim3(33, 3)}};
    for (const emu::Options& o : {fast(), checked(emu::Schedule::Reverse)}) {
        emu::ScopedOptions scoped(o);
        for (const auto& c : cases) {
            const size_t total = static_cast<size_t>(c[0].x) * c[0].y * c[0].z * c[1].x * c[1].y * c[1].z;
            DeviceBuffer<unsigned> out(total);
            emu::launch(c[0], c[1], 0, nullptr, global_ids, out.get());
            const auto ids = out.download();
            for (size_t i = 0; i < total; ++i) ASSERT_EQ(ids[i], i) << o.str();
        }
    }
}

// Reverses each block's slice through dynamic shared memory.
__global__ void reverse_in_block(const float* in, float* out, int n) {
    ENGINE_DYNAMIC_SHARED(float, buffer);
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    buffer[threadIdx.x] = i < n ? in[i] : 0.0f;
    __syncthreads();
    const int j = blockIdx.x * blockDim.x + (blockDim.x - 1 - threadIdx.x);
    if (j < n) out[j] = buffer[threadIdx.x];
}

TEST(EmuBarrierTest, DynamicSharedMemory) {
    const int n = 1000, threads = 200;
    const auto in = iota_values(n, 1.0f);
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<float> din(in), dout(n);
        emu::launch(dim3(n / threads), dim3(threads), threads * sizeof(float), nullptr, reverse_in_block, din.get(),
                    dout.get(), n);
        const auto out = dout.download();
        for (int i = 0; i < n; ++i) {
            const int block = i / threads, t = i % threads;
            ASSERT_EQ(out[block * threads + threads - 1 - t], in[i]) << o.str();
        }
    }
}

__global__ void read_dynamic_shared_first(float* out) {
    ENGINE_DYNAMIC_SHARED(float, buffer);
    out[threadIdx.x] = buffer[threadIdx.x];  // never written: poisoned in check mode
}

TEST(EmuBarrierTest, CheckModePoisonsDynamicSharedMemoryAtEachBlockStart) {
    emu::ScopedOptions scoped(checked());
    DeviceBuffer<float> out(32);
    emu::launch(dim3(1), dim3(32), 32 * sizeof(float), nullptr, read_dynamic_shared_first, out.get());
    for (float v : out.download()) EXPECT_TRUE(std::isnan(v));
}

// ---- planted bug 1: a missing barrier. Each thread reads its left neighbour's value from shared memory,
// which happens to work when threads run in order and fails when they do not.
template <bool WithBarrier>
__global__ void shift_right(const int* in, int* out) {
    __shared__ int s[256];
    s[threadIdx.x] = in[threadIdx.x];
    if (WithBarrier) __syncthreads();
    out[threadIdx.x] = threadIdx.x > 0 ? s[threadIdx.x - 1] : -1;
}

// A tree reduction with the barrier inside its loop left out.
template <bool WithBarrier>
__global__ void tree_sum(const int* in, int* out) {
    __shared__ int s[256];
    s[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        if (WithBarrier) __syncthreads();
    }
    if (threadIdx.x == 0) *out = s[0];
}

template <class Kernel>
std::vector<std::vector<int>> results_per_schedule(Kernel kernel, const std::vector<int>& in, size_t out_size) {
    std::vector<std::vector<int>> results;
    for (bool check : {false, true}) {
        for (const emu::Options& o : all_schedules(check)) {
            emu::ScopedOptions scoped(o);
            DeviceBuffer<int> din(in), dout(out_size);
            emu::launch(dim3(1), dim3(static_cast<unsigned>(in.size())), 0, nullptr, kernel, din.get(), dout.get());
            results.push_back(dout.download());
        }
    }
    return results;
}

TEST(EmuBarrierTest, MissingBarrierIsExposedByTheSchedules) {
    std::vector<int> in(256);
    std::iota(in.begin(), in.end(), 1);
    std::vector<int> shifted(256);
    for (int i = 0; i < 256; ++i) shifted[i] = i > 0 ? in[i - 1] : -1;
    for (const auto& r : results_per_schedule(shift_right<true>, in, 256)) EXPECT_EQ(r, shifted);
    int wrong = 0;
    for (const auto& r : results_per_schedule(shift_right<false>, in, 256)) wrong += r != shifted;
    EXPECT_GT(wrong, 0) << "no schedule exposed the missing __syncthreads in shift_right";

    const int sum = 256 * 257 / 2;
    for (const auto& r : results_per_schedule(tree_sum<true>, in, 1)) EXPECT_EQ(r[0], sum);
    wrong = 0;
    for (const auto& r : results_per_schedule(tree_sum<false>, in, 1)) wrong += r[0] != sum;
    EXPECT_GT(wrong, 0) << "no schedule exposed the missing __syncthreads in tree_sum";
}

// ---- planted bug 5: a barrier that only part of the block reaches at that site.
__global__ void divergent_barrier(int* out) {
    if (threadIdx.x < 16) {
        __syncthreads();
        out[threadIdx.x] = 1;
    } else {
        out[threadIdx.x] = 2;
    }
    __syncthreads();
}

TEST(EmuBarrierTest, DivergentBarrierIsReportedInCheckMode) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<int> out(64);
        EXPECT_EMULATION_ERROR(emu::launch(dim3(2), dim3(64), 0, nullptr, divergent_barrier, out.get()),
                               "divergent __syncthreads", "barrier_test.cu", "block (0,0,0)", "thread (");
    }
}

__global__ void early_exit_then_barrier(int* values, int* out, int n) {
    if (static_cast<int>(threadIdx.x) >= n) return;  // exited threads count as arrived, as on NVIDIA GPUs
    values[threadIdx.x] = static_cast<int>(threadIdx.x) * 10;
    __syncthreads();
    out[threadIdx.x] = values[(threadIdx.x + 1) % n];
}

TEST(EmuBarrierTest, ExitedThreadsDoNotBlockABarrier) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        DeviceBuffer<int> values(64), out(64);
        emu::launch(dim3(1), dim3(64), 0, nullptr, early_exit_then_barrier, values.get(), out.get(), 40);
        const auto r = out.download();
        for (int i = 0; i < 40; ++i) EXPECT_EQ(r[i], ((i + 1) % 40) * 10) << o.str();
    }
}

// ---- planted bug 6: half a warp waits at a block barrier, the other half at a warp barrier that needs them.
__global__ void barrier_deadlock(int* out) {
    if (threadIdx.x < 16) {
        __syncthreads();
    } else {
        __syncwarp();
    }
    out[threadIdx.x] = 1;
}

TEST(EmuBarrierTest, DeadlockIsReportedNotHung) {
    for (bool check : {false, true}) {
        for (const emu::Options& o : all_schedules(check)) {
            emu::ScopedOptions scoped(o);
            DeviceBuffer<int> out(32);
            EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(32), 0, nullptr, barrier_deadlock, out.get()),
                                   "deadlock", "block (0,0,0)", "__syncthreads at emu/barrier_test.cu",
                                   "__syncwarp mask 0xffffffff at emu/barrier_test.cu");
        }
    }
    // The emulator is usable again after the error.
    DeviceBuffer<unsigned> out(64);
    emu::launch(dim3(2), dim3(32), 0, nullptr, global_ids, out.get());
    EXPECT_EQ(out.download()[63], 63u);
}

}  // namespace
