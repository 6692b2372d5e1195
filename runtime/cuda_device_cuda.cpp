// CUDA device layer for builds with the toolkit. Device memory here is a plain cudaMalloc/cudaFree allocator;
// the caching allocator belongs to the CUDA backend issue and replaces DeviceAllocator below.
#include "runtime/cuda_api.h"

#include <memory>
#include <mutex>
#include <vector>

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

class DeviceAllocator final : public Allocator {
public:
    explicit DeviceAllocator(int index) : index_(index) {}
    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        ENGINE_CUDA_CHECK(cudaSetDevice(index_), "cuda allocator");
        void* ptr = nullptr;
        ENGINE_CUDA_CHECK(cudaMalloc(&ptr, nbytes), "cuda allocator (", nbytes, " bytes on cuda:", index_, ")");
        return ptr;
    }
    void deallocate(void* ptr, size_t) override {
        // Never throw from a destructor path: a failing cudaFree at exit is not actionable.
        cudaSetDevice(index_);
        cudaFree(ptr);
    }
    Device device() const override { return Device::cuda(index_); }

private:
    int index_;
};

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

Allocator& device_allocator(int index) {
    require_device(index);
    static std::once_flag once;
    static std::vector<std::unique_ptr<DeviceAllocator>> allocators;
    std::call_once(once, [] {
        for (int i = 0; i < query().count; ++i) allocators.push_back(std::make_unique<DeviceAllocator>(i));
    });
    return *allocators[index];
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
    const Device gpu = dst_device.is_cuda() ? dst_device : src_device;
    require_device(gpu.index);
    ENGINE_CUDA_CHECK(cudaSetDevice(gpu.index), "copy");
    ENGINE_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, cudaMemcpyDefault), "copy ", src_device.str(), " -> ",
                      dst_device.str(), " (", nbytes, " bytes)");
}

void synchronize(int index) {
    require_device(index);
    ENGINE_CUDA_CHECK(cudaSetDevice(index), "synchronize");
    ENGINE_CUDA_CHECK(cudaDeviceSynchronize(), "synchronize cuda:", index);
}

}  // namespace engine::cuda
