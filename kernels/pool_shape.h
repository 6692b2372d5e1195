// Output geometry of 2-D pooling (PyTorch's pooling_output_shape), shared by every backend's pooling kernels and
// by the ops that validate pooling parameters before calling a backend.
#pragma once

#include <cstdint>

#include "kernels/params.h"

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

// Adaptive pooling window [start, end) of output cell i: floor(i*in/out) to ceil((i+1)*in/out).
inline int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

}  // namespace engine
