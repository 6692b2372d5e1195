// PyTorch's coordinate rules of 2-D interpolation, shared by both backends: the (planes, H, W) geometry, the
// float32 nearest mapping and the linear taps in the tensor's precision. The per-output helpers are
// ENGINE_HOST_DEVICE, so the CPU tables and the CUDA kernels evaluate the same formulas.
#pragma once

#include <math.h>

#include <algorithm>
#include <cstdint>

#include "runtime/host_device.h"
#include "runtime/shape.h"

namespace engine {

struct PlaneGeometry {
    int64_t planes, in_h, in_w, out_h, out_w;
};

inline PlaneGeometry plane_geometry(const Shape& x_shape, int64_t out_h, int64_t out_w) {
    const size_t nd = x_shape.size();
    PlaneGeometry g{1, x_shape[nd - 2], x_shape[nd - 1], out_h, out_w};
    for (size_t d = 0; d + 2 < nd; ++d) g.planes *= x_shape[d];
    return g;
}

// One axis's mapping from output to input coordinates: 1/scale_factor when the user gave one, else in/out (or
// (in-1)/(out-1) with align_corners). Nearest uses a float32 scale; linear one in the tensor's precision T,
// kept here as a double that holds T's value exactly.
struct AxisMap {
    int64_t in, out;
    float nearest_scale;
    double linear_scale;
    bool align_corners;
};

template <class T>
AxisMap axis_map(int64_t in, int64_t out, bool align_corners, double user_scale) {
    AxisMap m{in, out, 0.0f, 0.0, align_corners};
    m.nearest_scale =
        user_scale > 0 ? static_cast<float>(1.0 / user_scale) : static_cast<float>(in) / static_cast<float>(out);
    T scale;
    if (align_corners) {
        scale = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
    } else {
        scale = user_scale > 0 ? static_cast<T>(1.0 / user_scale) : static_cast<T>(in) / static_cast<T>(out);
    }
    m.linear_scale = static_cast<double>(scale);
    return m;
}

// PyTorch's nearest_idx: exact for equal or doubled sizes, else floor(o * scale) in float32, clamped to the
// last input index.
ENGINE_HOST_DEVICE inline int64_t nearest_source(int64_t o, const AxisMap& m) {
    if (m.out == m.in) return o;
    if (m.out == 2 * m.in) return o >> 1;
    return std::min(static_cast<int64_t>(::floorf(static_cast<float>(o) * m.nearest_scale)), m.in - 1);
}

// Two source taps and their weights for one output coordinate.
template <class T>
struct LinearTap {
    int64_t i0, i1;
    T w0, w1;
};

ENGINE_HOST_DEVICE inline float interp_floor(float v) { return ::floorf(v); }
ENGINE_HOST_DEVICE inline double interp_floor(double v) { return ::floor(v); }

// PyTorch's area_pixel_compute_source_index and guard_index_and_lambda in the tensor's precision T.
template <class T>
ENGINE_HOST_DEVICE inline LinearTap<T> linear_tap(int64_t o, const AxisMap& m) {
    if (m.out == m.in) return {o, o, T(1), T(0)};
    const T scale = static_cast<T>(m.linear_scale);
    T src;
    if (m.align_corners) {
        src = scale * static_cast<T>(o);
    } else {
        src = scale * (static_cast<T>(o) + T(0.5)) - T(0.5);
        if (src < T(0)) src = T(0);
    }
    const int64_t i0 = std::min(static_cast<int64_t>(interp_floor(src)), m.in - 1);
    T lambda = src - static_cast<T>(i0);
    lambda = lambda < T(0) ? T(0) : (lambda > T(1) ? T(1) : lambda);
    return {i0, i0 < m.in - 1 ? i0 + 1 : i0, T(1) - lambda, lambda};
}

}  // namespace engine
