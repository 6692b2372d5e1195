#include "runtime/tensor.h"

#include <cmath>

#include "autograd/autograd_meta.h"
#include "autograd/function.h"
#include "kernels/backend.h"

namespace engine {

TensorImpl::TensorImpl(Storage storage_, Shape shape_, Strides strides_, int64_t offset_, DType dtype_)
    : storage(std::move(storage_)), shape(std::move(shape_)), strides(std::move(strides_)), offset(offset_),
      dtype(dtype_) {}

TensorImpl::~TensorImpl() = default;

void Tensor::check_defined(const char* what) const {
    ENGINE_CHECK(impl_ != nullptr, what, ": the tensor is undefined");
}

const Shape& Tensor::shape() const {
    check_defined("shape");
    return impl_->shape;
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }

const Strides& Tensor::strides() const {
    check_defined("strides");
    return impl_->strides;
}

int64_t Tensor::stride(int64_t d) const { return strides()[normalize_dim(d, dim(), "stride")]; }

int64_t Tensor::offset() const {
    check_defined("offset");
    return impl_->offset;
}

int64_t Tensor::numel() const { return shape_numel(shape()); }

DType Tensor::dtype() const {
    check_defined("dtype");
    return impl_->dtype;
}

Device Tensor::device() const {
    check_defined("device");
    return impl_->storage->device();
}

const Storage& Tensor::storage() const {
    check_defined("storage");
    return impl_->storage;
}

uint64_t Tensor::version() const { return storage()->version(); }
void Tensor::bump_version() const { storage()->bump_version(); }

bool Tensor::is_contiguous() const {
    const Shape& s = shape();
    const Strides& st = strides();
    int64_t expected = 1;
    for (size_t i = s.size(); i-- > 0;) {
        if (s[i] == 1) continue;  // the stride of a size-1 dim never matters
        if (st[i] != expected) return false;
        expected *= s[i];
    }
    return true;
}

void* Tensor::raw_data() const {
    check_defined("data");
    char* base = static_cast<char*>(impl_->storage->data());
    return base ? base + impl_->offset * static_cast<int64_t>(dtype_size(impl_->dtype)) : nullptr;
}

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
    if (source.shape() != shape()) source = make_view(source, shape(), broadcast_strides(source.shape(),
                                                                                         source.strides(), shape()),
                                                      source.offset());
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
                     grad.device().str(), " does not match the tensor ", shape_str(shape()), " ",
                     dtype_name(dtype()), " on ", device().str());
    }
    autograd_meta(*this).grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
    static const std::shared_ptr<Node> none;
    const AutogradMeta* meta = autograd_meta_if(*this);
    return meta ? meta->grad_fn : none;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

Tensor Tensor::detach() const {
    check_defined("detach");
    return Tensor(std::make_shared<TensorImpl>(impl_->storage, impl_->shape, impl_->strides, impl_->offset,
                                               impl_->dtype));
}

Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset) {
    return Tensor(std::make_shared<TensorImpl>(base.storage(), shape, strides, offset, base.dtype()));
}

// --- factories

Tensor empty(const Shape& shape, DType dtype, Device device) {
    const int64_t n = shape_numel(shape);
    auto storage = std::make_shared<StorageImpl>(static_cast<size_t>(n) * dtype_size(dtype), device);
    return Tensor(std::make_shared<TensorImpl>(std::move(storage), shape, contiguous_strides(shape), 0, dtype));
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    backend_for(device).fill_(t, value);
    return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype(), t.device()); }

Tensor scalar_tensor(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor arange(double start, double end, double step, DType dtype, Device device) {
    ENGINE_CHECK(step != 0.0, "arange: step must be non-zero");
    const double span = (end - start) / step;
    const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
    Tensor host = empty({n}, DType::Float64);
    double* p = host.data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = start + static_cast<double>(i) * step;
    Tensor typed = dtype == DType::Float64 ? host : host.to(dtype);
    return device.is_cpu() ? typed : typed.to(device);
}

}  // namespace engine
