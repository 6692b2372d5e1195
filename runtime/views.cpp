// Views as pure geometry (views.h).
#include "runtime/views.h"

namespace engine::views {

std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& shape) {
    if (old_shape.empty() || shape_numel(old_shape) <= 1) return contiguous_strides(shape);
    Strides strides(shape.size(), 1);
    int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
    int64_t chunk_base_stride = old_strides.back();
    int64_t tensor_numel = 1, view_numel = 1;
    for (int64_t tensor_d = static_cast<int64_t>(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
        tensor_numel *= old_shape[tensor_d];
        if (tensor_d == 0 ||
            (old_shape[tensor_d - 1] != 1 && old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
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

Tensor view(const Tensor& x, const Shape& requested) {
    const Shape target = infer_view_shape(requested, x.numel(), "view");
    auto strides = view_strides(x.shape(), x.strides(), target);
    ENGINE_CHECK(strides.has_value(), "view: shape ", shape_str(target), " is not compatible with the input's ",
                 "size ", shape_str(x.shape()), " and strides ", shape_str(x.strides()), "; use reshape()");
    return make_view(x, target, *strides, x.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& order) {
    ENGINE_CHECK(static_cast<int64_t>(order.size()) == x.dim(), "permute: order has ", order.size(),
                 " entries for a tensor with ", x.dim(), " dims");
    std::vector<bool> seen(order.size(), false);
    Shape new_shape(order.size());
    Strides new_strides(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        const int64_t d = normalize_dim(order[i], x.dim(), "permute");
        ENGINE_CHECK(!seen[d], "permute: dim ", d, " appears twice in ", shape_str(order));
        seen[d] = true;
        new_shape[i] = x.shape()[d];
        new_strides[i] = x.strides()[d];
    }
    return make_view(x, new_shape, new_strides, x.offset());
}

Tensor narrow(const Tensor& x, int64_t d, int64_t start, int64_t length) {
    d = normalize_dim(d, x.dim(), "narrow");
    const int64_t size_d = x.shape()[d];
    if (start < 0) start += size_d;
    ENGINE_CHECK(start >= 0 && length >= 0 && start + length <= size_d, "narrow: range [", start, ", ", start + length,
                 ") out of bounds for dim ", d, " of size ", size_d, " (shape ", shape_str(x.shape()), ")");
    Shape new_shape = x.shape();
    new_shape[d] = length;
    return make_view(x, new_shape, x.strides(), x.offset() + start * x.strides()[d]);
}

Tensor expand(const Tensor& x, const Shape& requested) {
    ENGINE_CHECK(requested.size() >= x.shape().size(), "expand: cannot expand shape ", shape_str(x.shape()), " to ",
                 shape_str(requested), " (fewer dims)");
    const size_t lead = requested.size() - x.shape().size();
    Shape new_shape(requested.size());
    Strides new_strides(requested.size(), 0);
    for (size_t i = 0; i < requested.size(); ++i) {
        if (i < lead) {
            ENGINE_CHECK(requested[i] >= 0, "expand: size -1 is not allowed for a new leading dim in ",
                         shape_str(requested));
            new_shape[i] = requested[i];
            continue;
        }
        const int64_t current = x.shape()[i - lead];
        const int64_t want = requested[i] == -1 ? current : requested[i];
        ENGINE_CHECK(current == want || current == 1, "expand: the size ", current, " at dim ", i - lead,
                     " cannot be expanded to ", want, " (shape ", shape_str(x.shape()), " to ", shape_str(requested),
                     ")");
        new_shape[i] = want;
        new_strides[i] = current == want ? x.strides()[i - lead] : 0;
    }
    return make_view(x, new_shape, new_strides, x.offset());
}

Tensor squeeze(const Tensor& x, int64_t d) {
    if (x.dim() == 0) return x;
    d = normalize_dim(d, x.dim(), "squeeze");
    if (x.shape()[d] != 1) return x;
    Shape new_shape = x.shape();
    Strides new_strides = x.strides();
    new_shape.erase(new_shape.begin() + d);
    new_strides.erase(new_strides.begin() + d);
    return make_view(x, new_shape, new_strides, x.offset());
}

Tensor squeeze(const Tensor& x) {
    Shape new_shape;
    Strides new_strides;
    for (int64_t i = 0; i < x.dim(); ++i) {
        if (x.shape()[i] == 1) continue;
        new_shape.push_back(x.shape()[i]);
        new_strides.push_back(x.strides()[i]);
    }
    return make_view(x, new_shape, new_strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t d) {
    d = normalize_dim(d, x.dim() + 1, "unsqueeze");
    Shape new_shape = x.shape();
    Strides new_strides = x.strides();
    const int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
    new_shape.insert(new_shape.begin() + d, 1);
    new_strides.insert(new_strides.begin() + d, stride);
    return make_view(x, new_shape, new_strides, x.offset());
}

}  // namespace engine::views
