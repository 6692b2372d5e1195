// Whether a tensor holds only finite values, in one reduction: the question the non-finite checkpoint check
// and loss scaling's skipped steps both ask.
#pragma once

#include "runtime/tensor.h"

namespace engine {

// True for integer tensors and for floating ones without NaN or +-Inf (no graph is recorded).
bool all_finite(const Tensor& t);

}  // namespace engine
