// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::cat(const std::vector<Tensor>& xs, int64_t dim) { not_implemented("cat"); }
Tensor CpuBackend::pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) { not_implemented("pad"); }
Tensor CpuBackend::pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode) { not_implemented("pad_backward"); }

}  // namespace engine
