// How both backends reduce any set of dims of a contiguous tensor: the dims collapse into a few passes over
// (outer, reduce, inner) blocks, innermost run of reduced dims first, each pass reading the previous pass's
// accumulators, so no pass copies or transposes the input. Host-side planning only; the passes themselves are
// the backends' (kernels/cpu/reduce_driver.h, kernels/cuda/reduce.cuh).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "kernels/params.h"
#include "runtime/error.h"
#include "runtime/tensor.h"

namespace engine {

// One pass: a contiguous (outer, reduce, inner) array reduced over its middle dim into (outer, inner).
struct ReduceBlock {
    int64_t outer = 1, reduce = 1, inner = 1;
};

// The passes that reduce `dims` (sorted) of a contiguous tensor of `shape`, innermost run of reduced dims
// first. Size-1 dims are ignored and adjacent dims of the same kind merge, so (N,C,H,W) over {0,2,3} is two
// passes: (N*C, H*W, 1) then (1, N, C). No passes means nothing of size > 1 is reduced.
inline std::vector<ReduceBlock> reduce_blocks(const Shape& shape, const std::vector<int64_t>& dims) {
    std::vector<std::pair<int64_t, bool>> runs;  // (size, reduced)
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        const bool reduced = std::binary_search(dims.begin(), dims.end(), static_cast<int64_t>(d));
        if (!runs.empty() && runs.back().second == reduced) {
            runs.back().first *= shape[d];
        } else {
            runs.emplace_back(shape[d], reduced);
        }
    }
    std::vector<ReduceBlock> blocks;
    int64_t inner = 1;
    for (size_t i = runs.size(); i-- > 0;) {
        if (!runs[i].second) {
            inner *= runs[i].first;
            continue;
        }
        int64_t outer = 1;
        for (size_t j = 0; j < i; ++j) outer *= runs[j].first;
        blocks.push_back({outer, runs[i].first, inner});
    }
    return blocks;
}

// `dims`, or every dim of an `ndim`-dim tensor when `dims` is empty (a reduction over all dims).
inline std::vector<int64_t> reduce_dims_or_all(const std::vector<int64_t>& dims, int64_t ndim) {
    if (!dims.empty()) return dims;
    std::vector<int64_t> all(static_cast<size_t>(ndim));
    std::iota(all.begin(), all.end(), 0);
    return all;
}

// Shape of the result of reducing `dims` (sorted) of `shape`.
inline Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
    Shape out;
    for (size_t d = 0; d < shape.size(); ++d) {
        const bool reduced = std::binary_search(dims.begin(), dims.end(), static_cast<int64_t>(d));
        if (!reduced) {
            out.push_back(shape[d]);
        } else if (keepdim) {
            out.push_back(1);
        }
    }
    return out;
}

// The result of a sum / mean / max / min call before any backend work: the reduced dims (all when none are
// given), and the result's shape and dtype (integer sums give int64, as in PyTorch).
struct ReduceCall {
    std::vector<int64_t> dims;
    Shape out_shape;
    DType out_dtype;
};

inline ReduceCall reduce_call(ReduceOp op, const Tensor& input, const std::vector<int64_t>& dims, bool keepdim) {
    ReduceCall call;
    call.dims = reduce_dims_or_all(dims, input.dim());
    call.out_shape = reduced_shape(input.shape(), call.dims, keepdim);
    call.out_dtype = op == ReduceOp::Sum && is_integral(input.dtype()) ? DType::Int64 : input.dtype();
    return call;
}

// PyTorch's rules for a call with a non-empty result: mean needs floats, and an empty input (some reduced dim
// of size 0) can only be summed or averaged.
inline void check_reduce_input(ReduceOp op, const Tensor& input) {
    const char* name = reduce_op_name(op);
    ENGINE_CHECK(!(op == ReduceOp::Mean && is_integral(input.dtype())), name,
                 ": expected a float32 or float64 tensor, got ", dtype_name(input.dtype()));
    ENGINE_CHECK(input.numel() > 0 || op == ReduceOp::Sum || op == ReduceOp::Mean, name,
                 ": cannot reduce input of shape ", shape_str(input.shape()), " over an empty dim");
}

// What the sum (0) or mean (nan) of an empty input is.
inline double empty_reduce_value(ReduceOp op) {
    return op == ReduceOp::Sum ? 0.0 : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace engine
