// The caching device allocator (see caching_allocator.h). Blocks are never split: requests are rounded to size
// classes and a free block is reused for requests up to 12.5% smaller, which keeps the bookkeeping to two maps
// under one mutex per device.
#include "runtime/cuda/caching_allocator.h"

#include "runtime/cuda_api.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"
#include "runtime/cuda_device.h"
#include "runtime/settings.h"

namespace engine::cuda {
namespace {

constexpr size_t kMinBlock = 512;
constexpr size_t kLargeStep = size_t{2} << 20;
constexpr size_t kLargeThreshold = size_t{16} << 20;

size_t round_up(size_t n, size_t step) { return (n + step - 1) / step * step; }

std::string format_bytes(size_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
    return text;
}

class CachingAllocator final : public Allocator {
public:
    explicit CachingAllocator(int device) : device_(device), caching_(!setting(&Settings::cuda_no_caching)) {}

    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        ENGINE_CUDA_CHECK(cudaSetDevice(device_), "cuda allocator");
        const cudaStream_t stream = current_stream(device_);
        const bool caching = caching_now();
        // Guarded emulation wants the exact extent, so a one-element overrun hits the guard page.
        const size_t size = caching ? block_size_for(nbytes) : guarding_now() ? nbytes : round_up(nbytes, 64);
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.allocations;
        Block block{nullptr, size, nbytes, stream};
        auto it = free_.lower_bound(FreeKey{key_of(stream), size, 0});
        if (caching && it != free_.end() && it->first.stream == key_of(stream) && it->second.size <= size + size / 8) {
            block.ptr = it->second.ptr;
            block.size = it->second.size;
            free_.erase(it);
            stats_.cached_bytes -= block.size;
            ++stats_.cache_hits;
#if ENGINE_CUDA_EMULATION
            // The emulator fills fresh cudaMalloc memory with 0xFF (NaN) so kernels that read what nobody wrote
            // stand out; a reused block gets the same treatment instead of the previous user's values.
            ENGINE_CUDA_CHECK(cudaMemsetAsync(block.ptr, 0xff, block.size, stream), "cuda allocator");
#endif
        } else {
            block.ptr = device_malloc(size, nbytes);
        }
        used_.emplace(block.ptr, block);
        stats_.allocated_bytes += block.size;
        stats_.requested_bytes += block.requested;
        stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
        return block.ptr;
    }

    // Called from destructors: never throws.
    void deallocate(void* ptr, size_t) override {
        if (ptr == nullptr) return;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = used_.find(ptr);
        if (it == used_.end()) {
            std::fprintf(stderr, "engine: cuda allocator asked to free %p, which it did not allocate\n", ptr);
            return;
        }
        const Block block = it->second;
        used_.erase(it);
        stats_.allocated_bytes -= block.size;
        stats_.requested_bytes -= block.requested;
        if (caching_now()) {
            free_.emplace(FreeKey{key_of(block.stream), block.size, reinterpret_cast<uintptr_t>(block.ptr)}, block);
            stats_.cached_bytes += block.size;
        } else {
            cudaSetDevice(device_);
            cudaFree(block.ptr);
            stats_.reserved_bytes -= block.size;
            ++stats_.device_frees;
        }
    }

    Device device() const override { return Device::cuda(device_); }

    MemoryStats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        MemoryStats s = stats_;
        s.caching = caching_now();
        return s;
    }

    // Off when disabled by the environment, and while the emulator guards memory: its guard pages and
    // use-after-free quarantine then see every tensor's exact extent (rounded to the 64-byte alignment).
    bool caching_now() const { return caching_ && !guarding_now(); }

    static bool guarding_now() {
#if ENGINE_CUDA_EMULATION
        return ::emu::options().guard_memory;
#else
        return false;
#endif
    }

    void reset_peak() {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.peak_allocated_bytes = stats_.allocated_bytes;
        stats_.peak_reserved_bytes = stats_.reserved_bytes;
    }

    void empty_cache() {
        std::lock_guard<std::mutex> lock(mutex_);
        release_cached_locked();
    }

    void move_free_blocks(cudaStream_t from, cudaStream_t to) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = free_.lower_bound(FreeKey{key_of(from), 0, 0});
        while (it != free_.end() && it->first.stream == key_of(from)) {
            Block block = it->second;
            block.stream = to;
            it = free_.erase(it);
            free_.emplace(FreeKey{key_of(to), block.size, reinterpret_cast<uintptr_t>(block.ptr)}, block);
        }
    }

