// Host-side entry points of kernels/cuda/fill.cu.
#pragma once

#include <cstdint>

#include "runtime/dtype.h"

namespace engine::cuda_kernels {

// Sets n contiguous elements of `dtype` at device pointer `data` to value.
void launch_fill(void* data, DType dtype, int64_t n, double value);

}  // namespace engine::cuda_kernels
