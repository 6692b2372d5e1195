// The one place that maps a device to its backend.
#include "kernels/backend.h"
#include "kernels/cpu/cpu_backend.h"
#include "runtime/cuda_device.h"

#if ENGINE_WITH_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

namespace engine {

Backend& cpu_backend() {
    static cpu::CpuBackend instance;
    return instance;
}

Backend& backend_for(Device device) {
    if (device.is_cpu()) return cpu_backend();
    cuda::require_device(device.index);
#if ENGINE_WITH_CUDA
    return cuda::backend(device.index);
#else
    throw DeviceError("no CUDA device: this build has no CUDA support");
#endif
}

}  // namespace engine
