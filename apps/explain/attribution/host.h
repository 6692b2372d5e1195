// Small host-built tensors (weights, lookup tables, step sizes) for the device the model runs on.
#pragma once

#include <vector>

#include "runtime/tensor.h"

namespace engine::explain {

// `values` as a tensor of `dtype` on `device`: converted on the host, then copied once (no float64 on the device).
inline Tensor host_tensor(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
    Tensor t = from_vector<double>(values, shape).to(dtype);
    return device.is_cpu() ? t : t.to(device);
}

}  // namespace engine::explain
