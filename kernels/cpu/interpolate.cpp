// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::interpolate_forward(const Tensor& x, int64_t out_h, int64_t out_w, const InterpParams& p) { not_implemented("interpolate_forward"); }
Tensor CpuBackend::interpolate_backward(const Tensor& grad_y, const Shape& x_shape, const InterpParams& p) { not_implemented("interpolate_backward"); }

}  // namespace engine
