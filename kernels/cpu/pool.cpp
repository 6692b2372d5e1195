// Pooling CPU kernels: max pooling (values and plane-local indices), average pooling and adaptive average
// pooling over (N,C,H,W), with their backward passes. Every (H,W) plane is one independent task.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/dim_view.h"
#include "kernels/pool_shape.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

// Valid (in-input) dilated taps of each output position along one axis: [first, end) stepping by dilation,
// PyTorch's "start at the window origin, skip taps in the left padding" rule.
struct TapRange {
    int64_t first, end;
};

std::vector<TapRange> dilated_taps(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                                   int64_t dilation) {
    std::vector<TapRange> taps(out);
    for (int64_t o = 0; o < out; ++o) {
        const int64_t start = o * stride - pad;
        taps[o] = {pool_first_tap(start, dilation), std::min(start + (kernel - 1) * dilation + 1, in)};
    }
    return taps;
}

// Output columns [lo[k], hi[k]) whose tap k (at input column ow * stride + offset[k]) lies inside the input;
// taps in the padding are skipped (they never win a max and add nothing to a sum).
struct TapColumns {
    std::vector<int64_t> lo, hi, offset;
};

TapColumns tap_columns(int64_t out_w, int64_t in_w, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    TapColumns t{std::vector<int64_t>(kernel), std::vector<int64_t>(kernel), std::vector<int64_t>(kernel)};
    for (int64_t k = 0; k < kernel; ++k) {
        const int64_t offset = k * dilation - pad;
        t.offset[k] = offset;
        t.lo[k] = std::min(out_w, std::max<int64_t>(0, -pool_floor_div(offset, stride)));
        t.hi[k] = std::max(t.lo[k], std::min(out_w, pool_floor_div(in_w - 1 - offset, stride) + 1));
    }
    return t;
}

// Calls f(std::integral_constant<int, S>) with S the column stride when it is 1 or 2, else 0 (a runtime
// stride): a compile-time stride turns the strided loads and stores of the row loops into shuffles.
template <class F>
void with_stride(int64_t stride, const F& f) {
    if (stride == 1) {
        f(std::integral_constant<int, 1>{});
    } else if (stride == 2) {
        f(std::integral_constant<int, 2>{});
    } else {
        f(std::integral_constant<int, 0>{});
    }
}

// One tap of a max-pooling output row: compares row[ow * stride + offset] with the running maximum of each
// output column in [lo, hi); ties keep the earlier tap, NaN always wins.
template <int kStride, class T>
void max_tap_column(const T* row, int64_t row_base, int64_t offset, int64_t stride, int64_t lo, int64_t hi, T* best,
                    int64_t* arg) {
    const int64_t s = kStride > 0 ? kStride : stride;
    for (int64_t ow = lo; ow < hi; ++ow) {
        const int64_t w = ow * s + offset;
        const T v = row[w];
        const bool take = (v > best[ow]) | (v != v);  // v != v: NaN (integers are never NaN)
        best[ow] = take ? v : best[ow];
        arg[ow] = take ? row_base + w : arg[ow];
    }
}

template <int kStride, class T, class Acc>
void sum_tap_column(const T* row, int64_t offset, int64_t stride, int64_t lo, int64_t hi, Acc* acc) {
    const int64_t s = kStride > 0 ? kStride : stride;
    for (int64_t ow = lo; ow < hi; ++ow) acc[ow] += static_cast<Acc>(row[ow * s + offset]);
}

template <int kStride, class T>
void spread_tap_column(T* row, int64_t offset, int64_t stride, int64_t lo, int64_t hi, const T* share) {
    const int64_t s = kStride > 0 ? kStride : stride;
    for (int64_t ow = lo; ow < hi; ++ow) row[ow * s + offset] += share[ow];
}

// The common 2x2, stride-2 window over whole input cells: the same taps in the same order (ties keep the
// earlier tap, NaN always wins) as the general loop, without its per-row setup, which dominates on small planes.
template <class T>
bool max_take(T v, T best) {
    return (v > best) | (v != v);
}

