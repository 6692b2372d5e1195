// Reverse-mode execution of the recorded graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// Per-op timing of backward passes (bench_model --profile): while on, the engine adds the wall time of every
// node it runs to a table by op name; take_backward_profile() returns the rows and clears the table.
struct BackwardProfileRow {
    std::string name;
    int64_t calls = 0;
    double ms = 0;
};
void set_backward_profiling(bool on);
std::vector<BackwardProfileRow> take_backward_profile();

}  // namespace engine::autograd
