// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

void CpuBackend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p, bool first_step) { not_implemented("sgd_step_"); }
void CpuBackend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) { not_implemented("adam_step_"); }

}  // namespace engine
