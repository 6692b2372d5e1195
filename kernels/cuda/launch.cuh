// The one way every hand-written kernel is launched. Under nvcc it is kernel<<<grid, block, smem, stream>>>
// followed by a launch-error check; in the emulated build (ENGINE_CUDA_EMULATION) the same call runs the
// kernel on the CPU emulator (runtime/cuda/emu). Either way a failure becomes a DeviceError that names the op,
// the shape it worked on, the launch configuration and the runtime's (or the emulator's) message.
#pragma once

#include <string>
#include <utility>

#include "runtime/cuda_api.h"
#include "runtime/error.h"
#include "runtime/shape.h"

namespace engine::cuda {

struct LaunchConfig {
    dim3 grid;
    dim3 block;
    size_t shared_bytes = 0;
    cudaStream_t stream = nullptr;
};

[[noreturn]] inline void throw_launch_error(const char* op, const Shape& shape, const LaunchConfig& config,
                                            const std::string& message) {
    throw DeviceError(detail::concat(op, " ", shape_str(shape), ": kernel launch (grid ", config.grid.x, "x",
                                     config.grid.y, "x", config.grid.z, ", block ", config.block.x, "x", config.block.y,
                                     "x", config.block.z, ", ", config.shared_bytes, " B shared) failed: ", message));
}

// `op` and `shape` only label errors: the op the kernel implements and the main tensor it works on.
template <class... Params, class... Args>
void launch(const char* op, const Shape& shape, const LaunchConfig& config, void (*kernel)(Params...),
            Args&&... args) {
#if ENGINE_CUDA_EMULATION
    try {
        ::emu::launch(config.grid, config.block, config.shared_bytes, config.stream, kernel,
                      std::forward<Args>(args)...);
    } catch (const ::emu::EmulationError& e) {
        throw_launch_error(op, shape, config, e.what());
    }
#else
    kernel<<<config.grid, config.block, config.shared_bytes, config.stream>>>(std::forward<Args>(args)...);
#endif
    const cudaError_t status = cudaGetLastError();
    if (status != cudaSuccess) throw_launch_error(op, shape, config, cudaGetErrorString(status));
}

}  // namespace engine::cuda
