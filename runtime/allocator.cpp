// The CPU allocator (64-byte aligned; large blocks cached for reuse), allocator_for() and copy_bytes().
#include "runtime/allocator.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "runtime/cuda_device.h"
#include "runtime/error.h"
#include "runtime/out_of_memory.h"
#include "runtime/settings.h"

namespace engine {
namespace {

// Large blocks are kept after they are freed and handed out again for the same size class. A training step or
// a forward pass allocates the same activation sizes every time; without the cache each of those multi-MiB
// blocks is a fresh mmap whose pages fault (and are zeroed by the kernel) on first touch, every step.
// Small blocks stay with malloc, whose heap already reuses them.
//
// ENGINE_CPU_CACHE_MB caps the bytes held while unused (default: a quarter of physical memory; 0 disables the
// cache). Past the cap the blocks unused longest go back to the system; an allocation that fails first releases
// the whole cache.
class CpuAllocator final : public Allocator {
public:
    CpuAllocator() : limit_(cache_limit()) {}

    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        if (nbytes < kCachedMin || limit_ == 0) return system_allocate(nbytes, 64, (nbytes + 63) / 64 * 64);
        const size_t bytes = size_class(nbytes);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = free_.find(bytes);
            if (it != free_.end() && !it->second.empty()) {
                void* ptr = it->second.back().ptr;  // the most recently freed: likeliest still in cache
                it->second.pop_back();
                cached_bytes_ -= bytes;
                return ptr;
            }
        }
        return system_allocate(nbytes, 4096, bytes);
    }

    void deallocate(void* ptr, size_t nbytes) override {
        if (!ptr) return;
        if (nbytes < kCachedMin || limit_ == 0) {
            std::free(ptr);
            return;
        }
        const size_t bytes = size_class(nbytes);
        if (bytes > limit_) {
            std::free(ptr);
            return;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        while (cached_bytes_ + bytes > limit_) evict_oldest();
        free_[bytes].push_back({ptr, ++clock_});
        cached_bytes_ += bytes;
    }

    Device device() const override { return Device::cpu(); }

private:
    static constexpr size_t kCachedMin = size_t{256} << 10;

    // Rounded up to 1/8 of its power of two (at most 12.5% waste), so nearby sizes share blocks.
    static size_t size_class(size_t nbytes) {
        size_t top = 1;
        while ((top << 1) <= nbytes) top <<= 1;
        const size_t step = top / 8;
        return (nbytes + step - 1) / step * step;
    }

    // ENGINE_CPU_CACHE_MB, by default a quarter of physical memory.
    static size_t cache_limit() {
        if (const std::optional<size_t> mb = setting(&Settings::cpu_cache_mb)) return *mb << 20;
        const size_t memory = physical_memory_bytes();
        return memory > 0 ? memory / 4 : size_t{1} << 30;
    }

    void* system_allocate(size_t nbytes, size_t alignment, size_t rounded) {
        void* ptr = std::aligned_alloc(alignment, rounded);
        if (!ptr && release_cache()) ptr = std::aligned_alloc(alignment, rounded);
        ENGINE_CHECK_T(OutOfMemoryError, ptr != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
        return ptr;
    }

    // Frees the block that has been unused longest (blocks of a size no longer asked for age out).
    void evict_oldest() {
        auto oldest = free_.end();
        for (auto it = free_.begin(); it != free_.end(); ++it) {
            if (it->second.empty()) continue;
            if (oldest == free_.end() || it->second.front().stamp < oldest->second.front().stamp) oldest = it;
        }
        if (oldest == free_.end()) return;
        std::free(oldest->second.front().ptr);
        oldest->second.pop_front();
        cached_bytes_ -= oldest->first;
        if (oldest->second.empty()) free_.erase(oldest);
    }

    // Frees every cached block; true when there was any.
    bool release_cache() {
        std::lock_guard<std::mutex> lock(mutex_);
        const bool any = cached_bytes_ > 0;
        for (auto& [bytes, blocks] : free_)
            for (const Block& b : blocks) std::free(b.ptr);
        free_.clear();
        cached_bytes_ = 0;
        return any;
    }

    struct Block {
        void* ptr;
        uint64_t stamp;  // when it was freed
    };

    const size_t limit_;
    std::mutex mutex_;
    std::unordered_map<size_t, std::deque<Block>> free_;  // size class -> unused blocks, oldest first
    size_t cached_bytes_ = 0;
    uint64_t clock_ = 0;
};

}  // namespace

size_t physical_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
}

Allocator& cpu_allocator() {
    // Never destroyed: tensors in other static objects may be freed after this one would be.
    static CpuAllocator* instance = new CpuAllocator();
    return *instance;
}

Allocator& allocator_for(Device device) {
    if (device.is_cpu()) return cpu_allocator();
    return cuda::device_allocator(device.index);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
    if (nbytes == 0) return;
    if (dst_device.is_cpu() && src_device.is_cpu()) {
        std::memcpy(dst, src, nbytes);
        return;
    }
    cuda::copy_bytes(dst, dst_device, src, src_device, nbytes);
}

}  // namespace engine
