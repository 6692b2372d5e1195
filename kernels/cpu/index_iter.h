// Iteration for gather / scatter over the positions of an index tensor, in blocks that span the indexed dim
// (and the innermost other dim, to amortise the bookkeeping). Blocks are split across threads, so a scatter
// writes each output element from one thread only and in a fixed order (the last write wins, as in PyTorch).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "runtime/parallel.h"
#include "runtime/shape.h"

namespace engine::cpu {

// Calls block(base, dim_step, dim_len, inner_step, inner_len) for blocks of `shape` that cover it: a block is
// the positions that share every coordinate but `dim` and the innermost other dim of size > 1 ("inner").
// base[k] is operand k's element offset at the block's first position and dim_step[k] / inner_step[k] its
// steps (strides[k] are operand k's strides over `shape`; pass 0 at `dim` for an operand addressed through
// the index values). Blocks are split across threads; a block visits dim in order for each inner position.
template <int N, class Block>
void for_each_index_block(const Shape& shape, int64_t dim, const std::array<Strides, N>& strides, const Block& block) {
    if (shape_numel(shape) == 0) return;
    const int64_t ndim = static_cast<int64_t>(shape.size());
    int64_t inner_dim = -1;
    for (int64_t d = ndim - 1; d >= 0 && inner_dim < 0; --d)
        if (d != dim && shape[d] > 1) inner_dim = d;
    std::vector<int64_t> sizes;
    std::vector<std::array<int64_t, N>> steps;
    std::array<int64_t, N> dim_step{}, inner_step{};
    int64_t dim_len = 1, inner_len = 1;
    for (int64_t d = 0; d < ndim; ++d) {
        std::array<int64_t, N> s;
        for (int k = 0; k < N; ++k) s[k] = strides[k][d];
        if (d == dim) {
            dim_len = shape[d];
            dim_step = s;
        } else if (d == inner_dim) {
            inner_len = shape[d];
            inner_step = s;
        } else if (shape[d] != 1) {
            sizes.push_back(shape[d]);
            steps.push_back(s);
        }
    }
    int64_t blocks = 1;
    for (int64_t s : sizes) blocks *= s;
    const int nd = static_cast<int>(sizes.size());
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / (4 * dim_len * inner_len));
    parallel_for(0, blocks, grain, [&](int64_t lo, int64_t hi) {
        std::vector<int64_t> coord(nd, 0);
        int64_t rest = lo;
        for (int d = nd - 1; d >= 0; --d) {
            coord[d] = rest % sizes[d];
            rest /= sizes[d];
        }
        std::array<int64_t, N> base{};
        for (int d = 0; d < nd; ++d)
            for (int k = 0; k < N; ++k) base[k] += coord[d] * steps[d][k];
        for (int64_t b = lo; b < hi; ++b) {
            block(base, dim_step, dim_len, inner_step, inner_len);
            for (int d = nd - 1; d >= 0; --d) {
                for (int k = 0; k < N; ++k) base[k] += steps[d][k];
                if (++coord[d] < sizes[d]) break;
                for (int k = 0; k < N; ++k) base[k] -= sizes[d] * steps[d][k];
                coord[d] = 0;
            }
        }
    });
}

}  // namespace engine::cpu
