// The caching device allocator (reuse per stream, size classes, statistics, empty_cache, out-of-memory errors)
// and the host<->device transfers through pinned staging buffers.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.h"
#include "runtime/cuda_device.h"

#if ENGINE_WITH_CUDA
#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda/pinned.h"
#include "runtime/cuda/stream.h"

using namespace engine;
using namespace engine::test;

namespace {

class CudaAllocatorTest : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_CUDA_DEVICE();
        if (!cuda::memory_stats(0).caching) GTEST_SKIP() << "caching is off (ENGINE_CUDA_NO_CACHING or ENGINE_EMU_GUARD)";
        cuda::synchronize(0);
        cuda::empty_cache(0);
    }
    Allocator& allocator() { return cuda::caching_allocator(0); }
};

// Tests that hold whether or not the allocator caches.
class CudaMemoryTest : public CudaTest {};

TEST(CudaAllocatorSizeTest, BlockSizesRoundUpWithBoundedWaste) {
    EXPECT_EQ(cuda::block_size_for(1), 512u);
    EXPECT_EQ(cuda::block_size_for(512), 512u);
    EXPECT_EQ(cuda::block_size_for(513), 1024u);
    EXPECT_EQ(cuda::block_size_for(1025), 1536u);
    EXPECT_EQ(cuda::block_size_for(100000), 106496u);  // 13 x 8 KiB
    EXPECT_EQ(cuda::block_size_for((16u << 20) + 1), 18u << 20);  // 2 MiB steps above 16 MiB
    for (size_t n = 1; n < (size_t{64} << 20); n = n * 3 / 2 + 7) {
        const size_t block = cuda::block_size_for(n);
        EXPECT_GE(block, n);
        EXPECT_EQ(block % 512, 0u);
        if (n > 4096) EXPECT_LE(block - n, n / 8) << n;
    }
}

TEST_F(CudaAllocatorTest, ReusesAFreedBlockWithoutCudaMalloc) {
    const cuda::MemoryStats before = cuda::memory_stats(0);
    void* first = allocator().allocate(3000);
    ASSERT_NE(first, nullptr);
    const cuda::MemoryStats held = cuda::memory_stats(0);
    EXPECT_EQ(held.device_mallocs, before.device_mallocs + 1);
    EXPECT_EQ(held.allocated_bytes, before.allocated_bytes + cuda::block_size_for(3000));
    EXPECT_EQ(held.requested_bytes, before.requested_bytes + 3000);
    allocator().deallocate(first, 3000);
    EXPECT_EQ(cuda::memory_stats(0).cached_bytes, before.cached_bytes + cuda::block_size_for(3000));

    void* second = allocator().allocate(2900);  // same size class
    EXPECT_EQ(second, first);
    const cuda::MemoryStats after = cuda::memory_stats(0);
    EXPECT_EQ(after.device_mallocs, held.device_mallocs);
    EXPECT_EQ(after.cache_hits, held.cache_hits + 1);
    allocator().deallocate(second, 2900);
}

TEST_F(CudaAllocatorTest, TensorsReuseMemoryAcrossIterations) {
    { Tensor warm = empty({1000, 100}, DType::Float32, cuda_device()); }
    const cuda::MemoryStats before = cuda::memory_stats(0);
    for (int i = 0; i < 10; ++i) {
        Tensor t = empty({1000, 100}, DType::Float32, cuda_device());
        Tensor u = empty({999, 100}, DType::Float32, cuda_device());  // one size class up at most
    }
    const cuda::MemoryStats after = cuda::memory_stats(0);
    EXPECT_LE(after.device_mallocs, before.device_mallocs + 1);
    EXPECT_GE(after.cache_hits, before.cache_hits + 19);
    EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
}

TEST_F(CudaAllocatorTest, BlocksAreReusedOnlyOnTheirOwnStream) {
    void* on_default = allocator().allocate(10000);
    allocator().deallocate(on_default, 10000);
    cuda::Stream side(0);
    void* on_side = nullptr;
    {
        cuda::StreamGuard guard(side);
        on_side = allocator().allocate(10000);
        EXPECT_NE(on_side, on_default) << "a block freed on the default stream was handed to another stream";
        allocator().deallocate(on_side, 10000);
    }
    void* again = allocator().allocate(10000);
    EXPECT_EQ(again, on_default);
    allocator().deallocate(again, 10000);
    {
        cuda::StreamGuard guard(side);
        void* side_again = allocator().allocate(10000);
        EXPECT_EQ(side_again, on_side);
        allocator().deallocate(side_again, 10000);
    }
}

