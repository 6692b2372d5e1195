// The iteration space of N strided operands over one shape, collapsed: size-1 dims dropped and adjacent dims
// merged where every operand steps contiguously across them. The CPU loops (kernels/cpu/loops.h) walk it row by
// row; the CUDA indexers (kernels/cuda/tensor_info.cuh) turn it into per-thread offsets.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "runtime/shape.h"

namespace engine {

template <int N>
struct CollapsedDims {
    std::vector<int64_t> sizes;                   // outermost first
    std::vector<std::array<int64_t, N>> strides;  // per dim and operand, in elements

    int ndim() const { return static_cast<int>(sizes.size()); }
    int64_t numel() const {
        int64_t n = 1;
        for (int64_t s : sizes) n *= s;
        return n;
    }
    // One dim (or none) with unit stride for every operand: plain linear indexing works.
    bool is_contiguous() const {
        if (sizes.empty()) return true;
        if (sizes.size() > 1) return false;
        for (int k = 0; k < N; ++k)
            if (strides[0][k] != 1) return false;
        return true;
    }
};

// strides[k] are operand k's strides over `shape` (0 where it is broadcast).
template <int N>
CollapsedDims<N> collapse_dims(const Shape& shape, const std::array<Strides, N>& strides) {
    CollapsedDims<N> g;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == 1) continue;
        std::array<int64_t, N> s;
        for (int k = 0; k < N; ++k) s[k] = strides[k][d];
        if (!g.sizes.empty()) {
            bool mergeable = true;
            for (int k = 0; k < N; ++k) mergeable &= g.strides.back()[k] == s[k] * shape[d];
            if (mergeable) {
                g.sizes.back() *= shape[d];
                g.strides.back() = s;
                continue;
            }
        }
        g.sizes.push_back(shape[d]);
        g.strides.push_back(s);
    }
    return g;
}

}  // namespace engine
