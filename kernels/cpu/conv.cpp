// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) { not_implemented("conv2d_forward"); }
Tensor CpuBackend::conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape, const Conv2dParams& p) { not_implemented("conv2d_backward_data"); }
Tensor CpuBackend::conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape, const Conv2dParams& p) { not_implemented("conv2d_backward_weight"); }

}  // namespace engine
