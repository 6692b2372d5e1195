// What both backends' nll_loss kernels share: the (N, C, S) view of log-probabilities (N, C, d1, ...) and the
// error for a target class out of range.
#pragma once

#include <cstdint>

#include "runtime/error.h"
#include "runtime/shape.h"

namespace engine {

// S is the product of the trailing dims (1 for (N, C) inputs).
struct NllLayout {
    int64_t batch = 0, classes = 0, spatial = 1;
};

inline NllLayout nll_layout(const Shape& shape) {
    NllLayout l;
    l.batch = shape[0];
    l.classes = shape[1];
    for (size_t d = 2; d < shape.size(); ++d) l.spatial *= shape[d];
    return l;
}

// Throws for `target`, found at flat position `position` of a target tensor of `target_shape`.
[[noreturn]] inline void throw_nll_target_out_of_range(int64_t target, int64_t position, const Shape& target_shape,
                                                       int64_t classes, int64_t ignore_index) {
    throw Error(detail::concat("nll_loss: target ", target, " at position ",
                               shape_str(unravel_index(position, target_shape)),
                               " is out of range; valid classes are [0, ", classes, ") or ignore_index ",
                               ignore_index));
}

}  // namespace engine
