// Host<->device transfers of pageable host memory. Large transfers go through a small pool of reusable pinned
// (page-locked) staging buffers per device, two at a time, so that the CPU copy of one chunk overlaps the DMA of
// the other; small ones are a plain cudaMemcpyAsync. Both run on the device's current stream and return when the
// transfer is complete (the host buffer may be reused or read at once).
#pragma once

#include <cstddef>
#include <cstdint>

namespace engine::cuda {

// Transfers of at least this many bytes are staged; each staging buffer holds kStagingChunkBytes.
constexpr size_t kStagedTransferBytes = size_t{1} << 20;
constexpr size_t kStagingChunkBytes = size_t{4} << 20;

struct PinnedStats {
    int64_t buffers = 0;          // staging buffers allocated (idle ones stay in the pool)
    int64_t staged_transfers = 0;  // transfers that went through them
};
PinnedStats pinned_stats(int device_index);

void copy_host_to_device(void* dst, const void* src, size_t nbytes, int device_index);
void copy_device_to_host(void* dst, const void* src, size_t nbytes, int device_index);

}  // namespace engine::cuda
