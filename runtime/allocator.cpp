#include "runtime/allocator.h"

#include <cstdlib>
#include <cstring>

#include "runtime/cuda_device.h"
#include "runtime/error.h"

namespace engine {
namespace {

// 64-byte alignment: one cache line, and what AVX-512 loads and oneDNN prefer.
class CpuAllocator final : public Allocator {
public:
    void* allocate(size_t nbytes) override {
        if (nbytes == 0) return nullptr;
        const size_t rounded = (nbytes + 63) / 64 * 64;
        void* ptr = std::aligned_alloc(64, rounded);
        ENGINE_CHECK(ptr != nullptr, "cpu allocator: out of memory allocating ", nbytes, " bytes");
        return ptr;
    }
    void deallocate(void* ptr, size_t) override { std::free(ptr); }
    Device device() const override { return Device::cpu(); }
};

}  // namespace

Allocator& cpu_allocator() {
    static CpuAllocator instance;
    return instance;
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
