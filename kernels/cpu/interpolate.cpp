// Resampling CPU kernels for (N,C,H,W): nearest and bilinear interpolation with PyTorch's coordinate
// mappings (including its float32 arithmetic and size shortcuts), and their scatter-add backward passes.
// Source indices and weights depend only on the output row/column, so they are computed once per call.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/dim_view.h"
#include "kernels/interp_coords.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

// Source indices and linear taps of every output coordinate of one axis (kernels/interp_coords.h).
std::vector<int64_t> nearest_indices(const AxisMap& m) {
    std::vector<int64_t> idx(m.out);
    for (int64_t o = 0; o < m.out; ++o) idx[o] = nearest_source(o, m);
    return idx;
}

template <class T>
std::vector<LinearTap<T>> linear_taps(const AxisMap& m) {
    std::vector<LinearTap<T>> taps(m.out);
    for (int64_t o = 0; o < m.out; ++o) taps[o] = linear_tap<T>(o, m);
    return taps;
}

int64_t plane_grain(const PlaneGeometry& g) {
    return grain_for(g.out_h * g.out_w);
}

// One output row of nearest resampling; doubling (the common x2 upsampling) is a contiguous, vectorisable
// loop instead of a gather.
template <class T>
void nearest_row(const T* row, T* out, const int64_t* cols, int64_t in_w, int64_t out_w) {
    if (out_w == 2 * in_w) {
        for (int64_t w = 0; w < in_w; ++w) {
            out[2 * w] = row[w];
            out[2 * w + 1] = row[w];
        }
        return;
    }
    for (int64_t ow = 0; ow < out_w; ++ow) out[ow] = row[cols[ow]];
}

template <class T>
void nearest_forward(const T* x, T* y, const PlaneGeometry& g, const InterpParams& p) {
    const auto rows = nearest_indices(axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h));
    const auto cols = nearest_indices(axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w));
    parallel_for(0, g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* in = x + plane * g.in_h * g.in_w;
            T* out = y + plane * g.out_h * g.out_w;
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                T* out_row = out + oh * g.out_w;
                if (oh > 0 && rows[oh] == rows[oh - 1]) {  // upsampling repeats source rows
                    std::copy(out_row - g.out_w, out_row, out_row);
                } else {
                    nearest_row(in + rows[oh] * g.in_w, out_row, cols.data(), g.in_w, g.out_w);
                }
            }
        }
    });
}

template <class T>
void nearest_backward(const T* gy, T* gx, const PlaneGeometry& g, const InterpParams& p) {
    const auto rows = nearest_indices(axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h));
    const auto cols = nearest_indices(axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w));
    parallel_for(0, g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* grad_out = gy + plane * g.out_h * g.out_w;
            T* grad_in = gx + plane * g.in_h * g.in_w;
            std::fill(grad_in, grad_in + g.in_h * g.in_w, T(0));
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                T* row = grad_in + rows[oh] * g.in_w;
                const T* grad_row = grad_out + oh * g.out_w;
                for (int64_t ow = 0; ow < g.out_w; ++ow) row[cols[ow]] += grad_row[ow];
            }
        }
    });
}

template <class T>
void bilinear_forward(const T* x, T* y, const PlaneGeometry& g, const InterpParams& p) {
    const auto rows = linear_taps<T>(axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h));
    const auto cols = linear_taps<T>(axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w));
    parallel_for(0, g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* in = x + plane * g.in_h * g.in_w;
            T* out = y + plane * g.out_h * g.out_w;
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const LinearTap<T> r = rows[oh];
                const T* top = in + r.i0 * g.in_w;
                const T* bottom = in + r.i1 * g.in_w;
                T* out_row = out + oh * g.out_w;
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                    const LinearTap<T> c = cols[ow];
                    const T t0 = top[c.i0] * c.w0 + top[c.i1] * c.w1;
                    const T t1 = bottom[c.i0] * c.w0 + bottom[c.i1] * c.w1;
                    out_row[ow] = t0 * r.w0 + t1 * r.w1;
                }
            }
        }
    });
}

template <class T>
void bilinear_backward(const T* gy, T* gx, const PlaneGeometry& g, const InterpParams& p) {
    const auto rows = linear_taps<T>(axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h));
    const auto cols = linear_taps<T>(axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w));
    parallel_for(0, g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* grad_out = gy + plane * g.out_h * g.out_w;
            T* grad_in = gx + plane * g.in_h * g.in_w;
            std::fill(grad_in, grad_in + g.in_h * g.in_w, T(0));
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const LinearTap<T> r = rows[oh];
                T* top = grad_in + r.i0 * g.in_w;
                T* bottom = grad_in + r.i1 * g.in_w;
                const T* grad_row = grad_out + oh * g.out_w;
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                    const LinearTap<T> c = cols[ow];
                    const T g_top = grad_row[ow] * r.w0, g_bottom = grad_row[ow] * r.w1;
                    top[c.i0] += g_top * c.w0;
                    top[c.i1] += g_top * c.w1;
                    bottom[c.i0] += g_bottom * c.w0;
                    bottom[c.i1] += g_bottom * c.w1;
                }
            }
        }
    });
}

}  // namespace

Tensor CpuBackend::interpolate_forward(const Tensor& x_in, int64_t out_h, int64_t out_w, const InterpParams& p) {
    const Tensor x = dense(x_in);
    const PlaneGeometry g = plane_geometry(x.shape(), out_h, out_w);
    Tensor y = empty(with_plane_size(x.shape(), out_h, out_w), x.dtype(), x.device());
    ENGINE_DISPATCH_FLOATING(x.dtype(), "interpolate", [&] {
        if (p.mode == InterpMode::Nearest) {
            nearest_forward(x.data<scalar_t>(), y.data<scalar_t>(), g, p);
        } else {
            bilinear_forward(x.data<scalar_t>(), y.data<scalar_t>(), g, p);
        }
    });
    return y;
}

Tensor CpuBackend::interpolate_backward(const Tensor& grad_y_in, const Shape& x_shape, const InterpParams& p) {
    const Tensor grad_y = dense(grad_y_in);
    const size_t nd = grad_y.shape().size();
    const PlaneGeometry g = plane_geometry(x_shape, grad_y.shape()[nd - 2], grad_y.shape()[nd - 1]);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());  // each task zeroes its planes
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "interpolate_backward", [&] {
        if (p.mode == InterpMode::Nearest) {
            nearest_backward(grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), g, p);
        } else {
            bilinear_backward(grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), g, p);
        }
    });
    return grad_x;
}

}  // namespace engine::cpu
