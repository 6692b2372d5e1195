// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { not_implemented("reduce"); }
std::pair<Tensor, Tensor> CpuBackend::reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) { not_implemented("reduce_with_index"); }
Tensor CpuBackend::var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) { not_implemented("var"); }

}  // namespace engine