template <class T>
void max_pool_2x2_plane(const T* in, T* best_out, int64_t* arg_out, int64_t in_w, int64_t out_h, int64_t out_w) {
    for (int64_t oh = 0; oh < out_h; ++oh) {
        const T* r0 = in + 2 * oh * in_w;
        const T* r1 = r0 + in_w;
        T* best = best_out + oh * out_w;
        int64_t* arg = arg_out + oh * out_w;
        const int64_t row_base = 2 * oh * in_w;
        for (int64_t ow = 0; ow < out_w; ++ow) {
            const int64_t base = row_base + 2 * ow;
            T b = r0[2 * ow];
            int64_t a = base;
            const T v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
            if (max_take(v1, b)) b = v1, a = base + 1;
            if (max_take(v2, b)) b = v2, a = base + in_w;
            if (max_take(v3, b)) b = v3, a = base + in_w + 1;
            best[ow] = b;
            arg[ow] = a;
        }
    }
}

bool is_plain_2x2(const PoolGeometry& g) {
    return g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_h == 0 && g.pad_w == 0 &&
           g.dilation_h == 1 && g.dilation_w == 1 && 2 * g.out_h <= g.in_h && 2 * g.out_w <= g.in_w;
}

template <class T>
void max_pool_forward_impl(const T* x, T* y, int64_t* indices, const PoolGeometry& g) {
    if (is_plain_2x2(g)) {
        const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
        parallel_for(0, g.planes, grain_for(out_plane * 4), [&](int64_t lo, int64_t hi) {
            for (int64_t plane = lo; plane < hi; ++plane)
                max_pool_2x2_plane(x + plane * in_plane, y + plane * out_plane, indices + plane * out_plane, g.in_w,
                                   g.out_h, g.out_w);
        });
        return;
    }
    const auto rows = dilated_taps(g.out_h, g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
    const auto cols = dilated_taps(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
    const TapColumns taps = tap_columns(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
    const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
    const T lowest = max_pool_lowest<T>();
    parallel_for(0, g.planes, grain_for(out_plane * g.kernel_h * g.kernel_w), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* in = x + plane * in_plane;
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const TapRange r = rows[oh];
                T* best = y + plane * out_plane + oh * g.out_w;
                int64_t* arg = indices + plane * out_plane + oh * g.out_w;
                // An empty window (only possible with large dilation) keeps -inf and its origin index.
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                    best[ow] = lowest;
                    arg[ow] = r.first * g.in_w + cols[ow].first;
                }
                // Taps in the window's row-major order, as PyTorch visits them.
                for (int64_t h = r.first; h < r.end; h += g.dilation_h) {
                    const T* row = in + h * g.in_w;
                    with_stride(g.stride_w, [&](auto stride) {
                        constexpr int kStride = decltype(stride)::value;
                        for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                            max_tap_column<kStride>(row, h * g.in_w, taps.offset[kw], g.stride_w, taps.lo[kw],
                                                    taps.hi[kw], best, arg);
                        }
                    });
                }
            }
        }
    });
}

// The average-pooling window of every output cell along one axis.
std::vector<AvgRange> avg_ranges(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
    std::vector<AvgRange> ranges(out);
    for (int64_t o = 0; o < out; ++o) ranges[o] = avg_range(o, in, kernel, stride, pad);
    return ranges;
}

template <class T>
void avg_pool_forward_impl(const T* x, T* y, const PoolGeometry& g, bool count_include_pad) {
    const auto rows = avg_ranges(g.out_h, g.in_h, g.kernel_h, g.stride_h, g.pad_h);
    const auto cols = avg_ranges(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w);
    const TapColumns taps = tap_columns(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, 1);
    const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
    parallel_for(0, g.planes, grain_for(out_plane * g.kernel_h * g.kernel_w), [&](int64_t lo, int64_t hi) {
        std::vector<AvgPoolAcc<T>> acc(g.out_w);
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* in = x + plane * in_plane;
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const AvgRange r = rows[oh];
                std::fill(acc.begin(), acc.end(), AvgPoolAcc<T>(0));
                with_stride(g.stride_w, [&](auto stride) {
                    constexpr int kStride = decltype(stride)::value;
                    for (int64_t h = r.begin; h < r.end; ++h) {
                        for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                            sum_tap_column<kStride>(in + h * g.in_w, taps.offset[kw], g.stride_w, taps.lo[kw],
                                                    taps.hi[kw], acc.data());
                        }
                    }
                });
                T* out = y + plane * out_plane + oh * g.out_w;
                const int64_t row_divisor = avg_divisor(r, count_include_pad);
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                    const AvgRange& c = cols[ow];
                    const auto divisor = static_cast<AvgPoolAcc<T>>(row_divisor * avg_divisor(c, count_include_pad));
                    out[ow] = r.begin >= r.end || c.begin >= c.end ? T(0) : static_cast<T>(acc[ow] / divisor);
                }
            }
        }
    });
}

