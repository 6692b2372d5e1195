// The CUDA backends, one per device ordinal. The kernels live one family per file in this folder.
#include "kernels/cuda/cuda_backend.h"

#include <memory>
#include <mutex>
#include <vector>

#include "runtime/cuda_device.h"

namespace engine::cuda {

Backend& backend(int device_index) {
    static std::once_flag once;
    static std::vector<std::unique_ptr<CudaBackend>> backends;
    std::call_once(once, [] {
        for (int i = 0; i < device_count(); ++i) backends.push_back(std::make_unique<CudaBackend>(i));
    });
    return *backends.at(static_cast<size_t>(device_index));
}

}  // namespace engine::cuda
