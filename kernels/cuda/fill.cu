// fill: the first hand-written CUDA kernel, a grid-stride loop over a contiguous buffer.
#include "runtime/cuda_api.h"

#include <algorithm>

#include "kernels/cuda/fill.cuh"
#include "runtime/cuda_check.h"

namespace engine::cuda_kernels {

template <class T>
__global__ void fill_kernel(T* data, int64_t n, T value) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        data[i] = value;
    }
}

template <class T>
static void launch_typed(void* data, int64_t n, double value) {
    constexpr int kThreads = 256;
    const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 65535);
    fill_kernel<T><<<static_cast<unsigned>(blocks), kThreads>>>(static_cast<T*>(data), n, static_cast<T>(value));
    ENGINE_CUDA_CHECK_LAUNCH("fill (", n, " elements of ", dtype_name(dtype_of<T>()), ")");
}

void launch_fill(void* data, DType dtype, int64_t n, double value) {
    if (n == 0) return;
    ENGINE_DISPATCH_ALL(dtype, "fill", [&] { launch_typed<scalar_t>(data, n, value); });
}

}  // namespace engine::cuda_kernels