TEST_F(CudaAllocatorTest, StatisticsPeakAndEmptyCache) {
    cuda::reset_peak_stats(0);
    const cuda::MemoryStats base = cuda::memory_stats(0);
    std::vector<void*> blocks;
    for (size_t n : {size_t{1} << 10, size_t{1} << 16, size_t{1} << 20}) blocks.push_back(allocator().allocate(n));
    const size_t total = cuda::block_size_for(1 << 10) + cuda::block_size_for(1 << 16) + cuda::block_size_for(1 << 20);
    const cuda::MemoryStats held = cuda::memory_stats(0);
    EXPECT_EQ(held.allocated_bytes, base.allocated_bytes + total);
    EXPECT_EQ(held.peak_allocated_bytes, held.allocated_bytes);
    EXPECT_GE(held.reserved_bytes, held.allocated_bytes);
    EXPECT_EQ(held.reserved_bytes, held.allocated_bytes + held.cached_bytes);
    allocator().deallocate(blocks[0], 1 << 10);
    allocator().deallocate(blocks[1], 1 << 16);
    allocator().deallocate(blocks[2], 1 << 20);
    const cuda::MemoryStats freed = cuda::memory_stats(0);
    EXPECT_EQ(freed.allocated_bytes, base.allocated_bytes);
    EXPECT_EQ(freed.peak_allocated_bytes, held.peak_allocated_bytes);
    EXPECT_EQ(freed.cached_bytes, base.cached_bytes + total);
    cuda::empty_cache(0);
    const cuda::MemoryStats emptied = cuda::memory_stats(0);
    EXPECT_EQ(emptied.cached_bytes, 0u);
    EXPECT_EQ(emptied.reserved_bytes, emptied.allocated_bytes);
    EXPECT_GE(emptied.device_frees, freed.device_frees + 3);
    const std::string line = cuda::memory_stats_str(emptied);
    EXPECT_NE(line.find("allocated"), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST_F(CudaMemoryTest, OutOfMemoryEmptiesTheCacheThenNamesTheRequest) {
    Allocator& allocator = cuda::caching_allocator(0);
    const bool caching = cuda::memory_stats(0).caching;
    void* cached = allocator.allocate(1 << 20);
    allocator.deallocate(cached, 1 << 20);
    if (caching) ASSERT_GT(cuda::memory_stats(0).cached_bytes, 0u);
    const int64_t retries = cuda::memory_stats(0).oom_retries;
    const size_t huge = size_t{1} << 52;  // 4 PiB: no device (or emulator host) has it
    try {
        allocator.allocate(huge);
        FAIL() << "allocating 4 PiB did not throw";
    } catch (const DeviceError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("out of memory"), std::string::npos) << message;
        EXPECT_NE(message.find(std::to_string(huge) + " bytes"), std::string::npos) << message;
        EXPECT_NE(message.find("cudaMalloc"), std::string::npos) << message;
        if (caching) EXPECT_NE(message.find("after emptying the cache"), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
    const cuda::MemoryStats after = cuda::memory_stats(0);
    EXPECT_EQ(after.oom_retries, retries + (caching ? 1 : 0));
    EXPECT_EQ(after.cached_bytes, 0u);
    // The allocator still works afterwards.
    Tensor t = full({100}, 2.0, DType::Float32, cuda_device());
    EXPECT_EQ(t.to_vector<float>(), std::vector<float>(100, 2.0f));
}

TEST_F(CudaMemoryTest, DeviceBufferReturnsItsBlock) {
    const cuda::MemoryStats before = cuda::memory_stats(0);
    {
        cuda::DeviceBuffer buffer(0, 5000);
        EXPECT_NE(buffer.get(), nullptr);
        EXPECT_EQ(buffer.size(), 5000u);
        cuda::DeviceBuffer moved = std::move(buffer);
        EXPECT_EQ(buffer.get(), nullptr);
        EXPECT_GE(cuda::memory_stats(0).allocated_bytes, before.allocated_bytes + 5000);
        EXPECT_EQ(cuda::memory_stats(0).requested_bytes, before.requested_bytes + 5000);
    }
    EXPECT_EQ(cuda::memory_stats(0).allocated_bytes, before.allocated_bytes);
}

TEST_F(CudaMemoryTest, LargeTransfersGoThroughPinnedStaging) {
    // 5 MiB + 12 bytes: one full 4 MiB staging chunk and a partial one.
    const int64_t n = (int64_t{5} << 20) / 4 + 3;
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i % 1000003) * 0.5f;
    const Tensor host = from_vector(values, {n});
    const int64_t staged = cuda::pinned_stats(0).staged_transfers;
    const Tensor device = host.to(cuda_device());
    const Tensor back = device.to(Device::cpu());
    EXPECT_EQ(cuda::pinned_stats(0).staged_transfers, staged + 2);
    EXPECT_GE(cuda::pinned_stats(0).buffers, 2);
    EXPECT_EQ(std::memcmp(back.data<float>(), values.data(), values.size() * sizeof(float)), 0);
    // 11 full chunks' worth of doubles and a tail: more chunks than buffers, so buffers are reused mid-transfer.
    const int64_t m = (int64_t{45} << 20) / 8 + 5;
    const Tensor big = arange(0, static_cast<double>(m), 1, DType::Float64);
    const Tensor big_back = big.to(cuda_device()).to(Device::cpu());
    EXPECT_EQ(std::memcmp(big_back.data<double>(), big.data<double>(), static_cast<size_t>(m) * 8), 0);
    // Small transfers skip the staging buffers.
    const int64_t before_small = cuda::pinned_stats(0).staged_transfers;
    EXPECT_EQ(ones({10}).to(cuda_device()).to(Device::cpu()).to_vector<float>(), std::vector<float>(10, 1.0f));
    EXPECT_EQ(cuda::pinned_stats(0).staged_transfers, before_small);
}

}  // namespace

#endif  // ENGINE_WITH_CUDA
