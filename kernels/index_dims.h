// What the index ops (gather, scatter, index_select, index_add) of both backends share about the indexed dim:
// its size and stride (a 0-dim tensor acts as one element along it), the strides with it zeroed, and the error
// for an index out of range.
#pragma once

#include <cstdint>

#include "runtime/error.h"
#include "runtime/tensor.h"

namespace engine {

inline int64_t indexed_dim_size(const Tensor& t, int64_t dim) { return t.dim() == 0 ? 1 : t.shape()[dim]; }
inline int64_t indexed_dim_stride(const Tensor& t, int64_t dim) { return t.dim() == 0 ? 0 : t.strides()[dim]; }

// t's strides with the one at `dim` zeroed (that operand is addressed through the index values).
inline Strides strides_without_dim(const Tensor& t, int64_t dim) {
    Strides s = t.strides();
    if (!s.empty()) s[dim] = 0;
    return s;
}

// Throws for the index `value` found at flat position `position` of an index tensor of `index_shape`.
[[noreturn]] inline void throw_index_out_of_range(const char* op, int64_t value, int64_t dim, int64_t size,
                                                  int64_t position, const Shape& index_shape) {
    throw Error(detail::concat(op, ": index ", value, " out of range for dim ", dim, " of size ", size,
                               " (at index position ", shape_str(unravel_index(position, index_shape)), ")"));
}

}  // namespace engine
