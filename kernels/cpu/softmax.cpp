// CPU softmax / log_softmax and their gradients along any dim, viewed as (outer, C, inner): rows when inner
// is 1, otherwise bands of `inner` columns walked with stride inner (no transposing copies). Numerically
// stable (the max is subtracted); sums accumulate in double.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/softmax_math.h"
#include "kernels/dim_view.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

constexpr int64_t kBand = 256;  // columns per work item when inner > 1

// The row functions use `omp simd` reductions: they let the compiler reorder the max / sum across vector lanes
// (NaN still propagates: exp(NaN - m) makes the sum NaN whatever m is).
template <class T>
T row_max(const T* x, int64_t n) {
    T m = x[0];
#pragma omp simd reduction(max : m)
    for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

template <class T>
double row_sum(const T* x, int64_t n) {
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]);
    return sum;
}

// y = exp(x - max) / sum, or x - max - log(sum); y holds the exponentials in between.
template <bool Log, class T>
void softmax_row(const T* x, T* y, int64_t n) {
    const T m = row_max(x, n);
    for (int64_t i = 0; i < n; ++i) y[i] = exp_nonpositive(x[i] - m);
    const double sum = row_sum(y, n);
    if (Log) {
        const T log_sum = static_cast<T>(std::log(sum));
        for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) - log_sum;  // x - m first: exact near the max
    } else {
        const T inv = static_cast<T>(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    }
}

// `width` columns of a (C, stride) slab.
template <bool Log, class T>
void softmax_cols(const T* x, T* y, int64_t classes, int64_t stride, int64_t width) {
    T m[kBand];
    double sum[kBand];
    for (int64_t b = 0; b < width; ++b) {
        m[b] = x[b];
        sum[b] = 0;
    }
    for (int64_t c = 1; c < classes; ++c) {
        const T* row = x + c * stride;
        for (int64_t b = 0; b < width; ++b) m[b] = row[b] > m[b] ? row[b] : m[b];
    }
    for (int64_t c = 0; c < classes; ++c) {
        const T* row = x + c * stride;
        T* out = y + c * stride;
        for (int64_t b = 0; b < width; ++b) {
            const T e = exp_nonpositive(row[b] - m[b]);
            if (!Log) out[b] = e;
            sum[b] += static_cast<double>(e);
        }
    }
    T scale[kBand];
    if (Log) {
        for (int64_t b = 0; b < width; ++b) scale[b] = log_positive(static_cast<T>(sum[b]));
    } else {
        for (int64_t b = 0; b < width; ++b) scale[b] = static_cast<T>(1.0 / sum[b]);
    }
    for (int64_t c = 0; c < classes; ++c) {
        const T* row = x + c * stride;
        T* out = y + c * stride;
        if (Log) {
            for (int64_t b = 0; b < width; ++b) out[b] = row[b] - m[b] - scale[b];
        } else {
            for (int64_t b = 0; b < width; ++b) out[b] *= scale[b];
        }
    }
}

// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
template <bool Log, class T>
void softmax_backward_row(const T* y, const T* g, T* gx, int64_t n) {
    double sum = 0;
    if (Log) {
        sum = row_sum(g, n);
    } else {
#pragma omp simd reduction(+ : sum)
        for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * static_cast<double>(y[i]);
    }
    const T s = static_cast<T>(sum);
    if (Log) {
        for (int64_t i = 0; i < n; ++i) gx[i] = g[i] - exp_nonpositive(y[i]) * s;
    } else {
        for (int64_t i = 0; i < n; ++i) gx[i] = y[i] * (g[i] - s);
    }
}

