// The autograd state of a tensor, allocated only for tensors that are part of a graph.
#pragma once

#include <memory>

#include "autograd/node.h"

namespace engine {

struct AutogradMeta {
    bool requires_grad = false;
    Tensor grad;
    std::shared_ptr<Node> grad_fn;  // null for leaves
    uint32_t output_slot = 0;       // which output of grad_fn this tensor is
    // Leaves only. Weak: the graph owns the accumulator, so a leaf that outlives its graphs does not keep it.
    std::weak_ptr<Node> grad_accumulator;
    std::shared_ptr<HookList> hooks;  // this tensor's gradient hooks (and retain_grad target)
};

// The meta of t, created on first use.
AutogradMeta& autograd_meta(const Tensor& t);
// Null when t has none.
AutogradMeta* autograd_meta_if(const Tensor& t);

// Where the gradient of t goes in the graph: its grad_fn slot, its leaf accumulator (created on demand), or
// nowhere (an edge with a null node) when t does not require grad.
Edge gradient_edge(const Tensor& t);

}  // namespace engine
