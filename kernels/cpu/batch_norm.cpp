// STUB: replaced by the real kernels of this family.
#include "kernels/cpu/cpu_backend.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

BatchNormForward CpuBackend::batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& running_mean, Tensor& running_var, bool training, double momentum, double eps) { not_implemented("batch_norm_forward"); }
BatchNormGrads CpuBackend::batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& save_mean, const Tensor& save_invstd, bool training) { not_implemented("batch_norm_backward"); }

}  // namespace engine
