// Device-side strided indexing shared by the CUDA kernels: the iteration space of N operands (views with any
// strides, broadcasts with stride 0) over one shape, collapsed to at most kMaxDims dims and passed to kernels
// by value, with 32-bit magic-number division for the linear index -> offsets step.
#pragma once

#include "runtime/cuda_api.h"

#include <array>
#include <cstdint>
#include <vector>

#include "kernels/strided_dims.h"
#include "runtime/error.h"
#include "runtime/shape.h"
#include "runtime/tensor.h"

namespace engine::cuda {

constexpr int kMaxDims = 8;

__host__ __device__ inline uint32_t mul_hi(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __umulhi(a, b);
#else
    return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
#endif
}

// Division by a fixed divisor as a multiply-high and a shift (Granlund & Montgomery); exact for dividends below
// 2^31, which is where StridedIndexer uses it.
struct IntDivider {
    uint32_t divisor;
    uint32_t magic;
    uint32_t shift;

    static IntDivider make(uint32_t d) {
        IntDivider r;
        r.divisor = d;
        r.shift = 0;
        while (r.shift < 32 && (uint64_t{1} << r.shift) < d) ++r.shift;
        const uint64_t one = 1;
        r.magic = static_cast<uint32_t>(((one << 32) * ((one << r.shift) - d)) / d + 1);
        return r;
    }
    __host__ __device__ uint32_t div(uint32_t n) const { return (mul_hi(n, magic) + n) >> shift; }
};

// Operand k's element offset of linear position i (row-major over the collapsed shape) is offsets(i)[k].
// Dims are stored innermost first; the outermost dim needs no division.
template <int N>
struct StridedIndexer {
    int ndim;
    bool index32;  // every linear index is below 2^31: use the IntDividers
    int64_t sizes[kMaxDims];
    IntDivider dividers[kMaxDims];
    int64_t strides[kMaxDims][N];

    __host__ __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
        for (int k = 0; k < N; ++k) out[k] = 0;
        if (index32) {
            uint32_t rest = static_cast<uint32_t>(linear);
            for (int d = 0; d < ndim - 1; ++d) {
                const uint32_t q = dividers[d].div(rest);
                const int64_t r = static_cast<int64_t>(rest - q * dividers[d].divisor);
                rest = q;
                for (int k = 0; k < N; ++k) out[k] += r * strides[d][k];
            }
            if (ndim > 0)
                for (int k = 0; k < N; ++k) out[k] += static_cast<int64_t>(rest) * strides[ndim - 1][k];
        } else {
            int64_t rest = linear;
            for (int d = 0; d < ndim - 1; ++d) {
                const int64_t q = rest / sizes[d];
                const int64_t r = rest - q * sizes[d];
                rest = q;
                for (int k = 0; k < N; ++k) out[k] += r * strides[d][k];
            }
            if (ndim > 0)
                for (int k = 0; k < N; ++k) out[k] += rest * strides[ndim - 1][k];
        }
    }

    __host__ __device__ int64_t offset(int64_t linear, int operand = 0) const {
        int64_t out[N];
        offsets(linear, out);
        return out[operand];
    }
};

// A single strided tensor: offset(i) is the element offset of its i-th element in row-major order.
using TensorInfo = StridedIndexer<1>;

// The collapsed iteration space on the host (kernels/strided_dims.h), outermost dim first.
template <int N>
using Geometry = CollapsedDims<N>;

template <int N>
Geometry<N> collapse(const Shape& shape, const std::array<Strides, N>& strides) {
    return collapse_dims<N>(shape, strides);
}

// Operand k is tensors[k] read (or written) over `shape`, which it must broadcast to.
template <int N>
Geometry<N> collapse(const Shape& shape, const std::array<const Tensor*, N>& tensors) {
    std::array<Strides, N> strides;
    for (int k = 0; k < N; ++k) strides[k] = broadcast_strides(tensors[k]->shape(), tensors[k]->strides(), shape);
    return collapse<N>(shape, strides);
}

template <int N>
StridedIndexer<N> make_indexer(const Geometry<N>& g) {
    ENGINE_CHECK(g.ndim() <= kMaxDims, "cuda: ", g.ndim(), " strided dims after merging exceed the kernels' limit of ",
                 kMaxDims);
    StridedIndexer<N> idx{};
    idx.ndim = g.ndim();
    idx.index32 = g.numel() < (int64_t{1} << 31);
    for (int d = 0; d < idx.ndim; ++d) {
        const int src = idx.ndim - 1 - d;  // innermost first
        idx.sizes[d] = g.sizes[src];
        idx.dividers[d] = IntDivider::make(idx.index32 ? static_cast<uint32_t>(g.sizes[src]) : 1u);
        for (int k = 0; k < N; ++k) idx.strides[d][k] = g.strides[src][k];
    }
    return idx;
}

// The sub-geometry of index j of the outermost dim (and the element offsets to add to each operand's base):
// how a launcher splits a geometry with more than kMaxDims dims into launchable pieces.
template <int N>
Geometry<N> drop_outer(const Geometry<N>& g, int64_t j, std::array<int64_t, N>& offsets) {
    Geometry<N> sub;
    sub.sizes.assign(g.sizes.begin() + 1, g.sizes.end());
    sub.strides.assign(g.strides.begin() + 1, g.strides.end());
    for (int k = 0; k < N; ++k) offsets[k] = j * g.strides[0][k];
    return sub;
}

inline TensorInfo make_tensor_info(const Tensor& t) {
    return make_indexer<1>(collapse<1>(t.shape(), std::array<Strides, 1>{t.strides()}));
}

}  // namespace engine::cuda