private:
    struct Block {
        void* ptr;
        size_t size;
        size_t requested;
        cudaStream_t stream;
    };
    // Free blocks ordered by stream, then size: lower_bound finds the smallest fitting block of a stream.
    struct FreeKey {
        uintptr_t stream;
        size_t size;
        uintptr_t ptr;
        bool operator<(const FreeKey& o) const {
            if (stream != o.stream) return stream < o.stream;
            if (size != o.size) return size < o.size;
            return ptr < o.ptr;
        }
    };
    static uintptr_t key_of(cudaStream_t stream) { return reinterpret_cast<uintptr_t>(stream); }

    void* device_malloc(size_t size, size_t requested) {
        void* ptr = nullptr;
        cudaError_t status = cudaMalloc(&ptr, size);
        const bool retry = status == cudaErrorMemoryAllocation && !free_.empty();
        if (retry) {
            cudaGetLastError();  // clear the recorded error before retrying
            ++stats_.oom_retries;
            release_cached_locked();
            status = cudaMalloc(&ptr, size);
        }
        if (status != cudaSuccess) {
            cudaGetLastError();
            std::string device_memory;
            size_t free_bytes = 0, total_bytes = 0;
            if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
                device_memory = detail::concat("; device has ", format_bytes(free_bytes), " free of ",
                                               format_bytes(total_bytes));
            } else {
                cudaGetLastError();
            }
            MemoryStats s = stats_;
            throw DeviceError(detail::concat(
                "cuda allocator: ", status == cudaErrorMemoryAllocation ? "out of memory" : "cudaMalloc failed",
                " allocating ", format_bytes(requested), " (", requested, " bytes, block ", size, ") on cuda:",
                device_, retry ? " after emptying the cache: " : ": ", memory_stats_str(s), device_memory, " (",
                cudaGetErrorString(status), ")"));
        }
        ++stats_.device_mallocs;
        stats_.reserved_bytes += size;
        stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
        return ptr;
    }

    void release_cached_locked() {
        if (free_.empty()) return;
        ENGINE_CUDA_CHECK(cudaSetDevice(device_), "cuda allocator: empty cache");
        // Blocks are freed as soon as their last user is queued, not finished: wait before giving them back.
        ENGINE_CUDA_CHECK(cudaDeviceSynchronize(), "cuda allocator: empty cache on cuda:", device_);
        for (auto& entry : free_) {
            ENGINE_CUDA_CHECK(cudaFree(entry.second.ptr), "cuda allocator: empty cache on cuda:", device_);
            stats_.reserved_bytes -= entry.second.size;
            stats_.cached_bytes -= entry.second.size;
            ++stats_.device_frees;
        }
        free_.clear();
    }

    std::mutex mutex_;
    const int device_;
    const bool caching_;
    std::map<FreeKey, Block> free_;
    std::unordered_map<void*, Block> used_;
    MemoryStats stats_;
};

CachingAllocator& allocator_of(int device_index) {
    require_device(device_index);
    // Leaked on purpose: tensors in static objects may be freed after static destruction would have run.
    static std::vector<CachingAllocator*>* allocators = [] {
        auto* list = new std::vector<CachingAllocator*>;
        for (int i = 0; i < device_count(); ++i) list->push_back(new CachingAllocator(i));
        return list;
    }();
    return *(*allocators)[static_cast<size_t>(device_index)];
}

}  // namespace

size_t block_size_for(size_t nbytes) {
    if (nbytes <= kMinBlock) return kMinBlock;
    if (nbytes > kLargeThreshold) return round_up(nbytes, kLargeStep);
    size_t octave = 1;  // smallest power of two >= nbytes
    while (octave < nbytes) octave <<= 1;
    return round_up(nbytes, std::max(kMinBlock, octave / 16));  // at most an eighth of the previous power
}

std::string memory_stats_str(const MemoryStats& s) {
    return detail::concat("allocated ", format_bytes(s.allocated_bytes), ", reserved ", format_bytes(s.reserved_bytes),
                          " (cached ", format_bytes(s.cached_bytes), "), peak ", format_bytes(s.peak_allocated_bytes),
                          ", ", s.device_mallocs, " cudaMalloc, ", s.cache_hits, " hits");
}

MemoryStats memory_stats(int device_index) { return allocator_of(device_index).stats(); }
void reset_peak_stats(int device_index) { allocator_of(device_index).reset_peak(); }
void empty_cache(int device_index) { allocator_of(device_index).empty_cache(); }
Allocator& caching_allocator(int device_index) { return allocator_of(device_index); }

void retire_stream(int device_index, cudaStream_t stream) noexcept {
    try {
        allocator_of(device_index).move_free_blocks(stream, default_stream(device_index));
    } catch (...) {  // the blocks then stay cached until empty_cache(); nothing is lost
    }
}

DeviceBuffer::DeviceBuffer(int device_index, size_t nbytes)
    : device_(device_index), ptr_(caching_allocator(device_index).allocate(nbytes)), size_(nbytes) {}

DeviceBuffer::~DeviceBuffer() { release(); }

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : device_(other.device_), ptr_(std::exchange(other.ptr_, nullptr)), size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
        release();
        device_ = other.device_;
        ptr_ = std::exchange(other.ptr_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void DeviceBuffer::release() noexcept {
    if (ptr_ != nullptr) caching_allocator(device_).deallocate(ptr_, size_);
    ptr_ = nullptr;
    size_ = 0;
}

}  // namespace engine::cuda
