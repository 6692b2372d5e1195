// The row iterator of loops.h, compiled once for each operand count the kernels use.
#include "kernels/cpu/loops.h"

namespace engine::cpu {

template <int N>
void for_each_row(const Shape& shape, const LoopOperands<N>& ops, RowBody<N> inner, int64_t grain) {
    for (int64_t size : shape)
        if (size == 0) return;
    // The collapsed dims, outermost first, with byte strides.
    const CollapsedDims<N> dims = collapse_dims<N>(shape, ops.strides);
    const std::vector<int64_t>& sizes = dims.sizes;
    std::vector<std::array<int64_t, N>> strides = dims.strides;
    for (auto& s : strides)
        for (int k = 0; k < N; ++k) s[k] *= ops.elem_size[k];
    if (sizes.empty()) {  // a single element
        std::array<int64_t, N> zero{};
        inner(ops.base, zero, int64_t{1});
        return;
    }
    const int ndim = static_cast<int>(sizes.size());
    const int64_t row_len = sizes.back();
    const std::array<int64_t, N> row_strides = strides.back();
    int64_t total = 1;
    for (int64_t s : sizes) total *= s;

    parallel_for(0, total, grain, [&](int64_t begin, int64_t end) {
        // Multi-index of `begin` over the outer dims and position within its row.
        std::vector<int64_t> index(ndim, 0);
        int64_t rest = begin;
        for (int d = ndim - 1; d >= 0; --d) {
            index[d] = rest % sizes[d];
            rest /= sizes[d];
        }
        int64_t pos = begin;
        while (pos < end) {
            std::array<char*, N> ptrs = ops.base;
            for (int d = 0; d < ndim; ++d)
                for (int k = 0; k < N; ++k) ptrs[k] += index[d] * strides[d][k];
            const int64_t n = std::min(row_len - index[ndim - 1], end - pos);
            inner(ptrs, row_strides, n);
            pos += n;
            index[ndim - 1] += n;
            for (int d = ndim - 1; d > 0 && index[d] == sizes[d]; --d) {
                index[d] = 0;
                ++index[d - 1];
            }
        }
    });
}

template void for_each_row<1>(const Shape&, const LoopOperands<1>&, RowBody<1>, int64_t);
template void for_each_row<2>(const Shape&, const LoopOperands<2>&, RowBody<2>, int64_t);
template void for_each_row<3>(const Shape&, const LoopOperands<3>&, RowBody<3>, int64_t);
template void for_each_row<4>(const Shape&, const LoopOperands<4>&, RowBody<4>, int64_t);
template void for_each_row<6>(const Shape&, const LoopOperands<6>&, RowBody<6>, int64_t);

}  // namespace engine::cpu
