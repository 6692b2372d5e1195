// Pooling CUDA kernels over (N,C,H,W): max pooling (values and plane-local int64 indices), average pooling and
// adaptive average pooling, with their backward passes. One thread per output element (per input element for
// the gather-style backward passes), visiting windows in the CPU backend's order so results match it.
#include "runtime/cuda_api.h"

#include <algorithm>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/dim_view.h"
#include "kernels/pool_shape.h"

namespace engine::cuda {
namespace {

template <class T>
__host__ __device__ inline bool is_nan(T v) {
    if constexpr (std::is_floating_point<T>::value) {
        return v != v;
    } else {
        return false;
    }
}

// Taps in the window's row-major order, as the CPU backend visits them: ties keep the earlier tap, NaN wins.
template <class T>
__global__ void max_pool_forward_kernel(const T* x, T* y, int64_t* indices, PoolGeometry g, T lowest) {
    const int64_t out_plane = g.out_h * g.out_w, total = g.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / g.out_w, ow = i % g.out_w;
        const int64_t start_h = oh * g.stride_h - g.pad_h, start_w = ow * g.stride_w - g.pad_w;
        const int64_t end_h = std::min(start_h + (g.kernel_h - 1) * g.dilation_h + 1, g.in_h);
        const int64_t end_w = std::min(start_w + (g.kernel_w - 1) * g.dilation_w + 1, g.in_w);
        const int64_t h0 = pool_first_tap(start_h, g.dilation_h), w0 = pool_first_tap(start_w, g.dilation_w);
        const T* in = x + plane * g.in_h * g.in_w;
        // An empty window (only possible with large dilation) keeps `lowest` and its origin index.
        T best = lowest;
        int64_t arg = h0 * g.in_w + w0;
        for (int64_t h = h0; h < end_h; h += g.dilation_h) {
            for (int64_t w = w0; w < end_w; w += g.dilation_w) {
                const T v = in[h * g.in_w + w];
                if (v > best || is_nan(v)) {
                    best = v;
                    arg = h * g.in_w + w;
                }
            }
        }
        y[i] = best;
        indices[i] = arg;
    }
}

// Scatter of each output gradient to the input its index names; overlapping windows add up atomically.
template <class T>
__global__ void max_pool_backward_kernel(const T* gy, const int64_t* indices, T* gx, int64_t planes, int64_t in_plane,
                                         int64_t out_plane) {
    const int64_t total = planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t at = indices[i];
        // An index outside the plane comes from an all-padding window, whose output is constant.
        if (at >= 0 && at < in_plane) atomicAdd(gx + (i / out_plane) * in_plane + at, gy[i]);
    }
}

template <class T>
__global__ void avg_pool_forward_kernel(const T* x, T* y, PoolGeometry g, bool count_include_pad) {
    const int64_t out_plane = g.out_h * g.out_w, total = g.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / g.out_w, ow = i % g.out_w;
        const AvgRange r = avg_range(oh, g.in_h, g.kernel_h, g.stride_h, g.pad_h);
        const AvgRange c = avg_range(ow, g.in_w, g.kernel_w, g.stride_w, g.pad_w);
        if (r.begin >= r.end || c.begin >= c.end) {
            y[i] = T(0);
            continue;
        }
        const T* in = x + plane * g.in_h * g.in_w;
        AvgPoolAcc<T> acc = 0;
        for (int64_t h = r.begin; h < r.end; ++h)
            for (int64_t w = c.begin; w < c.end; ++w) acc += static_cast<AvgPoolAcc<T>>(in[h * g.in_w + w]);
        const auto divisor =
            static_cast<AvgPoolAcc<T>>(avg_divisor(r, count_include_pad) * avg_divisor(c, count_include_pad));
        y[i] = static_cast<T>(acc / divisor);
    }
}

// Output cells [first, last] along one axis whose window covers input coordinate i.
__device__ inline void covering_outputs(int64_t i, int64_t out, int64_t kernel, int64_t stride, int64_t pad,
                                        int64_t& first, int64_t& last) {
    const int64_t lowest_start = i + pad - kernel + 1;  // a window starting here still reaches i
    first = lowest_start <= 0 ? 0 : (lowest_start + stride - 1) / stride;
    last = std::min(out - 1, (i + pad) / stride);
}

