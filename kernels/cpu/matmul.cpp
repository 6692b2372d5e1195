// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::matmul(const Tensor& a, const Tensor& b) { not_implemented("matmul"); }

}  // namespace engine
