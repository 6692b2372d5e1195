// Views (reshape, permute, narrow, expand, ...) and conversions (contiguous, to, clone) as Tensor methods,
// each recorded by autograd. Views share storage; their backward maps the gradient back to the base shape.
#include <numeric>
#include <optional>

#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

// Strides that let `shape` view memory laid out as (old_shape, old_strides), or nullopt when the view would
// need a copy (the algorithm of PyTorch's computeStride: split/merge only contiguous chunks).
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& shape) {
    if (old_shape.empty() || shape_numel(old_shape) <= 1) return contiguous_strides(shape);
    Strides strides(shape.size(), 1);
    int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
    int64_t chunk_base_stride = old_strides.back();
    int64_t tensor_numel = 1, view_numel = 1;
    for (int64_t tensor_d = static_cast<int64_t>(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
        tensor_numel *= old_shape[tensor_d];
        if (tensor_d == 0 || (old_shape[tensor_d - 1] != 1 &&
                              old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
                strides[view_d] = view_numel * chunk_base_stride;
                view_numel *= shape[view_d];
                --view_d;
            }
            if (view_numel != tensor_numel) return std::nullopt;
            if (tensor_d > 0) {
                chunk_base_stride = old_strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    if (view_d != -1) return std::nullopt;
    return strides;
}

// A view of x with the given geometry; its gradient is `backward(grad)`, which must have x's shape.
Tensor view_op(const char* name, const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset,
               std::function<Tensor(const Tensor&)> backward) {
    Tensor out = make_view(x, shape, strides, offset);
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
    const Shape target = infer_view_shape(requested, numel(), "view");
    auto strides_opt = view_strides(shape(), strides(), target);
    ENGINE_CHECK(strides_opt.has_value(), "view: shape ", shape_str(target), " is not compatible with the input's ",
                 "size ", shape_str(shape()), " and strides ", shape_str(strides()), "; use reshape()");
    const Shape original = shape();
    return view_op("view", *this, target, *strides_opt, offset(),
                   [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::reshape(const Shape& requested) const {
    check_defined("reshape");
    const Shape target = infer_view_shape(requested, numel(), "reshape");
    if (view_strides(shape(), strides(), target)) return view(target);
    return contiguous().view(target);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
    check_defined("permute");
    ENGINE_CHECK(static_cast<int64_t>(order.size()) == dim(), "permute: order has ", order.size(),
                 " entries for a tensor with ", dim(), " dims");
    std::vector<int64_t> dims(order.size());
    std::vector<bool> seen(order.size(), false);
    Shape new_shape(order.size());
    Strides new_strides(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        dims[i] = normalize_dim(order[i], dim(), "permute");
        ENGINE_CHECK(!seen[dims[i]], "permute: dim ", dims[i], " appears twice in ", shape_str(order));
        seen[dims[i]] = true;
        new_shape[i] = shape()[dims[i]];
        new_strides[i] = strides()[dims[i]];
    }
    std::vector<int64_t> inverse(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int64_t>(i);
    return view_op("permute", *this, new_shape, new_strides, offset(),
                   [inverse](const Tensor& g) { return g.permute(inverse); });
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
    d = normalize_dim(d, dim(), "narrow");
    const int64_t size_d = shape()[d];
    if (start < 0) start += size_d;
    ENGINE_CHECK(start >= 0 && length >= 0 && start + length <= size_d, "narrow: range [", start, ", ",
                 start + length, ") out of bounds for dim ", d, " of size ", size_d, " (shape ",
                 shape_str(shape()), ")");
    Shape new_shape = shape();
    new_shape[d] = length;
    const Shape original = shape();
    return view_op("narrow", *this, new_shape, strides(), offset() + start * strides()[d],
                   [original, d, start, length](const Tensor& g) {
                       Tensor full_grad = zeros(original, g.dtype(), g.device());
                       full_grad.narrow(d, start, length).copy_(g);
                       return full_grad;
                   });
}

Tensor Tensor::select(int64_t d, int64_t index) const {
    check_defined("select");
    d = normalize_dim(d, dim(), "select");
    const int64_t size_d = shape()[d];
    ENGINE_CHECK(index >= -size_d && index < size_d, "select: index ", index, " out of range for dim ", d,
                 " of size ", size_d);
    if (index < 0) index += size_d;
    return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& requested) const {
    check_defined("expand");
    ENGINE_CHECK(requested.size() >= shape().size(), "expand: cannot expand shape ", shape_str(shape()), " to ",
                 shape_str(requested), " (fewer dims)");
    const size_t lead = requested.size() - shape().size();
    Shape new_shape(requested.size());
    Strides new_strides(requested.size(), 0);
    for (size_t i = 0; i < requested.size(); ++i) {
        if (i < lead) {
            ENGINE_CHECK(requested[i] >= 0, "expand: size -1 is not allowed for a new leading dim in ",
                         shape_str(requested));
            new_shape[i] = requested[i];
            continue;
        }
        const int64_t current = shape()[i - lead];
        const int64_t want = requested[i] == -1 ? current : requested[i];
        ENGINE_CHECK(current == want || current == 1, "expand: the size ", current, " at dim ", i - lead,
                     " cannot be expanded to ", want, " (shape ", shape_str(shape()), " to ", shape_str(requested),
                     ")");
        new_shape[i] = want;
        new_strides[i] = current == want ? strides()[i - lead] : 0;
    }
    if (new_shape == shape()) return *this;
    const Shape original = shape();
    return view_op("expand", *this, new_shape, new_strides, offset(),
                   [original](const Tensor& g) { return sum_to_shape(g, original); });
}

Tensor Tensor::squeeze(int64_t d) const {
    check_defined("squeeze");
    if (dim() == 0) return *this;
    d = normalize_dim(d, dim(), "squeeze");
    if (shape()[d] != 1) return *this;
    Shape new_shape = shape();
    Strides new_strides = strides();
    new_shape.erase(new_shape.begin() + d);
    new_strides.erase(new_strides.begin() + d);
    const Shape original = shape();
    return view_op("squeeze", *this, new_shape, new_strides, offset(),
                   [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::squeeze() const {
    check_defined("squeeze");
    Shape new_shape;
    Strides new_strides;
    for (int64_t i = 0; i < dim(); ++i) {
        if (shape()[i] == 1) continue;
        new_shape.push_back(shape()[i]);
        new_strides.push_back(strides()[i]);
    }
    if (new_shape.size() == shape().size()) return *this;
    const Shape original = shape();
    return view_op("squeeze", *this, new_shape, new_strides, offset(),
                   [original](const Tensor& g) { return g.reshape(original); });
}

Tensor Tensor::unsqueeze(int64_t d) const {
    check_defined("unsqueeze");
    d = normalize_dim(d, dim() + 1, "unsqueeze");
    Shape new_shape = shape();
    Strides new_strides = strides();
    const int64_t stride = d < dim() ? strides()[d] * shape()[d] : 1;
    new_shape.insert(new_shape.begin() + d, 1);
    new_strides.insert(new_strides.begin() + d, stride);
    const Shape original = shape();
    return view_op("unsqueeze", *this, new_shape, new_strides, offset(),
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
        record("to_dtype", {*this}, {out}, [source](const TensorList& g, const std::vector<bool>&) {
            return TensorList{g[0].to(source)};
        });
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
        record("to_device", {*this}, {out}, [origin](const TensorList& g, const std::vector<bool>&) {
            return TensorList{g[0].to(origin)};
        });
    }
    return out;
}

}  // namespace engine
