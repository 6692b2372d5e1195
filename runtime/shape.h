// Shapes, strides and the NumPy broadcasting rule. Strides are in elements, not bytes.
#pragma once

#include <cstdint>
#include <vector>

namespace engine {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);

// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy broadcasting of two shapes; throws naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of shape/strides `from` as if it had the (broadcast) shape `to`: broadcast dims
// get stride 0. Precondition: `from` broadcasts to `to`.
Strides broadcast_strides(const Shape& from, const Strides& from_strides, const Shape& to);

// The dims of `reduced_from` that were broadcast to make `to` (what a gradient must be summed over).
std::vector<int64_t> broadcast_reduction_dims(const Shape& reduced_from, const Shape& to);

// The multi-index of row-major position `flat` in `shape` (e.g. to name the position of a bad value).
Shape unravel_index(int64_t flat, const Shape& shape);

// Resolves one -1 entry in a requested view shape; throws when the element count does not match.
Shape infer_view_shape(const Shape& requested, int64_t numel, const char* op);

}  // namespace engine
