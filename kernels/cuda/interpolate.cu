// Resampling CUDA kernels for (N,C,H,W): nearest and bilinear interpolation and their backward passes, with the
// CPU backend's coordinate rules (kernels/interp_coords.h: PyTorch's float32 nearest mapping, linear taps in
// the tensor's precision) evaluated per output element on the device. Nearest backward gathers (each input
// sums the run of outputs that copied it, found by binary search); bilinear backward scatters with atomicAdd.
#include "runtime/cuda_api.h"

#include <algorithm>
#include <cmath>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/dim_view.h"
#include "kernels/interp_coords.h"

namespace engine::cuda {
namespace {

// The outputs [first, end) that read input index i: nearest_source is non-decreasing in o, so two binary
// searches find them.
__device__ inline int64_t first_output_at_or_after(int64_t i, const AxisMap& m) {
    int64_t lo = 0, hi = m.out;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (nearest_source(mid, m) < i) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

template <class T>
__global__ void nearest_forward_kernel(const T* x, T* y, PlaneGeometry g, AxisMap rows, AxisMap cols) {
    const int64_t out_plane = g.out_h * g.out_w, total = g.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / g.out_w, ow = i % g.out_w;
        y[i] = x[(plane * g.in_h + nearest_source(oh, rows)) * g.in_w + nearest_source(ow, cols)];
    }
}

// Each input element sums the outputs that copied it, rows then columns ascending (the CPU's order).
template <class T>
__global__ void nearest_backward_kernel(const T* gy, T* gx, PlaneGeometry g, AxisMap rows, AxisMap cols) {
    const int64_t in_plane = g.in_h * g.in_w, total = g.planes * in_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / in_plane, h = (i % in_plane) / g.in_w, w = i % g.in_w;
        const int64_t oh0 = first_output_at_or_after(h, rows), oh1 = first_output_at_or_after(h + 1, rows);
        const int64_t ow0 = first_output_at_or_after(w, cols), ow1 = first_output_at_or_after(w + 1, cols);
        const T* grad_out = gy + plane * g.out_h * g.out_w;
        T sum = T(0);
        for (int64_t oh = oh0; oh < oh1; ++oh)
            for (int64_t ow = ow0; ow < ow1; ++ow) sum += grad_out[oh * g.out_w + ow];
        gx[i] = sum;
    }
}

template <class T>
__global__ void bilinear_forward_kernel(const T* x, T* y, PlaneGeometry g, AxisMap rows, AxisMap cols) {
    const int64_t out_plane = g.out_h * g.out_w, total = g.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / g.out_w, ow = i % g.out_w;
        const LinearTap<T> r = linear_tap<T>(oh, rows), c = linear_tap<T>(ow, cols);
        const T* top = x + (plane * g.in_h + r.i0) * g.in_w;
        const T* bottom = x + (plane * g.in_h + r.i1) * g.in_w;
        const T t0 = top[c.i0] * c.w0 + top[c.i1] * c.w1;
        const T t1 = bottom[c.i0] * c.w0 + bottom[c.i1] * c.w1;
        y[i] = t0 * r.w0 + t1 * r.w1;
    }
}

template <class T>
__global__ void bilinear_backward_kernel(const T* gy, T* gx, PlaneGeometry g, AxisMap rows, AxisMap cols) {
    const int64_t out_plane = g.out_h * g.out_w, total = g.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / g.out_w, ow = i % g.out_w;
        const LinearTap<T> r = linear_tap<T>(oh, rows), c = linear_tap<T>(ow, cols);
        T* top = gx + (plane * g.in_h + r.i0) * g.in_w;
        T* bottom = gx + (plane * g.in_h + r.i1) * g.in_w;
        const T g_top = gy[i] * r.w0, g_bottom = gy[i] * r.w1;
        atomicAdd(top + c.i0, g_top * c.w0);
        atomicAdd(top + c.i1, g_top * c.w1);
        atomicAdd(bottom + c.i0, g_bottom * c.w0);
        atomicAdd(bottom + c.i1, g_bottom * c.w1);
    }
}

}  // namespace

Tensor CudaBackend::interpolate_forward(const Tensor& x_in, int64_t out_h, int64_t out_w, const InterpParams& p) {
    const Tensor x = dense(x_in);
    const PlaneGeometry g = plane_geometry(x.shape(), out_h, out_w);
    Tensor y = empty(with_plane_size(x.shape(), out_h, out_w), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    set_device(device_index_, "interpolate");
    ENGINE_DISPATCH_FLOATING(x.dtype(), "interpolate", [&] {
        using T = scalar_t;
        const AxisMap rows = axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h);
        const AxisMap cols = axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w);
        const auto kernel = p.mode == InterpMode::Nearest ? nearest_forward_kernel<T> : bilinear_forward_kernel<T>;
        launch("interpolate", x.shape(), config_1d(device_index_, y.numel()), kernel, x.data<T>(), y.data<T>(), g, rows,
               cols);
    });
    return y;
}

Tensor CudaBackend::interpolate_backward(const Tensor& grad_y_in, const Shape& x_shape, const InterpParams& p) {
    const Tensor grad_y = dense(grad_y_in);
    const size_t nd = grad_y.shape().size();
    const PlaneGeometry g = plane_geometry(x_shape, grad_y.shape()[nd - 2], grad_y.shape()[nd - 1]);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    set_device(device_index_, "interpolate_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "interpolate_backward", [&] {
        using T = scalar_t;
        const AxisMap rows = axis_map<T>(g.in_h, g.out_h, p.align_corners, p.scale_h);
        const AxisMap cols = axis_map<T>(g.in_w, g.out_w, p.align_corners, p.scale_w);
        if (p.mode == InterpMode::Nearest) {
            launch("interpolate_backward", x_shape, config_1d(device_index_, grad_x.numel()),
                   nearest_backward_kernel<T>, grad_y.data<T>(), grad_x.data<T>(), g, rows, cols);
            return;
        }
        fill_(grad_x, 0.0);
        if (grad_y.numel() == 0) return;
        launch("interpolate_backward", x_shape, config_1d(device_index_, grad_y.numel()), bilinear_backward_kernel<T>,
               grad_y.data<T>(), grad_x.data<T>(), g, rows, cols);
    });
    return grad_x;
}

}  // namespace engine::cuda
