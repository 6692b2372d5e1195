// Device memory, atomics and the runtime API of the emulated device: guarded allocations that turn
// out-of-bounds and use-after-free accesses into errors naming the allocation (planted bug 2), poisoned fresh
// memory, atomics from many blocks, launch configuration errors, streams, events and device properties.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "emu/emu_test_util.h"
#include "runtime/cuda/emu/shared_memory.cuh"
#include "kernels/cuda/launch.cuh"
#include "runtime/cuda_api.h"
#include "runtime/settings.h"

using namespace emu_test;

namespace {

template <bool Guarded>
__global__ void scale(const float* in, float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (Guarded && i >= n) return;
    out[i] = in[i] * 2.0f;
}

TEST(EmuMemoryTest, GuardedKernelPassesAndUnguardedIndexIsReported) {
    const int n = 1000;  // 4 blocks of 256: the last one has 24 threads past the end
    emu::ScopedOptions scoped(checked());
    std::vector<float> host(n, 1.5f);
    DeviceBuffer<float> in(host), out(n);
    emu::launch(dim3(4), dim3(256), 0, nullptr, scale<true>, in.get(), out.get(), n);
    for (float v : out.download()) ASSERT_EQ(v, 3.0f);
    EXPECT_EMULATION_ERROR(emu::launch(dim3(4), dim3(256), 0, nullptr, scale<false>, in.get(), out.get(), n),
                           "invalid global memory access", "0 bytes past the end of allocation", "(4000 bytes",
                           "block (3,0,0)", "thread (232,0,0)");
}

TEST(EmuMemoryTest, OutOfBoundsIsReportedWithEveryScheduleAndThreadCount) {
    for (const emu::Options& base : all_schedules(false)) {
        emu::Options o = base;
        o.guard_memory = true;
        o.threads = 2;
        emu::ScopedOptions scoped(o);
        DeviceBuffer<float> in(999), out(999);
        EXPECT_EMULATION_ERROR(emu::launch(dim3(4), dim3(256), 0, nullptr, scale<false>, in.get(), out.get(), 999),
                               "past the end of allocation");
    }
}

__global__ void write_at(int* p, long offset) { p[offset] = 7; }
__global__ void read_at(const int* p, long offset, int* out) { *out = p[offset]; }

TEST(EmuMemoryTest, NegativeIndexWriteAndUseAfterFreeAreReported) {
    emu::ScopedOptions scoped(checked());
    DeviceBuffer<int> result(1);
    {
        DeviceBuffer<int> data(100);
        EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(1), 0, nullptr, write_at, data.get(), -1L),
                               "out-of-bounds write 4 bytes before the start of allocation");
        EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(1), 0, nullptr, write_at, data.get(), -1100L),
                               "before the start of allocation");
        emu::launch(dim3(1), dim3(1), 0, nullptr, write_at, data.get(), 99L);
        EXPECT_EQ(data.download()[99], 7);
    }
    int* freed = nullptr;
    ASSERT_EQ(cudaMalloc(&freed, 64 * sizeof(int)), cudaSuccess);
    ASSERT_EQ(cudaFree(freed), cudaSuccess);
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(1), 0, nullptr, read_at, freed, 3L, result.get()),
                           "use after free");
}

__global__ void shared_overrun(float* out, int n) {
    ENGINE_DYNAMIC_SHARED(float, buffer);
    buffer[threadIdx.x] = 1.0f;
    __syncthreads();
    out[threadIdx.x] = buffer[threadIdx.x + static_cast<unsigned>(n)];
}

TEST(EmuMemoryTest, DynamicSharedMemoryOverrunIsReported) {
    emu::ScopedOptions scoped(fast());
    DeviceBuffer<float> out(64);
    emu::launch(dim3(1), dim3(64), 64 * sizeof(float), nullptr, shared_overrun, out.get(), 0);
    EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(64), 64 * sizeof(float), nullptr, shared_overrun, out.get(), 1),
                           "out-of-bounds dynamic shared memory access", "the launch's 256 bytes");
}

__device__ int deep_recursion(int depth) {
    volatile char frame[1024];  // below a page per frame, so the guard page cannot be skipped
    frame[0] = static_cast<char>(depth);
    return depth == 0 ? frame[0] : deep_recursion(depth - 1) + frame[0];
}

__global__ void overflow_fiber_stack(int* out, int depth) {
    __syncthreads();  // from here on every thread but the first runs on a 64 KiB fiber stack
    out[threadIdx.x] = deep_recursion(threadIdx.x == 1 ? depth : 1);
}

TEST(EmuMemoryTest, FiberStackOverflowIsReported) {
    for (const emu::Options& o : {fast(), checked()}) {  // forward: thread 0 promotes, thread 1 is a fiber
        emu::ScopedOptions scoped(o);
        DeviceBuffer<int> out(2);
        emu::launch(dim3(1), dim3(2), 0, nullptr, overflow_fiber_stack, out.get(), 20);
        EXPECT_EMULATION_ERROR(emu::launch(dim3(1), dim3(2), 0, nullptr, overflow_fiber_stack, out.get(), 1000),
                               "stack overflow", "thread (1,0,0)");
    }
}

