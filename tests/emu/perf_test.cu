// Costs of the emulator (not run in CI; run with --gtest_also_run_disabled_tests --gtest_filter='EmuPerf*'):
// a barrier-free vector add of 16M floats against a plain loop, and a 256^3 tiled SGEMM with two barriers per
// tile step, in fast and check mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <cstdio>

#include "emu/emu_test_util.h"
#include "runtime/cuda_api.h"

using namespace emu_test;

namespace {

__global__ void vector_add(const float* a, const float* b, float* c, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

constexpr int kTile = 16;

__global__ void sgemm_tiled(const float* a, const float* b, float* c, int n) {
    __shared__ float ta[kTile][kTile];
    __shared__ float tb[kTile][kTile];
    const int row = blockIdx.y * kTile + threadIdx.y, col = blockIdx.x * kTile + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < n; t += kTile) {
        ta[threadIdx.y][threadIdx.x] = a[row * n + t + threadIdx.x];
        tb[threadIdx.y][threadIdx.x] = b[(t + threadIdx.y) * n + col];
        __syncthreads();
        for (int k = 0; k < kTile; ++k) acc += ta[threadIdx.y][k] * tb[k][threadIdx.x];
        __syncthreads();
    }
    c[row * n + col] = acc;
}

// Best of `repeats` runs in process CPU milliseconds (all threads), which other processes on a shared machine
// distort less than wall time.
template <class F>
double best_ms(int repeats, F&& f) {
    double best = 1e30;
    for (int r = 0; r < repeats; ++r) {
        const std::clock_t t0 = std::clock();
        f();
        best = std::min(best, 1000.0 * static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC);
    }
    return best;
}

TEST(EmuPerfTest, DISABLED_VectorAddAndTiledSgemm) {
    const int n = 16 << 20;
    DeviceBuffer<float> a(std::vector<float>(n, 1.0f)), b(std::vector<float>(n, 2.0f)), c(n);
    std::vector<float> ha(n, 1.0f), hb(n, 2.0f), hc(n);
    const double native = best_ms(5, [&] {
#pragma omp parallel for
        for (int i = 0; i < n; ++i) hc[i] = ha[i] + hb[i];
    });
    const int m = 256;
    DeviceBuffer<float> ma(std::vector<float>(m * m, 0.5f)), mb(std::vector<float>(m * m, 2.0f)), mc(m * m);
    for (bool check : {false, true}) {
        emu::ScopedOptions scoped(check ? checked() : fast());
        const double add = best_ms(5, [&] {
            emu::launch(dim3((n + 255) / 256), dim3(256), 0, nullptr, vector_add, a.get(), b.get(), c.get(), n);
        });
        EXPECT_EQ(c.download()[n - 1], 3.0f);
        emu::reset_stats();
        const double gemm = best_ms(3, [&] {
            emu::launch(dim3(m / kTile, m / kTile), dim3(kTile, kTile), 0, nullptr, sgemm_tiled, ma.get(), mb.get(),
                        mc.get(), m);
        });
        const emu::Stats s = emu::stats();
        EXPECT_EQ(mc.download()[0], static_cast<float>(m));
        std::printf("[%s] vector add 16M floats: %.1f CPU ms (plain OpenMP loop %.1f CPU ms); sgemm 256^3 tiled: "
                    "%.1f CPU ms (%llu switches over %llu launches)\n",
                    check ? "check" : "fast", add, native, gemm, static_cast<unsigned long long>(s.switches),
                    static_cast<unsigned long long>(s.launches));
    }
}

}  // namespace
