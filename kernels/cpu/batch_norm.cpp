// Batch normalisation CPU kernels over dim 1 of (N,C,...): per-channel statistics accumulated in double,
// the affine normalisation, running-stat updates (unbiased variance, as PyTorch) and the backward pass.
//
// x is viewed as (N, C, inner). With inner > 1 each channel is N contiguous runs of `inner` values and work is
// split by channel; with inner == 1 ((N,C) input) the channels of a row are contiguous, so loops run along a
// block of channels for each row instead, which keeps the inner loop contiguous and vectorisable.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/batch_norm_math.h"
#include "kernels/cpu/cpu_backend.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

int64_t channel_grain(const BnLayout& l) { return grain_for(l.count()); }

// Eight independent partial sums let the compiler vectorise a double reduction without reassociation flags.
template <class T>
double sum_as_double(const T* p, int64_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) acc[k] += static_cast<double>(p[i + k]);
    double s = 0;
    for (; i < n; ++i) s += static_cast<double>(p[i]);
    for (int k = 0; k < 8; ++k) s += acc[k];
    return s;
}

template <class T>
double sum_sq_dev(const T* p, int64_t n, double mean) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; ++k) {
            const double d = static_cast<double>(p[i + k]) - mean;
            acc[k] += d * d;
        }
    }
    double s = 0;
    for (; i < n; ++i) {
        const double d = static_cast<double>(p[i]) - mean;
        s += d * d;
    }
    for (int k = 0; k < 8; ++k) s += acc[k];
    return s;
}

// The sum of g and of (x - mean) * g in one read of g, accumulated as sum_as_double does.
template <class T>
void sum_and_dot_dev(const T* x, const T* g, int64_t n, double mean, double& sum, double& dot) {
    double s8[8] = {0, 0, 0, 0, 0, 0, 0, 0}, d8[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; ++k) {
            const double gv = static_cast<double>(g[i + k]);
            s8[k] += gv;
            d8[k] += (static_cast<double>(x[i + k]) - mean) * gv;
        }
    }
    double s = 0, d = 0;
    for (; i < n; ++i) {
        s += static_cast<double>(g[i]);
        d += (static_cast<double>(x[i]) - mean) * static_cast<double>(g[i]);
    }
    for (int k = 0; k < 8; ++k) {
        s += s8[k];
        d += d8[k];
    }
    sum = s;
    dot = d;
}

template <class T>
std::vector<double> read_channels(const Tensor& t, int64_t c, double fallback) {
    std::vector<double> v(c, fallback);
    if (!t.defined()) return v;
    const T* p = t.data<T>();
    const int64_t s = t.dim() == 0 ? 0 : t.stride(0);
    for (int64_t i = 0; i < c; ++i) v[i] = static_cast<double>(p[i * s]);
    return v;
}

template <class T>
Tensor channel_tensor(const std::vector<double>& v, const Tensor& like) {
    Tensor t = empty({static_cast<int64_t>(v.size())}, like.dtype(), like.device());
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
    return t;
}

// Biased per-channel mean and variance of an (N, C) input (two passes, double accumulation); inputs with
// spatial dims go through batch_stats_and_normalize.
template <class T>
void batch_stats(const T* x, const BnLayout& l, std::vector<double>& mean, std::vector<double>& var) {
    const double count = static_cast<double>(l.count());
    parallel_for(0, l.c, channel_grain(l), [&](int64_t lo, int64_t hi) {
        const int64_t w = hi - lo;
        std::vector<double> s(w, 0.0), sq(w, 0.0);
        for (int64_t b = 0; b < l.n; ++b) {
            const T* row = x + b * l.c + lo;
            for (int64_t j = 0; j < w; ++j) s[j] += static_cast<double>(row[j]);
        }
        for (int64_t j = 0; j < w; ++j) s[j] /= count;
        for (int64_t b = 0; b < l.n; ++b) {
            const T* row = x + b * l.c + lo;
            for (int64_t j = 0; j < w; ++j) {
                const double d = static_cast<double>(row[j]) - s[j];
                sq[j] += d * d;
            }
        }
        for (int64_t j = 0; j < w; ++j) {
            mean[lo + j] = s[j];
            var[lo + j] = sq[j] / count;
        }
    });
}

// y = (x - mean) * scale + shift per channel.
template <class T>
void normalize(const T* x, T* y, const BnLayout& l, const std::vector<T>& mean, const std::vector<T>& scale,
               const std::vector<T>& shift) {
    if (l.inner > 1) {
        parallel_for(0, l.n * l.c, grain_for(l.inner), [&](int64_t lo, int64_t hi) {
            for (int64_t plane = lo; plane < hi; ++plane) {
                const int64_t ch = plane % l.c;
                const T m = mean[ch], a = scale[ch], b = shift[ch];
                const T* in = x + plane * l.inner;
                T* out = y + plane * l.inner;
                for (int64_t i = 0; i < l.inner; ++i) out[i] = (in[i] - m) * a + b;
            }
        });
        return;
    }
    const T* m = mean.data();
    const T* a = scale.data();
    const T* b = shift.data();
    parallel_for(0, l.n, grain_for(l.c), [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            const T* in = x + r * l.c;
            T* out = y + r * l.c;
            for (int64_t ch = 0; ch < l.c; ++ch) out[ch] = (in[ch] - m[ch]) * a[ch] + b[ch];
        }
    });
}

