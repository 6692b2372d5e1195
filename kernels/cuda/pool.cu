// Pooling CUDA kernels over (N,C,H,W): max pooling (values and plane-local int64 indices), average pooling and
// adaptive average pooling, with their backward passes. One thread per output element (per input element for
// the gather-style backward passes), visiting windows in the CPU backend's order so results match it.
#include "runtime/cuda_api.h"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/pool_shape.h"

namespace engine {
namespace {

using cuda_kernels::config_1d;
using cuda_kernels::global_thread;
using cuda_kernels::grid_stride;

struct PoolGeometry {
    int64_t planes, in_h, in_w, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

PoolGeometry pool_geometry(const Shape& x_shape, const Pool2dParams& p, bool dilated) {
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

Shape pooled_shape(const Shape& x_shape, int64_t out_h, int64_t out_w) {
    Shape s = x_shape;
    s[s.size() - 2] = out_h;
    s[s.size() - 1] = out_w;
    return s;
}

template <class T>
__host__ __device__ inline bool is_nan(T v) {
    if constexpr (std::is_floating_point<T>::value) {
        return v != v;
    } else {
        return false;
    }
}

// The first in-input tap of a window starting at `start` (PyTorch skips taps in the left padding).
__device__ inline int64_t first_tap(int64_t start, int64_t dilation) {
    return start < 0 ? start + ((-start + dilation - 1) / dilation) * dilation : start;
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
        const int64_t h0 = first_tap(start_h, g.dilation_h), w0 = first_tap(start_w, g.dilation_w);
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
using AccOf = std::conditional_t<std::is_floating_point<T>::value, double, int64_t>;

// Average-pooling window along one axis: the clipped range [begin, end) and the padded extent that
// count_include_pad divides by.
struct AvgRange {
    int64_t begin, end, padded;
};

__device__ inline AvgRange avg_range(int64_t o, int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
    const int64_t start = o * stride - pad;
    const int64_t stop = std::min(start + kernel, in + pad);
    return {std::max<int64_t>(start, 0), std::min(stop, in), stop - start};
}

__device__ inline int64_t avg_divisor(const AvgRange& r, bool count_include_pad) {
    return count_include_pad ? r.padded : r.end - r.begin;
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
        AccOf<T> acc = 0;
        for (int64_t h = r.begin; h < r.end; ++h)
            for (int64_t w = c.begin; w < c.end; ++w) acc += static_cast<AccOf<T>>(in[h * g.in_w + w]);
        const auto divisor =
            static_cast<AccOf<T>>(avg_divisor(r, count_include_pad) * avg_divisor(c, count_include_pad));
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

__host__ __device__ inline int64_t adaptive_begin(int64_t i, int64_t out, int64_t in) { return (i * in) / out; }
__host__ __device__ inline int64_t adaptive_stop(int64_t i, int64_t out, int64_t in) {
    return ((i + 1) * in + out - 1) / out;
}

template <class T>
__global__ void adaptive_avg_forward_kernel(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                            int64_t out_w) {
    const int64_t out_plane = out_h * out_w, total = planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / out_w, ow = i % out_w;
        const int64_t h0 = adaptive_begin(oh, out_h, in_h), h1 = adaptive_stop(oh, out_h, in_h);
        const int64_t w0 = adaptive_begin(ow, out_w, in_w), w1 = adaptive_stop(ow, out_w, in_w);
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
            const int64_t r0 = adaptive_begin(oh, out_h, in_h), r1 = adaptive_stop(oh, out_h, in_h);
            if (h < r0 || h >= r1) continue;
            for (int64_t ow = ow0; ow <= ow1; ++ow) {
                const int64_t c0 = adaptive_begin(ow, out_w, in_w), c1 = adaptive_stop(ow, out_w, in_w);
                if (w < c0 || w >= c1) continue;
                sum += grad_out[oh * out_w + ow] / static_cast<T>((r1 - r0) * (c1 - c0));
            }
        }
        gx[i] = sum;
    }
}

// Max pooling runs on floats and on the integer types PyTorch accepts (not bool), as on the CPU.
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

}  // namespace

std::pair<Tensor, Tensor> CudaBackend::max_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/true);
    const Shape out_shape = pooled_shape(x.shape(), g.out_h, g.out_w);
    Tensor y = empty(out_shape, x.dtype(), x.device());
    Tensor indices = empty(out_shape, DType::Int64, x.device());
    if (y.numel() == 0) return {y, indices};
    cuda_kernels::set_device(device_index_, "max_pool2d");
    dispatch_max_pool(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                              : std::numeric_limits<T>::lowest();
        cuda::launch("max_pool2d", x.shape(), config_1d(device_index_, y.numel()), max_pool_forward_kernel<T>,
                     x.data<T>(), y.data<T>(), indices.data<int64_t>(), g, lowest);
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
    cuda_kernels::set_device(device_index_, "max_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "max_pool2d_backward", [&] {
        cuda::launch("max_pool2d_backward", grad_y.shape(), config_1d(device_index_, grad_y.numel()),
                     max_pool_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), indices.data<int64_t>(),
                     grad_x.data<scalar_t>(), planes, in_plane, out_plane);
    });
    return grad_x;
}