TEST(EmuMemoryTest, FreshAllocationsArePoisoned) {
    DeviceBuffer<float> f(10);
    for (float v : f.download()) EXPECT_TRUE(std::isnan(v));
    DeviceBuffer<int> i(10);
    for (int v : i.download()) EXPECT_EQ(v, -1);
    ASSERT_EQ(cudaMemset(i.get(), 0, 10 * sizeof(int)), cudaSuccess);
    for (int v : i.download()) EXPECT_EQ(v, 0);
}

__global__ void atomics_kernel(int* ints, unsigned* uints, unsigned long long* ulls, float* f, double* d) {
    const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    atomicAdd(&ints[0], 1);
    atomicSub(&ints[1], 2);
    atomicMax(&ints[2], g);
    atomicMin(&ints[3], -g);
    atomicOr(&uints[0], 1u << (g % 32));
    atomicAnd(&uints[1], ~(1u << (g % 16)));
    atomicXor(&uints[2], 1u);
    atomicInc(&uints[3], 9u);
    atomicAdd(&ulls[0], 3ull);
    atomicCAS(&ulls[1], 0ull, static_cast<unsigned long long>(g) + 100);
    atomicAdd(f, 0.5f);
    atomicAdd(d, 0.25);
    atomicExch(&ints[4], 42);
}

TEST(EmuMemoryTest, AtomicsFromManyBlocks) {
    for (const emu::Options& o : {fast(), checked(emu::Schedule::Random, 3)}) {
        emu::ScopedOptions scoped(o);
        const int blocks = 50, threads = 96, total = blocks * threads;
        DeviceBuffer<int> ints(std::vector<int>{0, 0, -1, 1, 0});
        DeviceBuffer<unsigned> uints(std::vector<unsigned>{0, 0xffffffffu, 0, 0});
        DeviceBuffer<unsigned long long> ulls(std::vector<unsigned long long>{0, 0});
        DeviceBuffer<float> f(std::vector<float>{0});
        DeviceBuffer<double> d(std::vector<double>{0});
        emu::launch(dim3(blocks), dim3(threads), 0, nullptr, atomics_kernel, ints.get(), uints.get(), ulls.get(),
                    f.get(), d.get());
        const auto i = ints.download();
        EXPECT_EQ(i[0], total);
        EXPECT_EQ(i[1], -2 * total);
        EXPECT_EQ(i[2], total - 1);
        EXPECT_EQ(i[3], -(total - 1));
        EXPECT_EQ(i[4], 42);
        const auto u = uints.download();
        EXPECT_EQ(u[0], 0xffffffffu);
        EXPECT_EQ(u[1], 0xffff0000u);
        EXPECT_EQ(u[2], static_cast<unsigned>(total % 2));
        EXPECT_EQ(u[3], static_cast<unsigned>(total % 10));
        const auto l = ulls.download();
        EXPECT_EQ(l[0], 3ull * total);
        EXPECT_GE(l[1], 100ull);
        EXPECT_LT(l[1], 100ull + total);
        EXPECT_EQ(f.download()[0], 0.5f * total);
        EXPECT_EQ(d.download()[0], 0.25 * total);
    }
}

__global__ void noop(int*) {}
__global__ void noop_with_more_shared(int*) {}

TEST(EmuMemoryTest, InvalidLaunchConfigurationsSetTheLastError) {
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    const struct {
        dim3 grid, block;
        size_t shared;
        cudaError_t error;
    } cases[] = {{dim3(0), dim3(32), 0, cudaErrorInvalidConfiguration},
                 {dim3(1), dim3(0), 0, cudaErrorInvalidConfiguration},
                 {dim3(1), dim3(1025), 0, cudaErrorInvalidConfiguration},
                 {dim3(1), dim3(32, 33), 0, cudaErrorInvalidConfiguration},
                 {dim3(1), dim3(1, 1, 65), 0, cudaErrorInvalidConfiguration},
                 {dim3(1, 65536), dim3(1), 0, cudaErrorInvalidConfiguration},
                 {dim3(1), dim3(32), 49 * 1024, cudaErrorInvalidValue}};
    for (const auto& c : cases) {
        emu::launch(c.grid, c.block, c.shared, nullptr, noop, nullptr);
        EXPECT_EQ(cudaPeekAtLastError(), c.error);
        EXPECT_EQ(cudaGetLastError(), c.error);
        EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // cleared by the read
    }
    ASSERT_EQ(cudaFuncSetAttribute(noop_with_more_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024),
              cudaSuccess);
    emu::launch(dim3(1), dim3(32), 100 * 1024, nullptr, noop_with_more_shared, nullptr);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(EmuMemoryTest, LaunchHeaderTurnsErrorsIntoDeviceErrors) {
    using engine::cuda::LaunchConfig;
    try {
        engine::cuda::launch("noop", engine::Shape{3}, LaunchConfig{dim3(1), dim3(2048)}, noop, nullptr);
        ADD_FAILURE() << "no DeviceError for 2048 threads per block";
    } catch (const engine::DeviceError& e) {
        EXPECT_NE(std::string(e.what()).find("invalid configuration argument"), std::string::npos) << e.what();
    }
    emu::ScopedOptions scoped(checked());
    DeviceBuffer<float> in(10), out(10);
    try {
        engine::cuda::launch("scale", engine::Shape{10}, LaunchConfig{dim3(1), dim3(32)}, scale<false>, in.get(),
                             out.get(), 10);
        ADD_FAILURE() << "no DeviceError for an out-of-bounds access";
    } catch (const engine::DeviceError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("scale [10]: kernel launch"), std::string::npos) << m;
        EXPECT_NE(m.find("past the end of allocation"), std::string::npos) << m;
    }
}

