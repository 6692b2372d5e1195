// NumPy .npy files (format 1.0, little-endian, C order) for the raw, unnormalised attribution maps the explain
// app writes next to its pictures, so that they can be compared or re-rendered elsewhere (np.load).
#pragma once

#include <string>

#include "runtime/tensor.h"

namespace engine::explain::render {

// float32 tensors as '<f4', float64 as '<f8', int64 as '<i8'; any device, any strides.
std::string encode_npy(const Tensor& t);
// encode_npy written atomically.
void write_npy(const std::string& path, const Tensor& t);

}  // namespace engine::explain::render
