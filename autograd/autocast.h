// Mixed precision as torch.autocast. Inside an AutocastGuard(bfloat16 or float16):
//   - conv2d, conv_transpose2d, matmul and linear cast their floating inputs (weights and bias too) to that
//     dtype and return it: the products that tensor cores run, with fp32 accumulation in the kernels;
//   - softmax, log_softmax, the losses, batch_norm (its statistics), and pooling and interpolation (which have
//     no 16-bit kernels) cast 16-bit inputs to float32 and return float32;
//   - every other op runs in its inputs' dtype (binary ops promote: bfloat16 with float32 gives float32).
// The casts are recorded ops, so gradients reach the float32 parameters (the optimizer's master weights) in
// float32. Thread-local like GradMode; guards nest, and AutocastGuard(std::nullopt) turns it off inside.
#pragma once

#include <optional>

#include "runtime/dtype.h"
#include "runtime/tensor.h"

namespace engine {

// The 16-bit dtype autocast computes products in on this thread, or nullopt when it is off.
std::optional<DType> autocast_dtype();

class AutocastGuard {
public:
    explicit AutocastGuard(std::optional<DType> dtype);
    ~AutocastGuard();
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    std::optional<DType> previous_;
};

namespace autocast {

// x cast to `dtype` when it is a floating tensor of another dtype (a recorded cast), else x itself.
Tensor cast_floating(const Tensor& x, DType dtype);
// x in float32 when autocast is on and x is 16-bit: the inputs of the float32 ops.
inline Tensor float32_input(const Tensor& x) {
    return autocast_dtype() && x.defined() && is_half(x.dtype()) ? cast_floating(x, DType::Float32) : x;
}

}  // namespace autocast
}  // namespace engine