template <bool Log, class T>
void softmax_backward_cols(const T* y, const T* g, T* gx, int64_t classes, int64_t stride, int64_t width) {
    double sum[kBand];
    for (int64_t b = 0; b < width; ++b) sum[b] = 0;
    for (int64_t c = 0; c < classes; ++c) {
        const T* yr = y + c * stride;
        const T* gr = g + c * stride;
        for (int64_t b = 0; b < width; ++b)
            sum[b] += Log ? static_cast<double>(gr[b]) : static_cast<double>(gr[b]) * yr[b];
    }
    T s[kBand];
    for (int64_t b = 0; b < width; ++b) s[b] = static_cast<T>(sum[b]);
    for (int64_t c = 0; c < classes; ++c) {
        const T* yr = y + c * stride;
        const T* gr = g + c * stride;
        T* out = gx + c * stride;
        if (Log) {
            for (int64_t b = 0; b < width; ++b) out[b] = gr[b] - exp_nonpositive(yr[b]) * s[b];
        } else {
            for (int64_t b = 0; b < width; ++b) out[b] = yr[b] * (gr[b] - s[b]);
        }
    }
}

// Calls row(offset, n) for each (outer) row, or cols(offset, width) for each band of columns, in parallel.
template <class Row, class Cols>
void for_each_slice(const DimView& l, const Row& row, const Cols& cols) {
    if (l.inner == 1) {
        parallel_for(0, l.outer, grain_for(l.size),
                     [&](int64_t lo, int64_t hi) {
                         for (int64_t o = lo; o < hi; ++o) row(o * l.size, l.size);
                     });
        return;
    }
    const int64_t bands = (l.inner + kBand - 1) / kBand;
    const int64_t work = std::max<int64_t>(1, l.size * std::min(l.inner, kBand));
    parallel_for(0, l.outer * bands, grain_for(work), [&](int64_t lo, int64_t hi) {
        for (int64_t w = lo; w < hi; ++w) {
            const int64_t o = w / bands, b0 = (w % bands) * kBand;
            cols(o * l.size * l.inner + b0, std::min(kBand, l.inner - b0));
        }
    });
}

}  // namespace

Tensor CpuBackend::softmax(const Tensor& input, int64_t dim, bool log) {
    const Tensor x = dense(input);
    Tensor y = empty(x.shape(), x.dtype());
    if (x.numel() == 0) return y;
    const DimView l = view_around_dim(x.shape(), dim);
    ENGINE_DISPATCH_FLOATING(x.dtype(), log ? "log_softmax" : "softmax", [&] {
        using T = scalar_t;
        const T* xp = x.data<T>();
        T* yp = y.data<T>();
        auto run = [&](auto log_tag) {
            constexpr bool Log = decltype(log_tag)::value;
            for_each_slice(
                l, [&](int64_t at, int64_t n) { softmax_row<Log>(xp + at, yp + at, n); },
                [&](int64_t at, int64_t width) { softmax_cols<Log>(xp + at, yp + at, l.size, l.inner, width); });
        };
        if (log) {
            run(std::true_type{});
        } else {
            run(std::false_type{});
        }
    });
    return y;
}

Tensor CpuBackend::softmax_backward(const Tensor& y_in, const Tensor& grad_in, int64_t dim, bool log) {
    const Tensor y = dense(y_in), g = dense(grad_in);
    Tensor gx = empty(y.shape(), y.dtype());
    if (y.numel() == 0) return gx;
    const DimView l = view_around_dim(y.shape(), dim);
    ENGINE_DISPATCH_FLOATING(y.dtype(), log ? "log_softmax_backward" : "softmax_backward", [&] {
        using T = scalar_t;
        const T* yp = y.data<T>();
        const T* gp = g.data<T>();
        T* op = gx.data<T>();
        auto run = [&](auto log_tag) {
            constexpr bool Log = decltype(log_tag)::value;
            for_each_slice(
                l, [&](int64_t at, int64_t n) { softmax_backward_row<Log>(yp + at, gp + at, op + at, n); },
                [&](int64_t at, int64_t width) {
                    softmax_backward_cols<Log>(yp + at, gp + at, op + at, l.size, l.inner, width);
                });
        };
        if (log) {
            run(std::true_type{});
        } else {
            run(std::false_type{});
        }
    });
    return gx;
}

}  // namespace engine::cpu
