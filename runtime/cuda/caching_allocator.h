// The caching device allocator: cudaMalloc'd blocks are kept in size-bucketed, per-stream free lists after use
// and handed out again without a cudaMalloc (which synchronises the device and costs ~100 us). A block belongs
// to the stream that was current when it was allocated and is reused only by allocations on that stream, so
// stream order alone keeps reuse safe for memory used on its own stream (memory handed to another stream must
// be synchronised by its user before it is freed). When cudaMalloc runs out of memory the cache is emptied and the
// request retried once.
// ENGINE_CUDA_NO_CACHING=1 in the environment disables caching (every free is a cudaFree; for debugging tools), and
// so does the emulator's guarded-memory mode, so that its guard pages sit at the end of every tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/allocator.h"
#include "runtime/cuda_api.h"

namespace engine::cuda {

struct MemoryStats {
    size_t allocated_bytes = 0;       // blocks in use (block sizes, i.e. rounded requests)
    size_t requested_bytes = 0;       // the requests those blocks serve
    size_t reserved_bytes = 0;        // obtained with cudaMalloc and not yet released: in use + cached
    size_t cached_bytes = 0;          // free blocks kept for reuse (reserved - allocated)
    size_t peak_allocated_bytes = 0;  // since start or reset_peak_stats
    size_t peak_reserved_bytes = 0;
    int64_t allocations = 0;     // allocate() calls with a non-zero size
    int64_t cache_hits = 0;      // ... served from a free list
    int64_t device_mallocs = 0;  // cudaMalloc calls that succeeded
    int64_t device_frees = 0;    // cudaFree calls
    int64_t oom_retries = 0;     // times cudaMalloc failed and the cache was emptied to retry
    bool caching = true;  // false under ENGINE_CUDA_NO_CACHING or the emulator's guarded memory (ENGINE_EMU_GUARD)
};

// One line: "allocated 12.0 MiB, reserved 16.0 MiB (cached 4.0 MiB), peak 14.0 MiB, 7 cudaMalloc, 93 hits".
std::string memory_stats_str(const MemoryStats& stats);

MemoryStats memory_stats(int device_index);
void reset_peak_stats(int device_index);
// Waits for the device, then returns every cached (free) block to the driver.
void empty_cache(int device_index);
// The block size an n-byte request occupies: multiples of 512 bytes, 8 size classes per power of two (at most
// 12.5% waste), in 2 MiB steps above 16 MiB.
size_t block_size_for(size_t nbytes);

// The caching allocator of a device (also what device_allocator() and allocator_for() return).
Allocator& caching_allocator(int device_index);

// Internal, called by ~Stream once the stream has finished its work: its cached blocks move to the device's
// default stream (nothing else would use them; a new stream may even be created with the same handle).
void retire_stream(int device_index, cudaStream_t stream) noexcept;

// Device memory for a kernel's scratch space, from the caching allocator on the current stream; returned to the
// cache when the buffer is destroyed (later work on the same stream may reuse it, which stream order makes safe).
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(int device_index, size_t nbytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& other) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return ptr_; }
    template <class T>
    T* as() const {
        return static_cast<T*>(ptr_);
    }
    size_t size() const { return size_; }

private:
    void release() noexcept;
    int device_ = 0;
    void* ptr_ = nullptr;
    size_t size_ = 0;
};

}  // namespace engine::cuda