// Gather form of the backward pass: each input element sums the shares of the windows covering it, in the CPU
// backend's order (output rows ascending, columns descending) so that float sums round identically.
template <class T>
__global__ void avg_pool_backward_kernel(const T* gy, T* gx, PoolGeometry g, bool count_include_pad) {
    const int64_t in_plane = g.in_h * g.in_w, total = g.planes * in_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / in_plane, h = (i % in_plane) / g.in_w, w = i % g.in_w;
        int64_t oh0, oh1, ow0, ow1;
        covering_outputs(h, g.out_h, g.kernel_h, g.stride_h, g.pad_h, oh0, oh1);
        covering_outputs(w, g.out_w, g.kernel_w, g.stride_w, g.pad_w, ow0, ow1);
        const T* grad_out = gy + plane * g.out_h * g.out_w;
        T sum = T(0);
        for (int64_t oh = oh0; oh <= oh1; ++oh) {
            const int64_t row_divisor =
                avg_divisor(avg_range(oh, g.in_h, g.kernel_h, g.stride_h, g.pad_h), count_include_pad);
            for (int64_t ow = ow1; ow >= ow0; --ow) {
                const int64_t col_divisor =
                    avg_divisor(avg_range(ow, g.in_w, g.kernel_w, g.stride_w, g.pad_w), count_include_pad);
                sum += grad_out[oh * g.out_w + ow] / static_cast<T>(row_divisor * col_divisor);
            }
        }
        gx[i] = sum;
    }
}

template <class T>
__global__ void adaptive_avg_forward_kernel(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                            int64_t out_w) {
    const int64_t out_plane = out_h * out_w, total = planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / out_w, ow = i % out_w;
        const int64_t h0 = adaptive_start(oh, out_h, in_h), h1 = adaptive_end(oh, out_h, in_h);
        const int64_t w0 = adaptive_start(ow, out_w, in_w), w1 = adaptive_end(ow, out_w, in_w);
        const T* in = x + plane * in_h * in_w;
        double sum = 0;
        for (int64_t h = h0; h < h1; ++h)
            for (int64_t w = w0; w < w1; ++w) sum += static_cast<double>(in[h * in_w + w]);
        y[i] = static_cast<T>(sum / static_cast<double>((h1 - h0) * (w1 - w0)));
    }
}

// Output cells along one axis whose adaptive window covers input coordinate i: from floor(i*out/in) to
// ceil((i+1)*out/in) - 1, each confirmed against the window bounds.
__device__ inline void adaptive_covering(int64_t i, int64_t out, int64_t in, int64_t& first, int64_t& last) {
    first = (i * out) / in;
    last = std::min(out - 1, ((i + 1) * out + in - 1) / in - 1);
}

template <class T>
__global__ void adaptive_avg_backward_kernel(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w,
                                             int64_t out_h, int64_t out_w) {
    const int64_t in_plane = in_h * in_w, total = planes * in_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / in_plane, h = (i % in_plane) / in_w, w = i % in_w;
        int64_t oh0, oh1, ow0, ow1;
        adaptive_covering(h, out_h, in_h, oh0, oh1);
        adaptive_covering(w, out_w, in_w, ow0, ow1);
        const T* grad_out = gy + plane * out_h * out_w;
        T sum = T(0);
        for (int64_t oh = oh0; oh <= oh1; ++oh) {
            const int64_t r0 = adaptive_start(oh, out_h, in_h), r1 = adaptive_end(oh, out_h, in_h);
            if (h < r0 || h >= r1) continue;
            for (int64_t ow = ow0; ow <= ow1; ++ow) {
                const int64_t c0 = adaptive_start(ow, out_w, in_w), c1 = adaptive_end(ow, out_w, in_w);
                if (w < c0 || w >= c1) continue;
                sum += grad_out[oh * out_w + ow] / static_cast<T>((r1 - r0) * (c1 - c0));
            }
        }
        gx[i] = sum;
    }
}

}  // namespace

