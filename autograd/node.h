// A node of the backward graph: the gradient function of one recorded op. It receives the gradients of the
// op's outputs and returns the gradients of its inputs, which flow along next_edges to the nodes that
// produced those inputs (or to the AccumulateGrad node of a leaf).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine {

using TensorList = std::vector<Tensor>;

struct Edge {
    std::shared_ptr<Node> node;  // null: that input needs no gradient
    uint32_t slot = 0;           // which output of `node` the input was
};

// The tensors a hook list applies to share one list; handles remove entries by id.
class HookList {
public:
    uint64_t add(GradHook hook);
    void remove(uint64_t id);
    // Runs every hook in registration order; each may replace the gradient.
    Tensor run(Tensor grad) const;
    // A non-leaf that called retain_grad(): the final gradient (after hooks) is stored into it.
    std::weak_ptr<TensorImpl> retain_target;

private:
    std::vector<std::pair<uint64_t, GradHook>> hooks_;
    uint64_t next_id_ = 1;
};

struct OutputInfo {
    Shape shape;
    DType dtype;
    Device device;
};

class Node {
public:
    explicit Node(std::string name);
    virtual ~Node() = default;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    // grads[i] is the gradient of output i (defined, of that output's shape). inputs_used[i] says whether the
    // pass running this node uses the gradient of input i at all: grad() w.r.t. an input or an activation
    // (Grad-CAM, integrated gradients) uses no weight gradients even though the weights require grad. Returns
    // one gradient per next edge; undefined where the input needs none or it is unused.
    virtual TensorList apply(const TensorList& grads, const std::vector<bool>& inputs_used) = 0;
    // Frees saved tensors once backward ran without retain_graph.
    virtual void release_saved() {}
    virtual bool is_accumulate_grad() const { return false; }

    const std::string& name() const { return name_; }
    uint64_t sequence_nr() const { return sequence_nr_; }
    size_t num_outputs() const { return outputs.size(); }

    std::vector<Edge> next_edges;
    std::vector<OutputInfo> outputs;
    // Tensor hooks of output slot i (non-leaf tensors register theirs here).
    std::vector<std::vector<std::shared_ptr<HookList>>> output_hooks;

protected:
    uint64_t sequence_nr_;

private:
    std::string name_;
};

// The gradient function of one op, as a closure over the tensors it saved. needs_input_grad[i]: input i
// requires grad and this pass uses its gradient.
using BackwardFn = std::function<TensorList(const TensorList& grads, const std::vector<bool>& needs_input_grad)>;

class FunctionNode final : public Node {
public:
    FunctionNode(std::string name, BackwardFn fn, std::vector<bool> needs_input_grad);
    TensorList apply(const TensorList& grads, const std::vector<bool>& inputs_used) override;
    void release_saved() override { fn_ = nullptr; }

private:
    BackwardFn fn_;
    std::vector<bool> needs_input_grad_;
};

// Sink of a leaf tensor that requires grad: adds incoming gradients into leaf.grad().
class AccumulateGrad final : public Node {
public:
    explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf);
    TensorList apply(const TensorList& grads, const std::vector<bool>& inputs_used) override;
    bool is_accumulate_grad() const override { return true; }
    const std::shared_ptr<TensorImpl>& leaf() const { return leaf_; }

private:
    std::shared_ptr<TensorImpl> leaf_;
};

}  // namespace engine
