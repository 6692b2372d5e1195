#include "runtime/tensor.h"


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

Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }

}  // namespace engine
