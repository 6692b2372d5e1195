// Planted bug 4: block reductions that are only right when the size is a multiple of the block size. A harness
// that sums sizes 1, 31, 33, 1000, 1023 and 1025 and compares with a CPU sum must tell them from the correct
// kernel, under every schedule (and with guarded memory the unchecked load is reported as out of bounds).
#include <gtest/gtest.h>

#include <string>

#include "emu/emu_test_util.h"
#include "runtime/cuda_api.h"

using namespace emu_test;

namespace {

constexpr unsigned kThreads = 256;

enum class Bug { None, FloorGrid, NoTailGuard };

// Shared-memory tree over the block, then a warp-shuffle finish and one atomicAdd per block.
template <bool TailGuard>
__global__ void block_sum(const float* in, float* out, int n) {
    __shared__ float s[kThreads];
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = TailGuard ? (static_cast<int>(i) < n ? in[i] : 0.0f) : in[i];
    __syncthreads();
    for (unsigned stride = blockDim.x / 2; stride >= 32; stride /= 2) {
        if (threadIdx.x < stride) s[threadIdx.x] += s[threadIdx.x + stride];
        __syncthreads();
    }
    if (threadIdx.x < 32) {
        float v = s[threadIdx.x];
        for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
        if (threadIdx.x == 0) atomicAdd(out, v);
    }
}

// The sum of n values (small integers, so float sums are exact), or an error message.
std::string device_sum(Bug bug, int n, float* result) {
    std::vector<float> host(n);
    for (int i = 0; i < n; ++i) host[i] = static_cast<float>(i % 17 + 1);
    DeviceBuffer<float> in(host), out(std::vector<float>{0.0f});
    const unsigned blocks = bug == Bug::FloorGrid ? n / kThreads : (n + kThreads - 1) / kThreads;
    try {
        if (blocks > 0) {
            if (bug == Bug::NoTailGuard) {
                emu::launch(dim3(blocks), dim3(kThreads), 0, nullptr, block_sum<false>, in.get(), out.get(), n);
            } else {
                emu::launch(dim3(blocks), dim3(kThreads), 0, nullptr, block_sum<true>, in.get(), out.get(), n);
            }
        }
    } catch (const emu::EmulationError& e) {
        return e.what();
    }
    *result = out.download()[0];
    return "";
}

double cpu_sum(int n) {
    double s = 0;
    for (int i = 0; i < n; ++i) s += i % 17 + 1;
    return s;
}

// How many of the awkward sizes the kernel gets wrong (a wrong sum or a reported error).
int wrong_sizes(Bug bug, std::string* first_error) {
    int wrong = 0;
    for (int n : {1, 31, 33, 1000, 1023, 1025}) {
        float result = 0;
        const std::string error = device_sum(bug, n, &result);
        if (!error.empty() && first_error->empty()) *first_error = error;
        wrong += !error.empty() || result != cpu_sum(n);
    }
    return wrong;
}

TEST(EmuReductionTest, CorrectBlockSumPassesEverySizeUnderEverySchedule) {
    for (bool check : {false, true}) {
        for (const emu::Options& o : all_schedules(check)) {
            emu::ScopedOptions scoped(o);
            std::string error;
            EXPECT_EQ(wrong_sizes(Bug::None, &error), 0) << o.str() << ": " << error;
            float result = 0;
            EXPECT_EQ(device_sum(Bug::None, 4096, &result), "");
            EXPECT_EQ(result, cpu_sum(4096));
        }
    }
}

TEST(EmuReductionTest, FloorGridDropsTheTail) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        std::string error;
        EXPECT_EQ(wrong_sizes(Bug::FloorGrid, &error), 6) << o.str();
    }
}

TEST(EmuReductionTest, MissingTailGuardIsReportedAsOutOfBounds) {
    for (const emu::Options& o : all_schedules(true)) {
        emu::ScopedOptions scoped(o);
        std::string error;
        EXPECT_EQ(wrong_sizes(Bug::NoTailGuard, &error), 6) << o.str();
        EXPECT_NE(error.find("bytes past the end of allocation"), std::string::npos) << error;
    }
}

}  // namespace
