#include "autograd/function.h"

#include "autograd/autograd_meta.h"
#include "autograd/grad_mode.h"
#include "kernels/backend.h"

namespace engine {

template <class Tensors>
static bool any_needs_grad(const Tensors& inputs) {
    if (!GradMode::is_enabled()) return false;
    for (const Tensor& t : inputs)
        if (t.defined() && t.requires_grad()) return true;
    return false;
}

bool needs_grad(std::initializer_list<Tensor> inputs) { return any_needs_grad(inputs); }
bool needs_grad(const TensorList& inputs) { return any_needs_grad(inputs); }

void check_inplace_allowed(const Tensor& t, const char* op) {
    ENGINE_CHECK(!(GradMode::is_enabled() && t.requires_grad()), op,
                 ": in-place write to a tensor that requires grad (shape ", shape_str(t.shape()),
                 "); do it under NoGradGuard (e.g. a parameter update) or use an out-of-place op");
}

SavedTensor::SavedTensor(const Tensor& t) {
    if (!t.defined()) return;
    data_ = t.detach();
    version_ = t.version();
}

Tensor SavedTensor::get() const {
    if (data_.defined() && data_.version() != version_) {
        throw AutogradError(detail::concat(
            "a tensor of shape ", shape_str(data_.shape()), " needed for gradient computation was modified by an "
            "in-place operation after it was saved (version ", version_, " -> ", data_.version(), ")"));
    }
    return data_;
}

void record(const char* name, const TensorList& inputs, const TensorList& outputs, BackwardFn fn) {
    std::vector<Edge> edges;
    std::vector<bool> needs;
    edges.reserve(inputs.size());
    for (const Tensor& input : inputs) {
        edges.push_back(input.defined() ? gradient_edge(input) : Edge{});
        needs.push_back(edges.back().node != nullptr);
    }
    auto node = std::make_shared<FunctionNode>(name, std::move(fn), std::move(needs));
    node->next_edges = std::move(edges);
    uint32_t slot = 0;
    for (const Tensor& output : outputs) {
        if (!output.defined() || !is_floating(output.dtype())) continue;
        AutogradMeta& meta = autograd_meta(output);
        ENGINE_CHECK(!meta.grad_fn && !meta.requires_grad, name,
                     ": internal error, an output already belongs to a graph");
        meta.requires_grad = true;
        meta.grad_fn = node;
        meta.output_slot = slot++;
        node->outputs.push_back({output.shape(), output.dtype(), output.device()});
        node->output_hooks.emplace_back();
    }
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
    if (grad.shape() == shape) return grad;
    const std::vector<int64_t> dims = broadcast_reduction_dims(grad.shape(), shape);
    Tensor reduced = backend_for(grad).reduce(ReduceOp::Sum, grad, dims, /*keepdim=*/true);
    // Drop the leading dims that broadcasting added; the remaining ones already have `shape`'s sizes.
    return make_view(reduced, shape, contiguous_strides(shape), reduced.offset());
}

}  // namespace engine
