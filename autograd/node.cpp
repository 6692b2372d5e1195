#include "autograd/node.h"

#include <atomic>
#include <limits>

#include "autograd/autograd_meta.h"
#include "kernels/backend.h"

namespace engine {

static std::atomic<uint64_t> next_sequence_nr{0};

Node::Node(std::string name) : sequence_nr_(next_sequence_nr.fetch_add(1)), name_(std::move(name)) {}

uint64_t HookList::add(GradHook hook) {
    hooks_.emplace_back(next_id_, std::move(hook));
    return next_id_++;
}

void HookList::remove(uint64_t id) {
    for (auto it = hooks_.begin(); it != hooks_.end(); ++it) {
        if (it->first == id) {
            hooks_.erase(it);
            return;
        }
    }
}

Tensor HookList::run(Tensor grad) const {
    for (const auto& [id, hook] : hooks_) {
        Tensor replaced = hook(grad);
        if (!replaced.defined()) continue;
        ENGINE_CHECK(replaced.shape() == grad.shape() && replaced.dtype() == grad.dtype() &&
                         replaced.device() == grad.device(),
                     "gradient hook ", id, " returned a tensor of shape ", shape_str(replaced.shape()), " ",
                     dtype_name(replaced.dtype()), " for a gradient of shape ", shape_str(grad.shape()), " ",
                     dtype_name(grad.dtype()));
        grad = replaced.detach();
    }
    return grad;
}

void HookHandle::remove() {
    if (auto list = list_.lock()) list->remove(id_);
    list_.reset();
}

FunctionNode::FunctionNode(std::string name, BackwardFn fn, std::vector<bool> needs_input_grad)
    : Node(std::move(name)), fn_(std::move(fn)), needs_input_grad_(std::move(needs_input_grad)) {}

TensorList FunctionNode::apply(const TensorList& grads, const std::vector<bool>& inputs_used) {
    if (!fn_) {
        throw AutogradError(detail::concat(
            name(), ": trying to backward through the graph a second time (its saved tensors were freed after "
                    "the first backward); pass retain_graph=true to the first backward() if you need a second"));
    }
    std::vector<bool> wanted = needs_input_grad_;
    for (size_t i = 0; i < wanted.size() && i < inputs_used.size(); ++i) wanted[i] = wanted[i] && inputs_used[i];
    return fn_(grads, wanted);
}

AccumulateGrad::AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : Node("AccumulateGrad"), leaf_(std::move(leaf)) {
    // Accumulators run as soon as they are ready, which frees their input buffers early.
    sequence_nr_ = std::numeric_limits<uint64_t>::max();
    outputs.push_back({leaf_->shape, leaf_->dtype, leaf_->storage->device()});
    output_hooks.emplace_back();
}

TensorList AccumulateGrad::apply(const TensorList& grads, const std::vector<bool>&) {
    Tensor leaf(leaf_);
    const Tensor& incoming = grads.at(0);
    AutogradMeta& meta = autograd_meta(leaf);
    if (!meta.grad.defined()) {
        // Take the gradient as it is when nothing else can see it; a shared buffer (e.g. the caller's
        // grad_output passed through a view) is copied so later in-place accumulation cannot alias it.
        const bool exclusive = incoming.is_contiguous() && incoming.storage().use_count() == 1;
        meta.grad = exclusive ? incoming.detach() : incoming.clone();
    } else {
        backend_for(meta.grad.device()).binary_(BinaryOp::Add, meta.grad, incoming);
        meta.grad.bump_version();
    }
    return {};
}

}  // namespace engine
