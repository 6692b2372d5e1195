// How both backends' matmuls see an operand: a (B, rows, cols) or (rows, cols) tensor as batch stride plus
// matrix strides.
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/tensor.h"

namespace engine {

struct MatrixArg {
    int64_t batch_stride, row_stride, col_stride;
};

inline MatrixArg matrix_arg(const Tensor& t) {
    const int64_t d = t.dim();
    MatrixArg m{d == 3 ? t.stride(0) : 0, t.stride(d - 2), t.stride(d - 1)};
    // The stride of a size-1 dim is arbitrary (possibly 0): give it a value that makes the layout plain.
    if (t.size(d - 1) == 1) m.col_stride = 1;
    if (t.size(d - 2) == 1) m.row_stride = std::max<int64_t>(1, t.size(d - 1));
    if (d == 3 && t.size(0) == 1) m.batch_stride = 0;
    return m;
}

}  // namespace engine