template <class T>
void update_running(Tensor& running, const std::vector<double>& batch_value, double momentum) {
    T* p = running.data<T>();
    const int64_t s = running.stride(0);
    for (size_t ch = 0; ch < batch_value.size(); ++ch) {
        T& r = p[static_cast<int64_t>(ch) * s];
        r = static_cast<T>(bn_running_update(static_cast<double>(r), batch_value[ch], momentum));
    }
}

template <class T>
void update_running_stats(Tensor& running_mean, Tensor& running_var, const std::vector<double>& mean,
                          const std::vector<double>& var, const BnLayout& l, double momentum) {
    if (running_mean.defined()) update_running<T>(running_mean, mean, momentum);
    if (running_var.defined()) {
        const double n = static_cast<double>(l.count());
        std::vector<double> unbiased(l.c);
        for (int64_t ch = 0; ch < l.c; ++ch) unbiased[ch] = bn_unbiased_var(var[ch], n);
        update_running<T>(running_var, unbiased, momentum);
    }
}

// Training forward of an (N, C, inner > 1) input in one sweep over the channels: each channel's mean, variance
// (the two passes of batch_stats) and normalisation run back to back, so the second and third reads of its
// values come from cache instead of memory.
template <class T>
void batch_stats_and_normalize(const T* x, T* y, const BnLayout& l, double eps, const std::vector<double>& w,
                               const std::vector<double>& b, std::vector<double>& mean, std::vector<double>& var,
                               std::vector<double>& invstd) {
    const double count = static_cast<double>(l.count());
    parallel_for(0, l.c, channel_grain(l), [&](int64_t lo, int64_t hi) {
        for (int64_t ch = lo; ch < hi; ++ch) {
            double s = 0;
            for (int64_t n = 0; n < l.n; ++n) s += sum_as_double(x + (n * l.c + ch) * l.inner, l.inner);
            const double m = s / count;
            double sq = 0;
            for (int64_t n = 0; n < l.n; ++n) sq += sum_sq_dev(x + (n * l.c + ch) * l.inner, l.inner, m);
            mean[ch] = m;
            var[ch] = sq / count;
            invstd[ch] = bn_invstd(var[ch], eps);
            const T mt = static_cast<T>(m), a = static_cast<T>(invstd[ch] * w[ch]), sh = static_cast<T>(b[ch]);
            for (int64_t n = 0; n < l.n; ++n) {
                const T* in = x + (n * l.c + ch) * l.inner;
                T* out = y + (n * l.c + ch) * l.inner;
                for (int64_t i = 0; i < l.inner; ++i) out[i] = (in[i] - mt) * a + sh;
            }
        }
    });
}

template <class T>
BatchNormForward batch_norm_forward_impl(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                                         double eps) {
    const BnLayout l = bn_layout(x.shape());
    const bool use_batch_stats = training || !running_mean.defined() || !running_var.defined();
    std::vector<double> mean(l.c, 0.0), var(l.c, 0.0), invstd(l.c, 0.0);
    const T* xp = x.data<T>();
    if (use_batch_stats && l.inner > 1 && l.count() > 0) {
        const std::vector<double> w = read_channels<T>(weight, l.c, 1.0), b = read_channels<T>(bias, l.c, 0.0);
        Tensor y = empty(x.shape(), x.dtype(), x.device());
        batch_stats_and_normalize(xp, y.data<T>(), l, eps, w, b, mean, var, invstd);
        if (training) update_running_stats<T>(running_mean, running_var, mean, var, l, momentum);
        return {y, channel_tensor<T>(mean, x), channel_tensor<T>(invstd, x)};
    }
    if (use_batch_stats) {
        // An empty batch has no statistics: PyTorch leaves the running stats alone.
        if (l.count() > 0) {
            batch_stats(xp, l, mean, var);
            for (int64_t ch = 0; ch < l.c; ++ch) invstd[ch] = bn_invstd(var[ch], eps);
            if (training) update_running_stats<T>(running_mean, running_var, mean, var, l, momentum);
        }
    } else {
        mean = read_channels<T>(running_mean, l.c, 0.0);
        var = read_channels<T>(running_var, l.c, 1.0);
        for (int64_t ch = 0; ch < l.c; ++ch) invstd[ch] = bn_invstd(var[ch], eps);
    }
    const std::vector<double> w = read_channels<T>(weight, l.c, 1.0), b = read_channels<T>(bias, l.c, 0.0);
    std::vector<T> mean_t(l.c), scale_t(l.c), shift_t(l.c);
    for (int64_t ch = 0; ch < l.c; ++ch) {
        mean_t[ch] = static_cast<T>(mean[ch]);
        scale_t[ch] = static_cast<T>(invstd[ch] * w[ch]);
        shift_t[ch] = static_cast<T>(b[ch]);
    }
    Tensor y = empty(x.shape(), x.dtype(), x.device());
    normalize(xp, y.data<T>(), l, mean_t, scale_t, shift_t);
    return {y, channel_tensor<T>(mean, x), channel_tensor<T>(invstd, x)};
}

