#include "runtime/shape.h"

#include <limits>

#include "runtime/error.h"

namespace engine {

int64_t shape_numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t s : shape) {
        ENGINE_CHECK(s >= 0, "shape ", shape_str(shape), " has a negative size");
        ENGINE_CHECK(s == 0 || n <= std::numeric_limits<int64_t>::max() / s, "shape ", shape_str(shape),
                     " has too many elements");
        n *= s;
    }
    return n;
}

Strides contiguous_strides(const Shape& shape) {
    Strides strides(shape.size());
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = stride;
        stride *= std::max<int64_t>(shape[i], 1);
    }
    return strides;
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
    const int64_t range = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dim 0 and -1, as in PyTorch
    ENGINE_CHECK(dim >= -range && dim < range, op, ": dim ", dim, " out of range for a tensor with ", ndim,
                 " dims");
    return dim < 0 ? dim + range : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    const size_t n = std::max(a.size(), b.size());
    Shape out(n);
    for (size_t i = 0; i < n; ++i) {
        const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
        const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
        ENGINE_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
                     " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

Strides broadcast_strides(const Shape& from, const Strides& from_strides, const Shape& to) {
    Strides out(to.size(), 0);
    const size_t lead = to.size() - from.size();
    for (size_t i = 0; i < from.size(); ++i) out[lead + i] = from[i] == 1 ? 0 : from_strides[i];
    return out;
}

std::vector<int64_t> broadcast_reduction_dims(const Shape& reduced_from, const Shape& to) {
    // `reduced_from` is the broadcast (larger) shape, `to` the original operand shape.
    std::vector<int64_t> dims;
    const size_t lead = reduced_from.size() - to.size();
    for (size_t i = 0; i < reduced_from.size(); ++i) {
        if (i < lead || (to[i - lead] == 1 && reduced_from[i] != 1)) dims.push_back(static_cast<int64_t>(i));
    }
    return dims;
}

Shape unravel_index(int64_t flat, const Shape& shape) {
    Shape index(shape.size());
    for (size_t d = shape.size(); d-- > 0;) {
        index[d] = shape[d] > 0 ? flat % shape[d] : 0;
        flat = shape[d] > 0 ? flat / shape[d] : 0;
    }
    return index;
}

Shape infer_view_shape(const Shape& requested, int64_t numel, const char* op) {
    Shape out = requested;
    int64_t known = 1;
    int infer_at = -1;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) {
            ENGINE_CHECK(infer_at < 0, op, ": only one dimension can be -1 in ", shape_str(requested));
            infer_at = static_cast<int>(i);
        } else {
            ENGINE_CHECK(out[i] >= 0, op, ": invalid size in ", shape_str(requested));
            known *= out[i];
        }
    }
    if (infer_at >= 0) {
        ENGINE_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(requested),
                     " is invalid for input of size ", numel);
        out[infer_at] = numel / known;
    }
    ENGINE_CHECK(shape_numel(out) == numel, op, ": shape ", shape_str(requested), " is invalid for input of size ",
                 numel);
    return out;
}

}  // namespace engine