template <class T>
void avg_pool_backward_impl(const T* gy, T* gx, const PoolGeometry& g, bool count_include_pad) {
    const auto rows = avg_ranges(g.out_h, g.in_h, g.kernel_h, g.stride_h, g.pad_h);
    const auto cols = avg_ranges(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w);
    const TapColumns taps = tap_columns(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, 1);
    const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
    parallel_for(0, g.planes, grain_for(out_plane * g.kernel_h * g.kernel_w), [&](int64_t lo, int64_t hi) {
        std::vector<T> share(g.out_w);
        for (int64_t plane = lo; plane < hi; ++plane) {
            T* grad_in = gx + plane * in_plane;
            std::fill(grad_in, grad_in + in_plane, T(0));
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
                const AvgRange r = rows[oh];
                const T* grad_out = gy + plane * out_plane + oh * g.out_w;
                const int64_t row_divisor = avg_divisor(r, count_include_pad);
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                    share[ow] = grad_out[ow] / static_cast<T>(row_divisor * avg_divisor(cols[ow], count_include_pad));
                }
                with_stride(g.stride_w, [&](auto stride) {
                    constexpr int kStride = decltype(stride)::value;
                    for (int64_t h = r.begin; h < r.end; ++h) {
                        for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
                            spread_tap_column<kStride>(grad_in + h * g.in_w, taps.offset[kw], g.stride_w, taps.lo[kw],
                                                       taps.hi[kw], share.data());
                        }
                    }
                });
            }
        }
    });
}

struct AdaptiveRange {
    int64_t begin, end;
};

std::vector<AdaptiveRange> adaptive_ranges(int64_t out, int64_t in) {
    std::vector<AdaptiveRange> ranges(out);
    for (int64_t o = 0; o < out; ++o) ranges[o] = {adaptive_start(o, out, in), adaptive_end(o, out, in)};
    return ranges;
}

template <class T>
void adaptive_avg_forward_impl(const T* x, T* y, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                               int64_t out_w) {
    const auto rows = adaptive_ranges(out_h, in_h);
    const auto cols = adaptive_ranges(out_w, in_w);
    const int64_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    parallel_for(0, planes, grain_for(std::max(in_plane, out_plane)), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* in = x + plane * in_plane;
            T* out = y + plane * out_plane;
            for (int64_t oh = 0; oh < out_h; ++oh) {
                const AdaptiveRange r = rows[oh];
                for (int64_t ow = 0; ow < out_w; ++ow) {
                    const AdaptiveRange c = cols[ow];
                    double sum = 0;
                    for (int64_t h = r.begin; h < r.end; ++h) {
                        const T* row = in + h * in_w;
                        for (int64_t w = c.begin; w < c.end; ++w) sum += row[w];
                    }
                    const auto count = static_cast<double>((r.end - r.begin) * (c.end - c.begin));
                    out[oh * out_w + ow] = static_cast<T>(sum / count);
                }
            }
        }
    });
}

template <class T>
void adaptive_avg_backward_impl(const T* gy, T* gx, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h,
                                int64_t out_w) {
    const auto rows = adaptive_ranges(out_h, in_h);
    const auto cols = adaptive_ranges(out_w, in_w);
    const int64_t in_plane = in_h * in_w, out_plane = out_h * out_w;
    parallel_for(0, planes, grain_for(std::max(in_plane, out_plane)), [&](int64_t lo, int64_t hi) {
        for (int64_t plane = lo; plane < hi; ++plane) {
            const T* grad_out = gy + plane * out_plane;
            T* grad_in = gx + plane * in_plane;
            std::fill(grad_in, grad_in + in_plane, T(0));
            for (int64_t oh = 0; oh < out_h; ++oh) {
                const AdaptiveRange r = rows[oh];
                for (int64_t ow = 0; ow < out_w; ++ow) {
                    const AdaptiveRange c = cols[ow];
                    const T share = grad_out[oh * out_w + ow] / static_cast<T>((r.end - r.begin) * (c.end - c.begin));
                    for (int64_t h = r.begin; h < r.end; ++h) {
                        T* row = grad_in + h * in_w;
                        for (int64_t w = c.begin; w < c.end; ++w) row[w] += share;
                    }
                }
            }
        }
    });
}

}  // namespace

