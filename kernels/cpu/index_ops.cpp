// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

Tensor CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index) { not_implemented("gather"); }
Tensor CpuBackend::scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterReduce reduce) { not_implemented("scatter"); }
Tensor CpuBackend::scatter_value(const Tensor& self, int64_t dim, const Tensor& index, double value) { not_implemented("scatter_value"); }
Tensor CpuBackend::index_select(const Tensor& x, int64_t dim, const Tensor& index) { not_implemented("index_select"); }
Tensor CpuBackend::index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) { not_implemented("index_add"); }

}  // namespace engine