Tensor CudaBackend::avg_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/false);
    Tensor y = empty(pooled_shape(x.shape(), g.out_h, g.out_w), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    cuda_kernels::set_device(device_index_, "avg_pool2d");
    const auto run = [&](auto tag) {
        using T = decltype(tag);
        cuda::launch("avg_pool2d", x.shape(), config_1d(device_index_, y.numel()), avg_pool_forward_kernel<T>,
                     x.data<T>(), y.data<T>(), g, p.count_include_pad);
    };
    switch (x.dtype()) {
        case DType::Float32: run(float{}); break;
        case DType::Float64: run(double{}); break;
        case DType::Int64: run(int64_t{}); break;
        default: throw Error(detail::concat("avg_pool2d: not implemented for ", dtype_name(x.dtype())));
    }
    return y;
}

Tensor CudaBackend::avg_pool2d_backward(const Tensor& grad_y_in, const Shape& x_shape, const Pool2dParams& p) {
    const Tensor grad_y = dense(grad_y_in);
    const PoolGeometry g = pool_geometry(x_shape, p, /*dilated=*/false);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    cuda_kernels::set_device(device_index_, "avg_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "avg_pool2d_backward", [&] {
        cuda::launch("avg_pool2d_backward", x_shape, config_1d(device_index_, grad_x.numel()),
                     avg_pool_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), g,
                     p.count_include_pad);
    });
    return grad_x;
}

Tensor CudaBackend::adaptive_avg_pool2d_forward(const Tensor& x_in, int64_t out_h, int64_t out_w) {
    const Tensor x = dense(x_in);
    const size_t nd = x.shape().size();
    const int64_t in_h = x.shape()[nd - 2], in_w = x.shape()[nd - 1];
    Tensor y = empty(pooled_shape(x.shape(), out_h, out_w), x.dtype(), x.device());
    if (y.numel() == 0) return y;
    const int64_t planes = y.numel() / (out_h * out_w);
    cuda_kernels::set_device(device_index_, "adaptive_avg_pool2d");
    ENGINE_DISPATCH_FLOATING(x.dtype(), "adaptive_avg_pool2d", [&] {
        cuda::launch("adaptive_avg_pool2d", x.shape(), config_1d(device_index_, y.numel()),
                     adaptive_avg_forward_kernel<scalar_t>, x.data<scalar_t>(), y.data<scalar_t>(), planes, in_h, in_w,
                     out_h, out_w);
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
    cuda_kernels::set_device(device_index_, "adaptive_avg_pool2d_backward");
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "adaptive_avg_pool2d_backward", [&] {
        cuda::launch("adaptive_avg_pool2d_backward", x_shape, config_1d(device_index_, grad_x.numel()),
                     adaptive_avg_backward_kernel<scalar_t>, grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), planes,
                     in_h, in_w, out_h, out_w);
    });
    return grad_x;
}

}  // namespace engine
