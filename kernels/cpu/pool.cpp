// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

std::pair<Tensor, Tensor> CpuBackend::max_pool2d_forward(const Tensor& x, const Pool2dParams& p) { not_implemented("max_pool2d_forward"); }
Tensor CpuBackend::max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape) { not_implemented("max_pool2d_backward"); }
Tensor CpuBackend::avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) { not_implemented("avg_pool2d_forward"); }
Tensor CpuBackend::avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, const Pool2dParams& p) { not_implemented("avg_pool2d_backward"); }
Tensor CpuBackend::adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w) { not_implemented("adaptive_avg_pool2d_forward"); }
Tensor CpuBackend::adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) { not_implemented("adaptive_avg_pool2d_backward"); }

}  // namespace engine
