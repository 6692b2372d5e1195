// CUDA device layer for builds configured with ENGINE_WITH_CUDA=OFF: every device request fails clearly.
#include "runtime/cuda_device.h"
#include "runtime/error.h"

namespace engine::cuda {

static const char* kReason = "this build has no CUDA support (configured with ENGINE_WITH_CUDA=OFF)";

bool built_with_cuda() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() { return kReason; }
void require_device(int) { throw DeviceError(detail::concat("no CUDA device: ", kReason)); }
std::string device_name(int index) {
    require_device(index);
    return {};
}
Allocator& device_allocator(int index) {
    require_device(index);
    throw DeviceError(kReason);
}
void copy_bytes(void*, Device, const void*, Device, size_t) { require_device(0); }
void synchronize(int index) { require_device(index); }

}  // namespace engine::cuda
