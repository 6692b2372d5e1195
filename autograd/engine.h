// Reverse-mode execution of the recorded graph.
#pragma once

#include "autograd/node.h"

namespace engine::autograd {

// Accumulates d(outputs)/d(leaf) into leaf.grad() for every leaf that requires grad. grad_outputs may be
// empty when every output is a single-element tensor (then each gets 1).
void backward(const TensorList& outputs, const TensorList& grad_outputs = {}, bool retain_graph = false);

// Returns d(outputs)/d(inputs) (one per input) without touching any .grad(): what saliency and integrated
// gradients need. Only the part of the graph between outputs and inputs runs. An input the outputs do not
// depend on is an error unless allow_unused (then its gradient is undefined).
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs = {},
                bool retain_graph = false, bool allow_unused = false);

}  // namespace engine::autograd