template <class T>
BatchNormGrads batch_norm_backward_impl(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                        const Tensor& save_mean, const Tensor& save_invstd, bool training) {
    const BnLayout l = bn_layout(x.shape());
    const std::vector<double> mean = read_channels<T>(save_mean, l.c, 0.0);
    const std::vector<double> invstd = read_channels<T>(save_invstd, l.c, 0.0);
    const std::vector<double> w = read_channels<T>(weight, l.c, 1.0);
    std::vector<double> sum_g(l.c, 0.0), dot(l.c, 0.0);
    const T* xp = x.data<T>();
    const T* gp = grad_y.data<T>();
    Tensor grad_x = empty(x.shape(), x.dtype(), x.device());
    T* gx = grad_x.data<T>();
    const double count = static_cast<double>(l.count());

    // grad_x = g * a + b + (x - mean) * c (kernels/batch_norm_math.h).
    auto coefficients = [&](int64_t ch, T& a, T& b, T& c, T& m) {
        const BnGradCoefficients k =
            bn_grad_coefficients(sum_g[ch], dot[ch], invstd[ch], w[ch], count, training && count > 0);
        m = static_cast<T>(mean[ch]);
        a = static_cast<T>(k.a);
        b = static_cast<T>(k.b);
        c = static_cast<T>(k.c);
    };

    if (l.inner > 1) {
        parallel_for(0, l.c, channel_grain(l), [&](int64_t lo, int64_t hi) {
            for (int64_t ch = lo; ch < hi; ++ch) {
                double s = 0, d = 0;
                for (int64_t n = 0; n < l.n; ++n) {
                    const int64_t off = (n * l.c + ch) * l.inner;
                    double run_sum, run_dot;
                    sum_and_dot_dev(xp + off, gp + off, l.inner, mean[ch], run_sum, run_dot);
                    s += run_sum;
                    d += run_dot;
                }
                sum_g[ch] = s;
                dot[ch] = d;
                T a, b, c, m;
                coefficients(ch, a, b, c, m);
                for (int64_t n = 0; n < l.n; ++n) {
                    const int64_t off = (n * l.c + ch) * l.inner;
                    const T* xi = xp + off;
                    const T* gi = gp + off;
                    T* out = gx + off;
                    for (int64_t i = 0; i < l.inner; ++i) out[i] = gi[i] * a + b + (xi[i] - m) * c;
                }
            }
        });
    } else {
        parallel_for(0, l.c, channel_grain(l), [&](int64_t lo, int64_t hi) {
            const int64_t width = hi - lo;
            std::vector<double> s(width, 0.0), d(width, 0.0);
            for (int64_t n = 0; n < l.n; ++n) {
                const T* xr = xp + n * l.c + lo;
                const T* gr = gp + n * l.c + lo;
                for (int64_t j = 0; j < width; ++j) {
                    s[j] += static_cast<double>(gr[j]);
                    d[j] += (static_cast<double>(xr[j]) - mean[lo + j]) * static_cast<double>(gr[j]);
                }
            }
            std::vector<T> a(width), b(width), c(width), m(width);
            for (int64_t j = 0; j < width; ++j) {
                sum_g[lo + j] = s[j];
                dot[lo + j] = d[j];
                coefficients(lo + j, a[j], b[j], c[j], m[j]);
            }
            for (int64_t n = 0; n < l.n; ++n) {
                const T* xr = xp + n * l.c + lo;
                const T* gr = gp + n * l.c + lo;
                T* out = gx + n * l.c + lo;
                for (int64_t j = 0; j < width; ++j) out[j] = gr[j] * a[j] + b[j] + (xr[j] - m[j]) * c[j];
            }
        });
    }
    std::vector<double> grad_w(l.c);
    for (int64_t ch = 0; ch < l.c; ++ch) grad_w[ch] = dot[ch] * invstd[ch];
    return {grad_x, channel_tensor<T>(grad_w, x), channel_tensor<T>(sum_g, x)};
}

}  // namespace

BatchNormForward CpuBackend::batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                Tensor& running_mean, Tensor& running_var, bool training,
                                                double momentum, double eps) {
    const Tensor xc = dense(x);
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
        return batch_norm_forward_impl<scalar_t>(xc, weight, bias, running_mean, running_var, training, momentum,
                                                 eps);
    });
}

BatchNormGrads CpuBackend::batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                               const Tensor& save_mean, const Tensor& save_invstd, bool training) {
    const Tensor xc = dense(x), gc = dense(grad_y);
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "batch_norm_backward", [&] {
        return batch_norm_backward_impl<scalar_t>(gc, xc, weight, save_mean, save_invstd, training);
    });
}

}  // namespace engine::cpu
