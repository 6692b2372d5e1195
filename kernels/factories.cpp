// Filled tensors and kernel-side copies (factories.h).
#include "kernels/factories.h"

#include <cmath>

#include "kernels/backend.h"

namespace engine {

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    backend_for(device).fill_(t, value);
    return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }
Tensor scalar_tensor(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor copy_to_device(const Tensor& t, Device device) {
    if (t.device() == device) return t;
    ENGINE_CHECK(t.is_contiguous(), "copy_to_device: expected a contiguous tensor, got strides ",
                 shape_str(t.strides()), " for shape ", shape_str(t.shape()));
    Tensor out = empty(t.shape(), t.dtype(), device);
    copy_bytes(out.raw_data(), device, t.raw_data(), t.device(),
               static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
    return out;
}

Tensor arange(double start, double end, double step, DType dtype, Device device) {
    ENGINE_CHECK(step != 0.0, "arange: step must be non-zero");
    const double span = (end - start) / step;
    const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
    Tensor host = empty({n}, DType::Float64);
    double* p = host.data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = start + static_cast<double>(i) * step;
    Tensor typed = host;
    if (dtype != DType::Float64) {
        typed = empty({n}, dtype);
        cpu_backend().copy_(typed, host);
    }
    return copy_to_device(typed, device);
}

Tensor dense(const Tensor& t) {
    if (t.is_contiguous()) return t;
    Tensor out = empty(t.shape(), t.dtype(), t.device());
    backend_for(t.device()).copy_(out, t);
    return out;
}

}  // namespace engine
