// CUDA device layer for builds with the toolkit (real or emulated): device discovery, the caching allocator
// (runtime/cuda/caching_allocator.h) as every device's allocator, and transfers on the current stream.
#include "runtime/cuda_api.h"

#include <string>

#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda/pinned.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"
#include "runtime/cuda_device.h"

namespace engine::cuda {
namespace {

struct DeviceQuery {
    int count = 0;
    std::string reason;
};

const DeviceQuery& query() {
    static const DeviceQuery result = [] {
        DeviceQuery q;
        int count = 0;
        const cudaError_t status = cudaGetDeviceCount(&count);
        if (status != cudaSuccess) {
            q.reason = detail::concat("cudaGetDeviceCount returned ", cudaGetErrorName(status), " (",
                                      cudaGetErrorString(status), "); no NVIDIA GPU with a working driver");
            cudaGetLastError();  // clear the sticky error so later calls do not see it
        } else if (count == 0) {
            q.reason = "the driver reports zero devices";
        } else {
            q.count = count;
        }
        return q;
    }();
    return result;
}

}  // namespace

bool built_with_cuda() { return true; }
int device_count() { return query().count; }
std::string unavailable_reason() { return query().reason; }

void require_device(int index) {
    const DeviceQuery& q = query();
    ENGINE_CHECK_T(DeviceError, q.count > 0, "no CUDA device: ", q.reason);
    ENGINE_CHECK_T(DeviceError, index >= 0 && index < q.count, "no CUDA device cuda:", index, " (", q.count,
                   " present)");
}

std::string device_name(int index) {
    require_device(index);
    cudaDeviceProp prop{};
    ENGINE_CUDA_CHECK(cudaGetDeviceProperties(&prop, index), "device_name");
    return detail::concat(prop.name, " (sm_", prop.major, prop.minor, ")");
}

Allocator& device_allocator(int index) { return caching_allocator(index); }

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
    if (nbytes == 0) return;
    if (src_device.is_cpu()) return copy_host_to_device(dst, src, nbytes, dst_device.index);
    if (dst_device.is_cpu()) return copy_device_to_host(dst, src, nbytes, src_device.index);
    require_device(src_device.index);
    require_device(dst_device.index);
    const cudaStream_t stream = current_stream(dst_device.index);
    if (src_device.index == dst_device.index) {  // ordered after earlier work on the stream; no host wait
        ENGINE_CUDA_CHECK(cudaSetDevice(dst_device.index), "copy");
        ENGINE_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream), "copy ",
                          src_device.str(), " -> ", dst_device.str(), " (", nbytes, " bytes)");
        return;
    }
    // Across devices: the source must be complete before the destination's stream reads it.
    synchronize_stream(src_device.index, current_stream(src_device.index));
    ENGINE_CUDA_CHECK(cudaSetDevice(dst_device.index), "copy");
    ENGINE_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, stream), "copy ",
                      src_device.str(), " -> ", dst_device.str(), " (", nbytes, " bytes)");
    synchronize_stream(dst_device.index, stream);
}

void synchronize(int index) {
    require_device(index);
    ENGINE_CUDA_CHECK(cudaSetDevice(index), "synchronize");
    ENGINE_CUDA_CHECK(cudaDeviceSynchronize(), "synchronize cuda:", index);
}

}  // namespace engine::cuda
