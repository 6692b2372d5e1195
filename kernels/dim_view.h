// A contiguous tensor seen around one dim as an (outer, size, inner) array: the layout that softmax, index ops
// and per-dim reductions of both backends walk; and the (H, W) plane resize of pooling and interpolation.
#pragma once

#include <cstdint>

#include "runtime/shape.h"

namespace engine {

struct DimView {
    int64_t outer = 1, size = 1, inner = 1;
};

// The products of the dims before and after `dim` and the size of `dim` itself; a 0-dim shape is (1, 1, 1).
inline DimView view_around_dim(const Shape& shape, int64_t dim) {
    DimView v;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
        if (d < dim) v.outer *= shape[d];
        if (d == dim) v.size = shape[d];
        if (d > dim) v.inner *= shape[d];
    }
    return v;
}

// `shape` with its last two dims replaced by (h, w): the output shape of 2-D pooling and interpolation.
inline Shape with_plane_size(const Shape& shape, int64_t h, int64_t w) {
    Shape s = shape;
    s[s.size() - 2] = h;
    s[s.size() - 1] = w;
    return s;
}

}  // namespace engine
