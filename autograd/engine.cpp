// Backward execution: count dependencies over the part of the graph that matters, then run nodes in
// dependency order (latest-created first among the ready ones, as PyTorch does), summing the gradients each
// node receives. This is the only place where gradients are summed.
#include "autograd/engine.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/autograd_meta.h"
#include "autograd/grad_mode.h"
#include "kernels/backend.h"

namespace engine::autograd {
namespace {

struct BackwardProfile {
    std::mutex mutex;
    std::atomic<bool> on{false};
    std::map<std::string, BackwardProfileRow> rows;
};

BackwardProfile& backward_profile() {
    static BackwardProfile* profile = new BackwardProfile();
    return *profile;
}

struct Capture {
    uint32_t slot;
    size_t result_index;
};

struct ByLatestFirst {
    bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

class GraphTask {
public:
    GraphTask(bool retain_graph, bool accumulate) : retain_graph_(retain_graph), accumulate_(accumulate) {}

    void add_root(const Edge& edge, const Tensor& grad) {
        root_owners_.push_back(edge.node);  // a leaf's accumulator may exist only through this edge
        roots_.push_back(edge.node.get());
        add_to_buffer(edge.node.get(), edge.slot, grad);
    }

    void add_capture(Node* node, uint32_t slot, size_t result_index) {
        captures_[node].push_back({slot, result_index});
    }

    void run(TensorList* captured) {
        mark_needed();
        count_dependencies();
        std::priority_queue<Node*, std::vector<Node*>, ByLatestFirst> ready;
        for (Node* root : roots_)
            if (needed(root) && dependencies_[root] == 0 && queued_.insert(root).second) ready.push(root);
        NoGradGuard no_grad;  // backward builds no graph (no higher-order gradients)
        while (!ready.empty()) {
            Node* node = ready.top();
            ready.pop();
            execute(node, captured, ready);
        }
    }

private:
    bool needed(Node* node) const { return needed_.count(node) != 0; }

    // backward(): every reachable node runs. grad(): only nodes on a path to a captured input.
    void mark_needed() {
        std::unordered_map<Node*, bool> memo;
        std::vector<std::pair<Node*, size_t>> stack;
        for (Node* root : roots_) {
            if (memo.count(root)) continue;
            stack.push_back({root, 0});
            memo[root] = false;
            while (!stack.empty()) {
                auto& [node, next] = stack.back();
                if (next < node->next_edges.size()) {
                    Node* child = node->next_edges[next++].node.get();
                    if (child && !memo.count(child)) {
                        memo[child] = false;
                        stack.push_back({child, 0});
                    }
                    continue;
                }
                bool is_needed = accumulate_ ? true : captures_.count(node) != 0;
                for (const Edge& e : node->next_edges)
                    if (e.node && memo[e.node.get()]) is_needed = true;
                memo[node] = is_needed;
                if (is_needed) needed_.insert(node);
                stack.pop_back();
            }
        }
    }

    void count_dependencies() {
        for (Node* node : needed_)
            for (const Edge& e : node->next_edges)
                if (e.node && needed(e.node.get())) ++dependencies_[e.node.get()];
    }

    void add_to_buffer(Node* node, uint32_t slot, const Tensor& grad) {
        TensorList& buffer = buffers_[node];
        if (buffer.empty()) buffer.resize(node->num_outputs());
        const OutputInfo& info = node->outputs.at(slot);
        ENGINE_CHECK(grad.shape() == info.shape, "backward: ", node->name(), " received a gradient of shape ",
                     shape_str(grad.shape()), " for an output of shape ", shape_str(info.shape));
        Tensor& held = buffer[slot];
        if (!held.defined()) {
            held = grad;
        } else {
            held = backend_for(held).binary(BinaryOp::Add, held, grad);
        }
    }

    void execute(Node* node, TensorList* captured,
                 std::priority_queue<Node*, std::vector<Node*>, ByLatestFirst>& ready) {
        TensorList grads = std::move(buffers_[node]);
        buffers_.erase(node);
        grads.resize(node->num_outputs());
        for (size_t slot = 0; slot < grads.size(); ++slot) {
            const OutputInfo& info = node->outputs[slot];
            if (!grads[slot].defined()) grads[slot] = zeros(info.shape, info.dtype, info.device);
            for (const auto& hooks : node->output_hooks[slot]) {
                grads[slot] = hooks->run(grads[slot]);
                if (auto target = hooks->retain_target.lock()) accumulate_retained(Tensor(target), grads[slot]);
            }
        }
        if (auto it = captures_.find(node); it != captures_.end()) {
            for (const Capture& c : it->second) (*captured)[c.result_index] = grads[c.slot];
        }
        if (node->is_accumulate_grad()) {
            if (accumulate_) node->apply(grads, {});
            return;
        }
        bool feeds_needed_node = false;
        for (const Edge& e : node->next_edges) feeds_needed_node |= e.node && needed(e.node.get());
        if (!feeds_needed_node) return;  // grad(): a captured non-leaf whose inputs matter to nobody

        std::vector<bool> used(node->next_edges.size());
        for (size_t i = 0; i < used.size(); ++i) {
            Node* next = node->next_edges[i].node.get();
            used[i] = next && needed(next);
        }
        TensorList input_grads;
        const bool profiling = backward_profile().on.load(std::memory_order_relaxed);
        const auto start = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
        try {
            input_grads = node->apply(grads, used);
        } catch (const AutogradError&) {
            throw;
        } catch (const Error& e) {
            throw Error(detail::concat("in backward of ", node->name(), ": ", e.what()));
        }
        if (profiling) {
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            BackwardProfile& profile = backward_profile();
            std::lock_guard<std::mutex> lock(profile.mutex);
            BackwardProfileRow& row = profile.rows[node->name()];
            row.name = node->name();
            ++row.calls;
            row.ms += ms;
        }
        if (!retain_graph_) node->release_saved();
        ENGINE_CHECK(input_grads.size() == node->next_edges.size(), "backward: ",
                     node->name(), " returned ", input_grads.size(), " gradients for ", node->next_edges.size(),
                     " inputs");
        for (size_t i = 0; i < node->next_edges.size(); ++i) {
            const Edge& edge = node->next_edges[i];
            Node* next = edge.node.get();
            if (!next || !needed(next)) continue;
            if (input_grads[i].defined()) add_to_buffer(next, edge.slot, input_grads[i]);
            if (--dependencies_[next] == 0 && queued_.insert(next).second) ready.push(next);
        }
    }

