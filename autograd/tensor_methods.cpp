// The Tensor methods that need autograd's state or a backend: in-place fill and copy (refused on tensors that
// need grad while grad mode is on) and the autograd accessors. Declared in runtime/tensor.h.
#include "autograd/autograd_meta.h"
#include "autograd/function.h"
#include "kernels/backend.h"

namespace engine {

Tensor& Tensor::fill_(double value) {
    check_defined("fill_");
    check_inplace_allowed(*this, "fill_");
    backend_for(device()).fill_(*this, value);
    bump_version();
    return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
    check_defined("copy_");
    ENGINE_CHECK(src.defined(), "copy_: the source tensor is undefined");
    check_inplace_allowed(*this, "copy_");
    ENGINE_CHECK(broadcast_shapes(src.shape(), shape(), "copy_") == shape(), "copy_: source shape ",
                 shape_str(src.shape()), " does not broadcast to ", shape_str(shape()));
    Tensor source = src.detach();
    if (source.device() != device()) source = source.contiguous().to(device());
    if (source.shape() != shape())
        source =
            make_view(source, shape(), broadcast_strides(source.shape(), source.strides(), shape()), source.offset());
    backend_for(device()).copy_(*this, source);
    bump_version();
    return *this;
}

bool Tensor::requires_grad() const {
    const AutogradMeta* meta = autograd_meta_if(*this);
    return meta != nullptr && meta->requires_grad;
}

Tensor& Tensor::requires_grad_(bool requires) {
    check_defined("requires_grad_");
    ENGINE_CHECK(is_leaf(), "requires_grad_: only leaf tensors can change requires_grad (this one was computed by ",
                 grad_fn()->name(), "); use detach() to make a new leaf");
    ENGINE_CHECK(!requires || is_floating(dtype()), "requires_grad_: only float tensors can require gradients, got ",
                 dtype_name(dtype()));
    autograd_meta(*this).requires_grad = requires;
    return *this;
}

const Tensor& Tensor::grad() const {
    static const Tensor undefined;
    const AutogradMeta* meta = autograd_meta_if(*this);
    return meta ? meta->grad : undefined;
}

void Tensor::set_grad(const Tensor& grad) const {
    check_defined("set_grad");
    if (grad.defined()) {
        ENGINE_CHECK(grad.shape() == shape() && grad.dtype() == dtype() && grad.device() == device(),
                     "set_grad: gradient ", shape_str(grad.shape()), " ", dtype_name(grad.dtype()), " on ",
                     grad.device().str(), " does not match the tensor ", shape_str(shape()), " ", dtype_name(dtype()),
                     " on ", device().str());
    }
    autograd_meta(*this).grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
    static const std::shared_ptr<Node> none;
    const AutogradMeta* meta = autograd_meta_if(*this);
    return meta ? meta->grad_fn : none;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

}  // namespace engine
