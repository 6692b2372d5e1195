// Output geometry and window rules of 2-D pooling (PyTorch's pooling_output_shape and window bounds), shared by
// every backend's pooling kernels and by the ops that validate pooling parameters before calling a backend.
// The per-window helpers are ENGINE_HOST_DEVICE so that the CUDA kernels evaluate the CPU's exact formulas.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/host_device.h"
#include "kernels/params.h"
#include "runtime/dtype.h"
#include "runtime/error.h"
#include "runtime/shape.h"

namespace engine {

// floor(a / b) for b > 0 and any a.
inline int64_t pool_floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

// (in + 2*pad - dilation*(kernel-1) - 1) / stride + 1, rounded down or up; with ceil_mode the last window
// must start inside the input or the left padding, as in PyTorch.
inline int64_t pool_output_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                                bool ceil_mode) {
    const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
    int64_t out = pool_floor_div(span, stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) --out;
    return out;
}

inline int64_t pool_stride_h(const Pool2dParams& p) { return p.stride_h == 0 ? p.kernel_h : p.stride_h; }
inline int64_t pool_stride_w(const Pool2dParams& p) { return p.stride_w == 0 ? p.kernel_w : p.stride_w; }

inline int64_t pool_out_h(int64_t in_h, const Pool2dParams& p, int64_t dilation_h) {
    return pool_output_size(in_h, p.kernel_h, p.pad_h, pool_stride_h(p), dilation_h, p.ceil_mode);
}
inline int64_t pool_out_w(int64_t in_w, const Pool2dParams& p, int64_t dilation_w) {
    return pool_output_size(in_w, p.kernel_w, p.pad_w, pool_stride_w(p), dilation_w, p.ceil_mode);
}

// A pooling call resolved for a backend: the input seen as `planes` (H,W) planes, the output size and the
// window parameters with stride 0 replaced by the kernel size. Plain data, passed to CUDA kernels by value.
struct PoolGeometry {
    int64_t planes, in_h, in_w, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

// `dilated` is false for average pooling, which has no dilation (its params keep the default 1 anyway).
inline PoolGeometry pool_geometry(const Shape& x_shape, const Pool2dParams& p, bool dilated) {
    PoolGeometry g;
    const size_t nd = x_shape.size();
    g.in_h = x_shape[nd - 2];
    g.in_w = x_shape[nd - 1];
    g.planes = 1;
    for (size_t d = 0; d + 2 < nd; ++d) g.planes *= x_shape[d];
    g.kernel_h = p.kernel_h;
    g.kernel_w = p.kernel_w;
    g.stride_h = pool_stride_h(p);
    g.stride_w = pool_stride_w(p);
    g.pad_h = p.pad_h;
    g.pad_w = p.pad_w;
    g.dilation_h = dilated ? p.dilation_h : 1;
    g.dilation_w = dilated ? p.dilation_w : 1;
    g.out_h = pool_output_size(g.in_h, g.kernel_h, g.pad_h, g.stride_h, g.dilation_h, p.ceil_mode);
    g.out_w = pool_output_size(g.in_w, g.kernel_w, g.pad_w, g.stride_w, g.dilation_w, p.ceil_mode);
    return g;
}

// The first in-input tap of a dilated max-pooling window starting at `start`: PyTorch starts at the window
// origin and skips the taps that fall in the left padding.
ENGINE_HOST_DEVICE inline int64_t pool_first_tap(int64_t start, int64_t dilation) {
    return start < 0 ? start + ((-start + dilation - 1) / dilation) * dilation : start;
}

// What a max-pooling window starts from, and what an empty one (possible only with large dilation) yields.
template <class T>
T max_pool_lowest() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::lowest();
}

// Average-pooling window of output cell o along one axis: the clipped range [begin, end) and the padded extent
// that count_include_pad divides by.
struct AvgRange {
    int64_t begin, end, padded;
};

ENGINE_HOST_DEVICE inline AvgRange avg_range(int64_t o, int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
    const int64_t start = o * stride - pad;
    const int64_t stop = std::min(start + kernel, in + pad);
    return {std::max<int64_t>(start, 0), std::min(stop, in), stop - start};
}

// Average pooling sums floats in double and integers in int64 before dividing.
template <class T>
using AvgPoolAcc = std::conditional_t<std::is_floating_point<T>::value, double, int64_t>;

// Divisor of an average-pooling window along one axis: the padded extent or the in-input extent.
ENGINE_HOST_DEVICE inline int64_t avg_divisor(const AvgRange& r, bool count_include_pad) {
    return count_include_pad ? r.padded : r.end - r.begin;
}

// Adaptive pooling window [start, end) of output cell i: floor(i*in/out) to ceil((i+1)*in/out).
ENGINE_HOST_DEVICE inline int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
ENGINE_HOST_DEVICE inline int64_t adaptive_end(int64_t i, int64_t out, int64_t in) {
    return ((i + 1) * in + out - 1) / out;
}

// The element types of the pooling kernels, as in PyTorch: max pooling on floats and the integer types (not bool),
// average pooling on floats and int64. Each calls f with a value of the element type.
template <class F>
void dispatch_max_pool(DType dtype, const F& f) {
    switch (dtype) {
        case DType::Float32: f(float{}); return;
        case DType::Float64: f(double{}); return;
        case DType::Int64: f(int64_t{}); return;
        case DType::Int32: f(int32_t{}); return;
        case DType::UInt8: f(uint8_t{}); return;
        default: throw Error(detail::concat("max_pool2d: not implemented for ", dtype_name(dtype)));
    }
}

template <class F>
void dispatch_avg_pool(DType dtype, const F& f) {
    switch (dtype) {
        case DType::Float32: f(float{}); return;
        case DType::Float64: f(double{}); return;
        case DType::Int64: f(int64_t{}); return;
        default: throw Error(detail::concat("avg_pool2d: not implemented for ", dtype_name(dtype)));
    }
}

}  // namespace engine
