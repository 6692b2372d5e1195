// How an op joins the graph. An op computes its outputs with backend kernels, then, when any input requires
// grad and grad mode is on, calls record() with a closure that computes the input gradients from saved
// tensors:
//
//     Tensor y = backend_for(x).unary(UnaryOp::Exp, x);
//     if (needs_grad({x}))
//         record("exp", {x}, {y}, [ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
//             return TensorList{g[0] * ys.get()};
//         });
#pragma once

#include <initializer_list>

#include "autograd/node.h"

namespace engine {

// Grad mode is on and at least one defined input requires grad.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const TensorList& inputs);

// In-place writes would silently corrupt a graph, so they are refused on tensors that require grad while grad
// mode is on (parameter updates run under NoGradGuard). Throws naming `op` and the shape.
void check_inplace_allowed(const Tensor& t, const char* op);

// A tensor kept for backward: an alias without history (so an output saved by its own grad_fn forms no
// reference cycle) plus the version it had, to detect in-place modification before backward.
class SavedTensor {
public:
    SavedTensor() = default;
    explicit SavedTensor(const Tensor& t);
    // Throws AutogradError when the tensor was modified in place after it was saved.
    Tensor get() const;
    bool defined() const { return data_.defined(); }

private:
    Tensor data_;
    uint64_t version_ = 0;
};

// Creates the node of op `name` with one edge per input and makes each defined floating output a non-leaf
// that requires grad, with this node as grad_fn. `fn` returns one gradient per input (undefined for inputs
// that need none; needs_input_grad tells which do).
void record(const char* name, const TensorList& inputs, const TensorList& outputs, BackwardFn fn);

// Sum of `grad` over the dims that broadcasting added to reach it from `shape` (the gradient of expand).
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace engine
