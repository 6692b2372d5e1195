// Views as pure geometry: new shapes, strides and offsets over a tensor's storage, recording nothing. The
// Tensor methods of the same names (autograd/functions/view_ops.cpp) build on these and record the view for
// backward; kernels and runtime code, which sit below autograd, use these directly.
#pragma once

#include <optional>
#include <vector>

#include "runtime/tensor.h"

namespace engine::views {

// Strides that let `shape` view memory laid out as (old_shape, old_strides), or nullopt when the view would need
// a copy (the algorithm of PyTorch's computeStride: split and merge only contiguous chunks).
std::optional<Strides> view_strides(const Shape& old_shape, const Strides& old_strides, const Shape& shape);

// x with another shape over the same memory (-1 infers one size); throws when the strides do not allow it.
Tensor view(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& order);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
// -1 keeps a size; new leading dims must be given.
Tensor expand(const Tensor& x, const Shape& shape);
// Drops `dim` when its size is 1; squeeze(x) drops every size-1 dim.
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x);
Tensor unsqueeze(const Tensor& x, int64_t dim);

}  // namespace engine::views
