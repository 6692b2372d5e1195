// Tensors filled with values (zeros, ones, full, arange, from_vector) and the copies kernels make themselves
// (dense, read_element): they need a backend's fill and copy, so they live here, above runtime/'s empty(),
// and record nothing. autograd/ops.h includes this header, so the layers above see them as before.
#pragma once

#include <vector>

#include "runtime/allocator.h"
#include "runtime/tensor.h"

namespace engine {

Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) with step; int64 unless dtype says otherwise.
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::Int64, Device device = Device::cpu());
Tensor scalar_tensor(double value, DType dtype = DType::Float32, Device device = Device::cpu());

// A contiguous copy of a contiguous tensor on another device (t itself when it is there already).
Tensor copy_to_device(const Tensor& t, Device device);

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu()) {
    ENGINE_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
                 " values for shape ", shape_str(shape));
    Tensor host = empty(shape, dtype_of<T>(), Device::cpu());
    T* dst = host.data<T>();
    for (size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
    return copy_to_device(host, device);
}

// t's values as a contiguous tensor without autograd history (t itself when already contiguous): how a kernel
// that needs dense memory reads a strided input without recording anything.
Tensor dense(const Tensor& t);

// Element `i` (in row-major order) of a contiguous tensor on any device, read to the host and converted to T
// (as item<T>() converts).
template <class T>
T read_element(const Tensor& contiguous_t, int64_t i = 0) {
    ENGINE_CHECK(contiguous_t.is_contiguous() && i >= 0 && i < contiguous_t.numel(), "read_element: element ", i,
                 " of a tensor of shape ", shape_str(contiguous_t.shape()), " and strides ",
                 shape_str(contiguous_t.strides()));
    return ENGINE_DISPATCH_ALL(contiguous_t.dtype(), "read_element", [&] {
        scalar_t value;
        copy_bytes(&value, Device::cpu(), static_cast<const scalar_t*>(contiguous_t.raw_data()) + i,
                   contiguous_t.device(), sizeof(scalar_t));
        return static_cast<T>(value);
    });
}

}  // namespace engine