TEST(EmuMemoryTest, RuntimeApiDeviceStreamsAndEvents) {
    int count = 0;
    ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
    EXPECT_EQ(count, 1);
    cudaDeviceProp prop;
    ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
    EXPECT_STREQ(prop.name, "CUDA emulator (CPU)");
    EXPECT_EQ(prop.major, 9);
    EXPECT_EQ(prop.minor, 0);
    EXPECT_EQ(prop.warpSize, 32);
    EXPECT_EQ(prop.sharedMemPerBlock, 48u * 1024);
    EXPECT_EQ(prop.maxThreadsPerBlock, 1024);
    EXPECT_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaFree(reinterpret_cast<void*>(0x1234)), cudaErrorInvalidValue);
    cudaGetLastError();

    cudaStream_t stream;
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    cudaEvent_t start, stop, untimed;
    ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
    ASSERT_EQ(cudaEventCreate(&stop), cudaSuccess);
    ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
    std::vector<int> host(1000, 5), back(1000, 0);
    int* dev = nullptr;
    ASSERT_EQ(cudaMalloc(&dev, 1000 * sizeof(int)), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(start, stream), cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(dev, host.data(), 4000, cudaMemcpyHostToDevice, stream), cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(back.data(), dev, 4000, cudaMemcpyDefault, stream), cudaSuccess);
    ASSERT_EQ(cudaEventRecord(stop, stream), cudaSuccess);
    ASSERT_EQ(cudaStreamWaitEvent(nullptr, stop, 0), cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
    EXPECT_EQ(cudaStreamQuery(stream), cudaSuccess);
    EXPECT_EQ(cudaEventQuery(stop), cudaSuccess);
    float ms = -1;
    ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
    EXPECT_GE(ms, 0.0f);
    EXPECT_EQ(cudaEventElapsedTime(&ms, start, untimed), cudaErrorInvalidResourceHandle);
    cudaGetLastError();
    EXPECT_EQ(back, host);
    size_t free_bytes = 0, total_bytes = 0;
    ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total_bytes), cudaSuccess);
    EXPECT_LT(free_bytes, total_bytes);
    EXPECT_EQ(cudaFree(dev), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(untimed), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

TEST(EmuMemoryTest, OptionsFromTheSettings) {
    // The ENGINE_EMU_* values as the settings reader parses them (runtime/settings.h; tests/runtime tests the
    // parsing itself): the options follow them, guarded memory defaulting to the check mode.
    emu::Options o = emu::Options::from_settings(
        engine::Settings::parse({{"ENGINE_EMU_SCHEDULE", "random:42"}, {"ENGINE_EMU_CHECK", "1"}}));
    EXPECT_EQ(o.schedule, emu::Schedule::Random);
    EXPECT_EQ(o.seed, 42u);
    EXPECT_TRUE(o.check);
    EXPECT_TRUE(o.guard_memory);
    EXPECT_EQ(o.str(), "schedule random:42, check, guarded memory");
    o = emu::Options::from_settings(engine::Settings::parse(
        {{"ENGINE_EMU_SCHEDULE", "reverse"}, {"ENGINE_EMU_CHECK", "1"}, {"ENGINE_EMU_GUARD", "0"},
         {"ENGINE_EMU_THREADS", "3"}}));
    EXPECT_EQ(o.schedule, emu::Schedule::Reverse);
    EXPECT_TRUE(o.check);
    EXPECT_FALSE(o.guard_memory);
    EXPECT_EQ(o.threads, 3);
    o = emu::Options::from_settings(engine::Settings{});
    EXPECT_EQ(o.schedule, emu::Schedule::Forward);
    EXPECT_FALSE(o.check);
    EXPECT_FALSE(o.guard_memory);
    EXPECT_EQ(o.threads, 0);
}

}  // namespace