    static void accumulate_retained(const Tensor& target, const Tensor& grad) {
        AutogradMeta& meta = autograd_meta(target);
        meta.grad = meta.grad.defined() ? backend_for(grad).binary(BinaryOp::Add, meta.grad, grad) : grad.detach();
    }

    bool retain_graph_;
    bool accumulate_;
    std::vector<std::shared_ptr<Node>> root_owners_;
    std::vector<Node*> roots_;
    std::unordered_set<Node*> needed_;
    std::unordered_set<Node*> queued_;
    std::unordered_map<Node*, int> dependencies_;
    std::unordered_map<Node*, TensorList> buffers_;
    std::unordered_map<Node*, std::vector<Capture>> captures_;
};

TensorList root_gradients(const TensorList& outputs, const TensorList& grad_outputs, const char* op) {
    ENGINE_CHECK(!outputs.empty(), op, ": no outputs given");
    ENGINE_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(), op, ": ", outputs.size(),
                 " outputs but ", grad_outputs.size(), " gradients");
    TensorList grads;
    for (size_t i = 0; i < outputs.size(); ++i) {
        const Tensor& out = outputs[i];
        ENGINE_CHECK(out.defined(), op, ": output ", i, " is undefined");
        if (!out.requires_grad()) {
            throw AutogradError(detail::concat(
                op, ": output ", i, " (shape ", shape_str(out.shape()), ") does not require grad and has no "
                "grad_fn: it was computed from tensors that do not require grad, under NoGradGuard, or by a "
                "non-differentiable op (argmax, comparisons, indices, integer results)"));
        }
        if (grad_outputs.empty() || !grad_outputs[i].defined()) {
            ENGINE_CHECK(out.numel() == 1, op, ": a gradient can be implied only for single-element outputs; "
                         "output ", i, " has shape ", shape_str(out.shape()), ", pass its gradient explicitly");
            grads.push_back(ones(out.shape(), out.dtype(), out.device()));
        } else {
            const Tensor& g = grad_outputs[i];
            ENGINE_CHECK(g.shape() == out.shape() && g.dtype() == out.dtype() && g.device() == out.device(), op,
                         ": gradient ", i, " is ", shape_str(g.shape()), " ", dtype_name(g.dtype()), " on ",
                         g.device().str(), " but the output is ", shape_str(out.shape()), " ",
                         dtype_name(out.dtype()), " on ", out.device().str());
            grads.push_back(g.detach());
        }
    }
    return grads;
}

}  // namespace

void set_backward_profiling(bool on) { backward_profile().on = on; }

std::vector<BackwardProfileRow> take_backward_profile() {
    BackwardProfile& profile = backward_profile();
    std::lock_guard<std::mutex> lock(profile.mutex);
    std::vector<BackwardProfileRow> rows;
    for (auto& [name, row] : profile.rows) rows.push_back(row);
    profile.rows.clear();
    return rows;
}

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph) {
    const TensorList grads = root_gradients(outputs, grad_outputs, "backward");
    GraphTask task(retain_graph, /*accumulate=*/true);
    for (size_t i = 0; i < outputs.size(); ++i) task.add_root(gradient_edge(outputs[i]), grads[i]);
    task.run(nullptr);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool allow_unused) {
    const TensorList grads = root_gradients(outputs, grad_outputs, "grad");
    GraphTask task(retain_graph, /*accumulate=*/false);
    for (size_t i = 0; i < outputs.size(); ++i) task.add_root(gradient_edge(outputs[i]), grads[i]);
    TensorList result(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& input = inputs[i];
        ENGINE_CHECK(input.defined() && input.requires_grad(), "grad: input ", i, " does not require grad");
        const AutogradMeta* meta = autograd_meta_if(input);
        std::shared_ptr<Node> node = meta->grad_fn ? meta->grad_fn : meta->grad_accumulator.lock();
        if (node) task.add_capture(node.get(), meta->grad_fn ? meta->output_slot : 0, i);
    }
    task.run(&result);
    for (size_t i = 0; i < inputs.size(); ++i) {
        ENGINE_CHECK(allow_unused || result[i].defined(), "grad: input ", i, " (shape ",
                     shape_str(inputs[i].shape()), ") was not used to compute the outputs; pass allow_unused=true "
                     "to get an undefined gradient instead");
    }
    return result;
}

}  // namespace engine::autograd

namespace engine {

void Tensor::backward(const Tensor& grad_output, bool retain_graph) const {
    autograd::backward({*this}, grad_output.defined() ? TensorList{grad_output} : TensorList{}, retain_graph);
}

}  // namespace engine