std::pair<Tensor, Tensor> CpuBackend::max_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/true);
    const Shape out_shape = with_plane_size(x.shape(), g.out_h, g.out_w);
    Tensor y = empty(out_shape, x.dtype(), x.device());
    Tensor indices = empty(out_shape, DType::Int64, x.device());
    dispatch_max_pool(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        max_pool_forward_impl<T>(x.data<T>(), y.data<T>(), indices.data<int64_t>(), g);
    });
    return {y, indices};
}

Tensor CpuBackend::max_pool2d_backward(const Tensor& grad_y_in, const Tensor& indices_in, const Shape& x_shape) {
    const Tensor grad_y = dense(grad_y_in), indices = dense(indices_in);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());  // each task zeroes its planes
    const size_t nd = x_shape.size();
    const int64_t in_plane = x_shape[nd - 2] * x_shape[nd - 1];
    const int64_t out_plane = grad_y.shape()[nd - 2] * grad_y.shape()[nd - 1];
    const int64_t planes = in_plane == 0 ? 0 : shape_numel(x_shape) / in_plane;
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "max_pool2d_backward", [&] {
        const scalar_t* gy = grad_y.data<scalar_t>();
        const int64_t* idx = indices.data<int64_t>();
        scalar_t* gx = grad_x.data<scalar_t>();
        parallel_for(0, planes, grain_for(in_plane + out_plane), [&](int64_t lo, int64_t hi) {
            for (int64_t plane = lo; plane < hi; ++plane) {
                const scalar_t* grad_out = gy + plane * out_plane;
                const int64_t* at = idx + plane * out_plane;
                scalar_t* grad_in = gx + plane * in_plane;
                std::fill(grad_in, grad_in + in_plane, scalar_t(0));
                // An index outside the plane comes from an all-padding window, whose output is constant.
                for (int64_t o = 0; o < out_plane; ++o)
                    if (at[o] >= 0 && at[o] < in_plane) grad_in[at[o]] += grad_out[o];
            }
        });
    });
    return grad_x;
}

Tensor CpuBackend::avg_pool2d_forward(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = dense(x_in);
    const PoolGeometry g = pool_geometry(x.shape(), p, /*dilated=*/false);
    Tensor y = empty(with_plane_size(x.shape(), g.out_h, g.out_w), x.dtype(), x.device());
    dispatch_avg_pool(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        avg_pool_forward_impl(x.data<T>(), y.data<T>(), g, p.count_include_pad);
    });
    return y;
}

Tensor CpuBackend::avg_pool2d_backward(const Tensor& grad_y_in, const Shape& x_shape, const Pool2dParams& p) {
    const Tensor grad_y = dense(grad_y_in);
    const PoolGeometry g = pool_geometry(x_shape, p, /*dilated=*/false);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());  // each task zeroes its planes
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "avg_pool2d_backward", [&] {
        avg_pool_backward_impl(grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), g, p.count_include_pad);
    });
    return grad_x;
}

Tensor CpuBackend::adaptive_avg_pool2d_forward(const Tensor& x_in, int64_t out_h, int64_t out_w) {
    const Tensor x = dense(x_in);
    const size_t nd = x.shape().size();
    const int64_t in_h = x.shape()[nd - 2], in_w = x.shape()[nd - 1];
    const int64_t planes = in_h * in_w == 0 ? 0 : x.numel() / (in_h * in_w);
    Tensor y = empty(with_plane_size(x.shape(), out_h, out_w), x.dtype(), x.device());
    ENGINE_DISPATCH_FLOATING(x.dtype(), "adaptive_avg_pool2d", [&] {
        adaptive_avg_forward_impl(x.data<scalar_t>(), y.data<scalar_t>(), planes, in_h, in_w, out_h, out_w);
    });
    return y;
}

Tensor CpuBackend::adaptive_avg_pool2d_backward(const Tensor& grad_y_in, const Shape& x_shape) {
    const Tensor grad_y = dense(grad_y_in);
    const size_t nd = x_shape.size();
    const int64_t in_h = x_shape[nd - 2], in_w = x_shape[nd - 1];
    const int64_t out_h = grad_y.shape()[nd - 2], out_w = grad_y.shape()[nd - 1];
    const int64_t planes = in_h * in_w == 0 ? 0 : shape_numel(x_shape) / (in_h * in_w);
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());  // each task zeroes its planes
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "adaptive_avg_pool2d_backward", [&] {
        adaptive_avg_backward_impl(grad_y.data<scalar_t>(), grad_x.data<scalar_t>(), planes, in_h, in_w, out_h,
                                   out_w);
    });
    return grad_x;
}

}  // namespace engine::cpu
