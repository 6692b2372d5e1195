// Views (reshape, permute, narrow, expand, ...) and conversions (contiguous, to, clone) as Tensor methods,
// each recorded by autograd. Views share storage; their backward maps the gradient back to the base shape.
#include <numeric>

#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "runtime/views.h"

namespace engine {
namespace {

// `out`, a view of x (runtime/views.h), recorded: its gradient is `backward(grad)`, which must have x's shape.
Tensor view_op(const char* name, const Tensor& x, Tensor out, std::function<Tensor(const Tensor&)> backward) {
    if (needs_grad({x})) {
        record(name, {x}, {out}, [backward = std::move(backward)](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backward(g[0])};
        });
    }
    return out;
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
    check_defined("view");
    const Shape original = shape();
    return view_op("view", *this, views::view(*this, requested),
                   [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::reshape(const Shape& requested) const {
    check_defined("reshape");
    const Shape target = infer_view_shape(requested, numel(), "reshape");
    if (views::view_strides(shape(), strides(), target)) return view(target);
    return contiguous().view(target);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
    check_defined("permute");
    Tensor out = views::permute(*this, order);
    std::vector<int64_t> inverse(order.size());
    for (size_t i = 0; i < order.size(); ++i)
        inverse[normalize_dim(order[i], dim(), "permute")] = static_cast<int64_t>(i);
    return view_op("permute", *this, out, [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
    check_defined("transpose");
    std::vector<int64_t> order(dim());
    std::iota(order.begin(), order.end(), 0);
    std::swap(order[normalize_dim(dim0, dim(), "transpose")], order[normalize_dim(dim1, dim(), "transpose")]);
    return permute(order);
}

Tensor Tensor::t() const {
    ENGINE_CHECK(dim() == 2, "t: expected a 2-D tensor, got shape ", shape_str(shape()));
    return transpose(0, 1);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
    check_defined("narrow");
    Tensor out = views::narrow(*this, d, start, length);
    d = normalize_dim(d, dim(), "narrow");
    if (start < 0) start += shape()[d];
    const Shape original = shape();
    return view_op("narrow", *this, out, [original, d, start, length](const Tensor& g) {
        Tensor full_grad = zeros(original, g.dtype(), g.device());
        full_grad.narrow(d, start, length).copy_(g);
        return full_grad;
    });
}

Tensor Tensor::select(int64_t d, int64_t index) const {
    check_defined("select");
    d = normalize_dim(d, dim(), "select");
    const int64_t size_d = shape()[d];
    ENGINE_CHECK(index >= -size_d && index < size_d, "select: index ", index, " out of range for dim ", d, " of size ",
                 size_d);
    if (index < 0) index += size_d;
    return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& requested) const {
    check_defined("expand");
    Tensor out = views::expand(*this, requested);
    if (out.shape() == shape()) return *this;
    const Shape original = shape();
    return view_op("expand", *this, out, [original](const Tensor& g) { return sum_to_shape(g, original); });
}

Tensor Tensor::squeeze(int64_t d) const {
    check_defined("squeeze");
    Tensor out = views::squeeze(*this, d);
    if (out.dim() == dim()) return *this;
    const Shape original = shape();
    return view_op("squeeze", *this, out, [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::squeeze() const {
    check_defined("squeeze");
    Tensor out = views::squeeze(*this);
    if (out.dim() == dim()) return *this;
    const Shape original = shape();
    return view_op("squeeze", *this, out, [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::unsqueeze(int64_t d) const {
    check_defined("unsqueeze");
    const Shape original = shape();
    return view_op("unsqueeze", *this, views::unsqueeze(*this, d),
                   [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
    check_defined("flatten");
    if (dim() == 0) return reshape({1});
    start_dim = normalize_dim(start_dim, dim(), "flatten");
    end_dim = normalize_dim(end_dim, dim(), "flatten");
    ENGINE_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
    Shape new_shape(shape().begin(), shape().begin() + start_dim);
    int64_t merged = 1;
    for (int64_t i = start_dim; i <= end_dim; ++i) merged *= shape()[i];
    new_shape.push_back(merged);
    new_shape.insert(new_shape.end(), shape().begin() + end_dim + 1, shape().end());
    return reshape(new_shape);
}

std::vector<Tensor> Tensor::split(int64_t split_size, int64_t d) const {
    check_defined("split");
    ENGINE_CHECK(split_size > 0, "split: split_size must be positive, got ", split_size);
    d = normalize_dim(d, dim(), "split");
    if (shape()[d] == 0) return {narrow(d, 0, 0)};  // one empty piece, as PyTorch
    std::vector<Tensor> parts;
    for (int64_t start = 0; start < shape()[d]; start += split_size)
        parts.push_back(narrow(d, start, std::min(split_size, shape()[d] - start)));
    return parts;
}

std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t d) const {
    check_defined("chunk");
    ENGINE_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
    const int64_t size_d = shape()[normalize_dim(d, dim(), "chunk")];
    return split(std::max<int64_t>(1, (size_d + chunks - 1) / chunks), d);
}

Tensor Tensor::contiguous() const {
    check_defined("contiguous");
    if (is_contiguous()) return *this;
    return clone();
}

Tensor Tensor::clone() const {
    check_defined("clone");
    Tensor out = empty(shape(), dtype(), device());
    backend_for(device()).copy_(out, *this);
    if (needs_grad({*this})) {
        record("clone", {*this}, {out}, [](const TensorList& g, const std::vector<bool>&) { return TensorList{g[0]}; });
    }
    return out;
}

Tensor Tensor::to(DType target) const {
    check_defined("to");
    if (target == dtype()) return *this;
    Tensor out = empty(shape(), target, device());
    backend_for(device()).copy_(out, *this);
    if (is_floating(target) && needs_grad({*this})) {
        const DType source = dtype();
        record("to_dtype", {*this}, {out},
               [source](const TensorList& g, const std::vector<bool>&) { return TensorList{g[0].to(source)}; });
    }
    return out;
}

Tensor Tensor::to(Device target) const {
    check_defined("to");
    if (target == device()) return *this;
    Tensor source = contiguous();
    Tensor out = empty(shape(), dtype(), target);
    copy_bytes(out.raw_data(), target, source.raw_data(), source.device(),
               static_cast<size_t>(numel()) * dtype_size(dtype()));
    if (needs_grad({*this})) {
        const Device origin = device();
        record("to_device", {*this}, {out},
               [origin](const TensorList& g, const std::vector<bool>&) { return TensorList{g[0].to(origin)}; });
    }
    return out;
}

}  // namespace engine
