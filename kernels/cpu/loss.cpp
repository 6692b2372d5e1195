// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

std::pair<Tensor, Tensor> CpuBackend::nll_loss_forward(const Tensor& log_probs, const Tensor& target, const Tensor& weight, int64_t ignore_index, Reduction reduction) { not_implemented("nll_loss_forward"); }
Tensor CpuBackend::nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target, const Tensor& weight, int64_t ignore_index, Reduction reduction, const Tensor& total_weight) { not_implemented("nll_loss_backward"); }
Tensor CpuBackend::bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& pos_weight, Reduction reduction) { not_implemented("bce_with_logits_forward"); }
Tensor CpuBackend::bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& pos_weight, Reduction reduction) { not_implemented("bce_with_logits_backward"); }

}  // namespace engine