std::pair<Tensor, Tensor> CudaBackend::max_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/true);
    const Shape out_shape = with_plane_size(x.shape(), g.out_h, g.out_w);
    Tensor y = empty(out_shape, x.dtype(), x.device());
    Tensor indices = empty(out_shape, DType::Int64, x.device());
    if (y.numel() == 0) return {y, indices};
    set_device(device_index_, "max_pool2d");
    dispatch_max_pool(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        launch("max_pool2d", x.shape(), config_1d(device_index_, y.numel()), max_pool_forward_kernel<T>, x.data<T>(),
               y.data<T>(), indices.data<int64_t>(), g, max_pool_lowest<T>());
    });
    return {y, indices};
}

Tensor CudaBackend::max_pool2d_backward(const Tensor& grad_y_in, const Tensor& indices_in, const Shape& x_shape) {
    const Tensor grad_y = dense(grad_y_in), indices = dense(indices_in);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    fill_(grad_x, 0.0);
    const size_t nd = x_shape.size();
    const int64_t in_plane = x_shape[nd - 2] * x_shape[nd - 1];
    const int64_t out_plane = grad_y.shape()[nd - 2] * grad_y.shape()[nd - 1];
    const int64_t planes = shape_numel(x_shape) / in_plane;
    if (out_plane == 0) return grad_x;
    set_device(device_index_, "max_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "max_pool2d_backward", [&] {
        launch("max_pool2d_backward", grad_y.shape(), config_1d(device_index_, grad_y.numel()),
               max_pool_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), indices.data<int64_t>(),
               grad_x.data<scalar_t>(), planes, in_plane, out_plane);
    });
    return grad_x;
}

Tensor CudaBackend::avg_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/false);
    Tensor y = empty(with_plane_size(x.shape(), g.out_h, g.out_w), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    set_device(device_index_, "avg_pool2d");
    dispatch_avg_pool(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        launch("avg_pool2d", x.shape(), config_1d(device_index_, y.numel()), avg_pool_forward_kernel<T>, x.data<T>(),
               y.data<T>(), g, p.count_include_pad);
    });
    return y;
}

Tensor CudaBackend::avg_pool2d_backward(const Tensor& grad_y_in, const Shape& x_shape, const Pool2dParams& p) {
    const Tensor grad_y = dense(grad_y_in);
    const PoolGeometry g = pool_geometry(x_shape, p, /*dilated=*/false);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    set_device(device_index_, "avg_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "avg_pool2d_backward", [&] {
        launch("avg_pool2d_backward", x_shape, config_1d(device_index_, grad_x.numel()),
               avg_pool_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), g,
               p.count_include_pad);
    });
    return grad_x;
}

Tensor CudaBackend::adaptive_avg_pool2d_forward(const Tensor& x_in, int64_t out_h, int64_t out_w) {
    const Tensor x = dense(x_in);
    const size_t nd = x.shape().size();
    const int64_t in_h = x.shape()[nd - 2], in_w = x.shape()[nd - 1];
    Tensor y = empty(with_plane_size(x.shape(), out_h, out_w), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    const int64_t planes = y.numel() / (out_h * out_w);
    set_device(device_index_, "adaptive_avg_pool2d");
    ENGINE_DISPATCH_FLOATING(x.dtype(), "adaptive_avg_pool2d", [&] {
        launch("adaptive_avg_pool2d", x.shape(), config_1d(device_index_, y.numel()),
               adaptive_avg_forward_kernel<scalar_t>, x.data<scalar_t>(), y.data<scalar_t>(), planes, in_h, in_w, out_h,
               out_w);
    });
    return y;
}

Tensor CudaBackend::adaptive_avg_pool2d_backward(const Tensor& grad_y_in, const Shape& x_shape) {
    const Tensor grad_y = dense(grad_y_in);
    const size_t nd = x_shape.size();
    const int64_t in_h = x_shape[nd - 2], in_w = x_shape[nd - 1];
    const int64_t out_h = grad_y.shape()[nd - 2], out_w = grad_y.shape()[nd - 1];
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    if (out_h * out_w == 0) {  // no output cell covers anything
        fill_(grad_x, 0.0);
        return grad_x;
    }
    const int64_t planes = grad_x.numel() / (in_h * in_w);
    set_device(device_index_, "adaptive_avg_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "adaptive_avg_pool2d_backward", [&] {
        launch("adaptive_avg_pool2d_backward", x_shape, config_1d(device_index_, grad_x.numel()),
               adaptive_avg_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), planes, in_h,
               in_w, out_h, out_w);
    });
    return grad_x;
}

}  // namespace engine::cuda
