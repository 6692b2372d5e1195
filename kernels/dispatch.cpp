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

Tensor converted_to(Backend& backend, const Tensor& x, DType dtype) {
    Tensor out = empty(x.shape(), dtype, x.device());
    backend.copy_(out, x);
    return out;
}

Tensor in_float32(Backend& backend, DType dtype, const std::vector<Tensor>& inputs,
                  const std::function<Tensor(const std::vector<Tensor>&)>& op) {
    std::vector<Tensor> wide;
    wide.reserve(inputs.size());
    for (const Tensor& t : inputs) wide.push_back(t.defined() ? converted_to(backend, t, DType::Float32) : t);
    return converted_to(backend, op(wide), dtype);
}

}  // namespace engine
