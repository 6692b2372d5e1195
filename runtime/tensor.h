// Tensor: a strided view (shape, strides, offset, dtype) over shared Storage on some Device, plus the
// autograd state that makes it part of a graph. Copying a Tensor copies a handle, as in PyTorch.
//
// The layers above runtime define part of this class: the methods that record for autograd or need a kernel
// (views such as view/narrow/permute, contiguous, to, clone, fill_, copy_, and the autograd accessors) are
// defined in autograd/ (functions/view_ops.cpp, tensor_methods.cpp, tensor_print.cpp, autograd_meta.cpp,
// engine.cpp), so runtime/ and kernels/ code must not call them: they use runtime/views.h and
// kernels/factories.h instead (the layer_check_* link targets enforce it). Free functions for math live in
// autograd/ops.h, filled tensors (zeros, ones, full, arange, from_vector) in kernels/factories.h.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/device.h"
#include "runtime/dtype.h"
#include "runtime/shape.h"
#include "runtime/storage.h"

namespace engine {

class Node;
struct AutogradMeta;
class HookList;

class TensorImpl {
public:
    TensorImpl(Storage storage, Shape shape, Strides strides, int64_t offset, DType dtype);
    ~TensorImpl();

    Storage storage;
    Shape shape;
    Strides strides;
    int64_t offset = 0;  // in elements
    DType dtype;
    // Null until the tensor joins a graph. Shared, not unique: the pointer carries its deleter, so runtime/ never
    // needs AutogradMeta's definition (autograd/autograd_meta.h).
    std::shared_ptr<AutogradMeta> autograd;
};

// A gradient hook sees the gradient flowing into a tensor; returning a defined tensor replaces it.
using GradHook = std::function<class Tensor(const class Tensor& grad)>;

class HookHandle {
public:
    HookHandle() = default;
    HookHandle(std::weak_ptr<HookList> list, uint64_t id) : list_(std::move(list)), id_(id) {}
    void remove();

private:
    std::weak_ptr<HookList> list_;
    uint64_t id_ = 0;
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // --- metadata
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const;
    int64_t dim() const { return static_cast<int64_t>(shape().size()); }
    int64_t size(int64_t dim) const;
    const Strides& strides() const;
    int64_t stride(int64_t dim) const;
    int64_t offset() const;
    int64_t numel() const;
    DType dtype() const;
    Device device() const;
    bool is_contiguous() const;
    const Storage& storage() const;
    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
    uint64_t version() const;
    void bump_version() const;

    // Pointer to element 0 of this view; checks the dtype. Device pointers are returned as is.
    template <class T>
    T* data() const {
        ENGINE_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()), ">: tensor has dtype ",
                     dtype_name(dtype()));
        return static_cast<T*>(raw_data());
    }
    void* raw_data() const;

    // --- views (share storage; recorded by autograd)
    Tensor view(const Shape& shape) const;     // requires compatible strides; -1 infers one size
    Tensor reshape(const Shape& shape) const;  // a view when possible, else a contiguous copy
    Tensor permute(const std::vector<int64_t>& order) const;
    Tensor transpose(int64_t dim0, int64_t dim1) const;
    Tensor t() const;  // transpose of a 2-D tensor
    Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
    Tensor select(int64_t dim, int64_t index) const;  // removes `dim`
    Tensor expand(const Shape& shape) const;          // -1 keeps a size
    Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
    Tensor squeeze(int64_t dim) const;
    Tensor squeeze() const;
    Tensor unsqueeze(int64_t dim) const;
    Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
    Tensor contiguous() const;  // this tensor when already contiguous
    std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
    std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

    // --- conversions and copies (recorded by autograd)
    Tensor to(DType dtype) const;
    Tensor to(Device device) const;
    Tensor clone() const;
    // Same storage, no autograd history; requires_grad is false.
    Tensor detach() const;

    // --- in-place (bump the version counter; refused on tensors that need grad while grad mode is on)
    Tensor& fill_(double value);
    Tensor& zero_() { return fill_(0.0); }
    Tensor& copy_(const Tensor& src);  // src broadcasts to this shape; converts dtype; any devices

    // --- element access (copies to the CPU when needed)
    template <class T>
    T item() const;
    template <class T>
    std::vector<T> to_vector() const;

    // --- autograd
    bool requires_grad() const;
    // Marks a leaf as a parameter/input to differentiate; floating dtypes only.
    Tensor& requires_grad_(bool requires = true);
    const Tensor& grad() const;  // undefined until a backward pass reaches this leaf
    void set_grad(const Tensor& grad) const;
    const std::shared_ptr<Node>& grad_fn() const;
    bool is_leaf() const;
    // From a scalar (grad_output defaults to 1) or with an explicit gradient of this tensor's shape.
    void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false) const;
    // Called with the gradient of this tensor each time one is computed; may replace it (Tensor.register_hook).
    HookHandle register_hook(GradHook hook) const;
    // Keep the gradient of a non-leaf in grad() after backward.
    void retain_grad() const;

    std::string str() const;

private:
    void check_defined(const char* what) const;
    std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// --- factories (CPU by default); filled ones are in kernels/factories.h
Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor empty_like(const Tensor& t);

// A view with explicit geometry over an existing tensor's storage (no autograd; used by kernels and views).
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, int64_t offset);

// --- templates
template <class T>
std::vector<T> Tensor::to_vector() const {
    check_defined("to_vector");
    Tensor host = detach().to(Device::cpu()).to(dtype_of<T>()).contiguous();
    const T* src = host.data<T>();
    return std::vector<T>(src, src + host.numel());
}

template <class T>
T Tensor::item() const {
    check_defined("item");
    ENGINE_CHECK(numel() == 1, "item: tensor of shape ", shape_str(shape()), " has ", numel(),
                 " elements, expected 1");
    return to_vector<T>()[0];
}

}  // namespace engine
