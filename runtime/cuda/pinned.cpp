// Pinned staging buffers and the host<->device transfers that use them (see pinned.h).
#include "runtime/cuda/pinned.h"

#include "runtime/cuda_api.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"
#include "runtime/cuda_device.h"

namespace engine::cuda {
namespace {

// Idle buffers kept per device; more are created while several threads transfer at once and freed afterwards.
constexpr size_t kIdleBuffers = 4;

struct StagingBuffer {
    void* host = nullptr;
    cudaEvent_t done = nullptr;  // recorded after the last DMA that reads or writes `host`
};

class PinnedPool {
public:
    explicit PinnedPool(int device) : device_(device) {}

    StagingBuffer acquire() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!idle_.empty()) {
                StagingBuffer b = idle_.back();
                idle_.pop_back();
                return b;
            }
        }
        StagingBuffer b;
        ENGINE_CUDA_CHECK(cudaHostAlloc(&b.host, kStagingChunkBytes, cudaHostAllocPortable),
                          "pinned staging buffer (", kStagingChunkBytes, " bytes)");
        const cudaError_t status = cudaEventCreateWithFlags(&b.done, cudaEventDisableTiming);
        if (status != cudaSuccess) {
            cudaFreeHost(b.host);
            ENGINE_CUDA_CHECK(status, "pinned staging buffer event on cuda:", device_);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.buffers;
        return b;
    }

    // Never throws; waits for the buffer's last DMA first so the next user finds it idle.
    void release(const StagingBuffer& b) noexcept {
        if (cudaEventSynchronize(b.done) != cudaSuccess) cudaGetLastError();
        std::lock_guard<std::mutex> lock(mutex_);
        if (idle_.size() < kIdleBuffers) {
            idle_.push_back(b);
            return;
        }
        cudaEventDestroy(b.done);
        cudaFreeHost(b.host);
        --stats_.buffers;
    }

    void count_transfer() {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.staged_transfers;
    }

    PinnedStats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

private:
    int device_;
    std::mutex mutex_;
    std::vector<StagingBuffer> idle_;
    PinnedStats stats_;
};

PinnedPool& pool(int device_index) {
    require_device(device_index);
    static std::vector<PinnedPool*>* pools = [] {  // leaked: pinned memory is released by the driver at exit
        auto* list = new std::vector<PinnedPool*>;
        for (int i = 0; i < device_count(); ++i) list->push_back(new PinnedPool(i));
        return list;
    }();
    return *(*pools)[static_cast<size_t>(device_index)];
}

// Two staging buffers for one transfer, returned to the pool on every path out.
class StagingPair {
public:
    explicit StagingPair(PinnedPool& pool) : pool_(pool) {
        buffers_[0] = pool.acquire();
        try {
            buffers_[1] = pool.acquire();
        } catch (...) {
            pool.release(buffers_[0]);
            throw;
        }
    }
    ~StagingPair() {
        pool_.release(buffers_[0]);
        pool_.release(buffers_[1]);
    }
    StagingPair(const StagingPair&) = delete;
    StagingPair& operator=(const StagingPair&) = delete;
    StagingBuffer& operator[](size_t i) { return buffers_[i % 2]; }

private:
    PinnedPool& pool_;
    StagingBuffer buffers_[2];
};

size_t chunk_length(size_t offset, size_t nbytes) { return std::min(kStagingChunkBytes, nbytes - offset); }

}  // namespace

PinnedStats pinned_stats(int device_index) { return pool(device_index).stats(); }

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device_index) {
    if (nbytes == 0) return;
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index), "copy cpu -> cuda:", device_index);
    const cudaStream_t stream = current_stream(device_index);
    auto* out = static_cast<char*>(dst);
    const auto* in = static_cast<const char*>(src);
    if (nbytes < kStagedTransferBytes) {
        ENGINE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream), "copy cpu -> cuda:",
                          device_index, " (", nbytes, " bytes)");
    } else {
        PinnedPool& p = pool(device_index);
        p.count_transfer();
        StagingPair staging(p);
        size_t chunk = 0;
        for (size_t offset = 0; offset < nbytes; offset += kStagingChunkBytes, ++chunk) {
            StagingBuffer& b = staging[chunk];
            const size_t length = chunk_length(offset, nbytes);
            if (chunk >= 2) ENGINE_CUDA_CHECK(cudaEventSynchronize(b.done), "copy cpu -> cuda:", device_index);
            std::memcpy(b.host, in + offset, length);
            ENGINE_CUDA_CHECK(cudaMemcpyAsync(out + offset, b.host, length, cudaMemcpyHostToDevice, stream),
                              "copy cpu -> cuda:", device_index, " (", nbytes, " bytes, staged)");
            ENGINE_CUDA_CHECK(cudaEventRecord(b.done, stream), "copy cpu -> cuda:", device_index);
        }
    }
    synchronize_stream(device_index, stream);
}

void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device_index) {
    if (nbytes == 0) return;
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index), "copy cuda:", device_index, " -> cpu");
    const cudaStream_t stream = current_stream(device_index);
    auto* out = static_cast<char*>(dst);
    const auto* in = static_cast<const char*>(src);
    if (nbytes < kStagedTransferBytes) {
        ENGINE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream), "copy cuda:",
                          device_index, " -> cpu (", nbytes, " bytes)");
        synchronize_stream(device_index, stream);
        return;
    }
    PinnedPool& p = pool(device_index);
    p.count_transfer();
    StagingPair staging(p);
    // Chunk i's DMA is queued before chunk i-1 is copied out of its buffer on the CPU.
    size_t chunk = 0, previous_offset = 0;
    for (size_t offset = 0; offset < nbytes; offset += kStagingChunkBytes, ++chunk) {
        StagingBuffer& b = staging[chunk];
        ENGINE_CUDA_CHECK(cudaMemcpyAsync(b.host, in + offset, chunk_length(offset, nbytes), cudaMemcpyDeviceToHost,
                                          stream),
                          "copy cuda:", device_index, " -> cpu (", nbytes, " bytes, staged)");
        ENGINE_CUDA_CHECK(cudaEventRecord(b.done, stream), "copy cuda:", device_index, " -> cpu");
        if (chunk >= 1) {
            StagingBuffer& prev = staging[chunk - 1];
            ENGINE_CUDA_CHECK(cudaEventSynchronize(prev.done), "copy cuda:", device_index, " -> cpu");
            std::memcpy(out + previous_offset, prev.host, chunk_length(previous_offset, nbytes));
        }
        previous_offset = offset;
    }
    StagingBuffer& last = staging[chunk - 1];
    ENGINE_CUDA_CHECK(cudaEventSynchronize(last.done), "copy cuda:", device_index, " -> cpu");
    std::memcpy(out + previous_offset, last.host, chunk_length(previous_offset, nbytes));
}

}  // namespace engine::cuda
