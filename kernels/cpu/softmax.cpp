// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::softmax(const Tensor& x, int64_t dim, bool log) { not_implemented("softmax"); }
Tensor CpuBackend::softmax_backward(const Tensor& y, const Tensor& grad_y, int64_t dim, bool log) { not_implemented("softmax_backward"); }

}  // namespace engine
