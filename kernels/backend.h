// The kernel interface every backend implements: one pure virtual per op, declared from the op table
// (kernels/backend_ops.def, which also declares both backends' overrides), and one dispatch (backend_for) that
// looks at a tensor's device. The CPU backend (engine::cpu, kernels/cpu/) and the CUDA backend (engine::cuda,
// kernels/cuda/) implement every op.
//
// Contract for every method (the autograd layer guarantees the preconditions, so backends do not re-check):
//  - inputs are on this backend's device, have the dtypes the op documents, and valid shapes;
//  - inputs may have any strides (views, broadcasts with stride 0) unless a method says "contiguous";
//  - results are new contiguous tensors on this device; backward methods return fresh gradients and never
//    accumulate into an argument (only the autograd engine sums gradients);
//  - methods whose name ends in _ (and the *_step methods) write into their first argument(s) in place.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "kernels/factories.h"
#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine {

struct BatchNormForward {
    Tensor y;
    Tensor save_mean;    // (C): batch mean in training, running mean in eval
    Tensor save_invstd;  // (C): 1/sqrt(var + eps) of the statistics used
};

struct BatchNormGrads {
    Tensor grad_x, grad_weight, grad_bias;
};

// Values and indices (max/min along a dim, max pooling) or a loss and its total weight.
using TensorPair = std::pair<Tensor, Tensor>;

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;

#define ENGINE_BACKEND_OP(ret, op, params, ...) virtual ret op params = 0;
#include "kernels/backend_ops.def"
#undef ENGINE_BACKEND_OP
};

Backend& cpu_backend();
// The backend for a device; throws DeviceError when that device is absent.
Backend& backend_for(Device device);

// A copy of x in `dtype` on x's device, made by `backend`.
Tensor converted_to(Backend& backend, const Tensor& x, DType dtype);
// `op` on float32 copies of `inputs` (undefined ones stay undefined), its result rounded to `dtype`: how the ops
// without 16-bit kernels of their own (the convolutions and reductions of both backends, the CPU's matmul) take
// bfloat16 / float16 tensors: exact inputs, float32 arithmetic, one rounding, as PyTorch computes them in float.
Tensor in_float32(Backend& backend, DType dtype, const std::vector<Tensor>& inputs,
                  const std::function<Tensor(const std::vector<Tensor>&)>& op);
inline Backend& backend_for(const Tensor& t) { return backend_for(t.device()); }

}  // namespace engine
