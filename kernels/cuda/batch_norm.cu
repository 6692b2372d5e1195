// Batch normalisation CUDA kernels over dim 1 of (N,C,...), viewed as (N, C, inner): one block per channel
// reduces its N*inner values in double (warp shuffles, then one partial per warp in shared memory), derives
// the per-channel statistics or gradient coefficients, and an elementwise kernel applies them. The arithmetic
// follows the CPU backend: two-pass biased variance, running stats updated with the unbiased variance.
#include "runtime/cuda_api.h"

#include <algorithm>
#include <cmath>

#include "kernels/batch_norm_math.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"

namespace engine::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kMaxReduceThreads = 512;
constexpr int64_t kMaxChannelBlocks = 65535;  // channels beyond this loop inside the blocks

// A per-channel vector that may be a strided view or absent (data == nullptr).
template <class T>
struct ChannelVec {
    T* data;
    int64_t stride;
    __device__ T& operator[](int64_t ch) const { return data[ch * stride]; }
    __device__ double value_or(int64_t ch, double fallback) const {
        return data ? static_cast<double>(data[ch * stride]) : fallback;
    }
};

template <class T>
ChannelVec<T> channel_vec(const Tensor& t) {
    if (!t.defined()) return {nullptr, 0};
    return {static_cast<T*>(t.raw_data()), t.dim() == 0 ? 0 : t.stride(0)};
}

// Threads for a per-channel reduction over `count` values: a power of two from one warp up to 512.
int reduce_threads(int64_t count) {
    int threads = kWarp;
    while (threads < kMaxReduceThreads && threads < count) threads *= 2;
    return threads;
}

LaunchConfig channel_config(int device, int64_t channels, int64_t count) {
    LaunchConfig c;
    c.grid = dim3(static_cast<unsigned>(std::min(channels, kMaxChannelBlocks)));
    c.block = dim3(static_cast<unsigned>(reduce_threads(count)));
    c.stream = current_stream(device);
    return c;
}

// The sum of v over the block, returned to every thread. blockDim.x is a multiple of the warp size.
__device__ double block_sum(double v) {
    __shared__ double partial[kWarp];
    for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        const int warps = blockDim.x / kWarp;
        v = lane < warps ? partial[lane] : 0.0;
        for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
        if (lane == 0) partial[0] = v;
    }
    __syncthreads();
    const double total = partial[0];
    __syncthreads();  // the next call overwrites partial
    return total;
}

// Per-channel outputs of the statistics step: the mean and invstd saved for backward, and the affine
// scale = invstd * weight and shift = bias that the normalisation applies.
template <class T>
struct ChannelStats {
    T* save_mean;
    T* save_invstd;
    T* scale;
    T* shift;
};

template <class T>
__device__ void store_stats(const ChannelStats<T>& out, int64_t ch, double mean, double invstd,
                            const ChannelVec<const T>& weight, const ChannelVec<const T>& bias) {
    out.save_mean[ch] = static_cast<T>(mean);
    out.save_invstd[ch] = static_cast<T>(invstd);
    out.scale[ch] = static_cast<T>(invstd * weight.value_or(ch, 1.0));
    out.shift[ch] = static_cast<T>(bias.value_or(ch, 0.0));
}

// Training statistics: biased mean and variance in two passes; running stats (when present) take the batch
// mean and the unbiased variance with `momentum`.
template <class T>
__global__ void batch_stats_kernel(const T* x, BnLayout l, double eps, double momentum, ChannelVec<T> running_mean,
                                   ChannelVec<T> running_var, ChannelVec<const T> weight, ChannelVec<const T> bias,
                                   ChannelStats<T> out) {
    const int64_t count = l.count();
    const double n = static_cast<double>(count);
    for (int64_t ch = blockIdx.x; ch < l.c; ch += gridDim.x) {
        double s = 0;
        for (int64_t e = threadIdx.x; e < count; e += blockDim.x) s += static_cast<double>(x[l.at(ch, e)]);
        const double mean = block_sum(s) / n;
        double sq = 0;
        for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
            const double d = static_cast<double>(x[l.at(ch, e)]) - mean;
            sq += d * d;
        }
        const double var = block_sum(sq) / n;
        if (threadIdx.x == 0) {
            store_stats(out, ch, mean, bn_invstd(var, eps), weight, bias);
            if (running_mean.data) {
                T& r = running_mean[ch];
                r = static_cast<T>(bn_running_update(static_cast<double>(r), mean, momentum));
            }
            if (running_var.data) {
                T& r = running_var[ch];
                r = static_cast<T>(bn_running_update(static_cast<double>(r), bn_unbiased_var(var, n), momentum));
            }
        }
    }
}

template <class T>
__global__ void running_stats_kernel(int64_t channels, double eps, ChannelVec<const T> running_mean,
                                     ChannelVec<const T> running_var, ChannelVec<const T> weight,
                                     ChannelVec<const T> bias, ChannelStats<T> out) {
    for (int64_t ch = global_thread(); ch < channels; ch += grid_stride()) {
        const double var = static_cast<double>(running_var[ch]);
        store_stats(out, ch, static_cast<double>(running_mean[ch]), bn_invstd(var, eps), weight, bias);
    }
}

template <class T>
__global__ void normalize_kernel(const T* x, T* y, BnLayout l, const T* mean, const T* scale, const T* shift) {
    const int64_t total = l.n * l.c * l.inner;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t ch = (i / l.inner) % l.c;
        y[i] = (x[i] - mean[ch]) * scale[ch] + shift[ch];
    }
}

// grad_x = g * a + b + (x - mean) * c per channel: in training b and c fold in the gradients through the batch
// mean and variance; in eval they are 0.
template <class T>
struct GradCoefficients {
    T* a;
    T* b;
    T* c;
};

template <class T>
__global__ void backward_reduce_kernel(const T* grad_y, const T* x, BnLayout l, ChannelVec<const T> save_mean,
                                       ChannelVec<const T> save_invstd, ChannelVec<const T> weight, bool training,
                                       GradCoefficients<T> coef, T* grad_weight, T* grad_bias) {
    const int64_t count = l.count();
    const double n = static_cast<double>(count);
    for (int64_t ch = blockIdx.x; ch < l.c; ch += gridDim.x) {
        const double mean = static_cast<double>(save_mean[ch]);
        double s = 0, d = 0;
        for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
            const int64_t at = l.at(ch, e);
            const double g = static_cast<double>(grad_y[at]);
            s += g;
            d += (static_cast<double>(x[at]) - mean) * g;
        }
        const double sum_g = block_sum(s), dot = block_sum(d);
        if (threadIdx.x == 0) {
            const double invstd = static_cast<double>(save_invstd[ch]);
            const BnGradCoefficients k =
                bn_grad_coefficients(sum_g, dot, invstd, weight.value_or(ch, 1.0), n, training && count > 0);
            coef.a[ch] = static_cast<T>(k.a);
            coef.b[ch] = static_cast<T>(k.b);
            coef.c[ch] = static_cast<T>(k.c);
            grad_weight[ch] = static_cast<T>(dot * invstd);
            grad_bias[ch] = static_cast<T>(sum_g);
        }
    }
}

template <class T>
__global__ void backward_apply_kernel(const T* grad_y, const T* x, T* grad_x, BnLayout l, ChannelVec<const T> save_mean,
                                      GradCoefficients<T> coef) {
    const int64_t total = l.n * l.c * l.inner;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t ch = (i / l.inner) % l.c;
        grad_x[i] = grad_y[i] * coef.a[ch] + coef.b[ch] + (x[i] - save_mean[ch]) * coef.c[ch];
    }
}

template <class T>
BatchNormForward batch_norm_forward_impl(int device, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                         Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                                         double eps) {
    const BnLayout l = bn_layout(x.shape());
    const bool use_batch_stats = training || !running_mean.defined() || !running_var.defined();
    Tensor y = empty(x.shape(), x.dtype(), x.device());
    Tensor save_mean = empty({l.c}, x.dtype(), x.device()), save_invstd = empty({l.c}, x.dtype(), x.device());
    if (l.c == 0) return {y, save_mean, save_invstd};
    if (use_batch_stats && l.count() == 0) {
        // An empty batch has no statistics: PyTorch leaves the running stats alone; the saved ones are 0.
        backend_for(x).fill_(save_mean, 0.0);
        backend_for(x).fill_(save_invstd, 0.0);
        return {y, save_mean, save_invstd};
    }
    Tensor affine = empty({2, l.c}, x.dtype(), x.device());  // rows: scale, shift
    const ChannelStats<T> stats{save_mean.data<T>(), save_invstd.data<T>(), affine.data<T>(), affine.data<T>() + l.c};
    const ChannelVec<const T> w = channel_vec<const T>(weight), b = channel_vec<const T>(bias);
    if (use_batch_stats) {
        const ChannelVec<T> none{nullptr, 0};
        launch("batch_norm", x.shape(), channel_config(device, l.c, l.count()), batch_stats_kernel<T>, x.data<T>(), l,
               eps, momentum, training ? channel_vec<T>(running_mean) : none,
               training ? channel_vec<T>(running_var) : none, w, b, stats);
    } else {
        launch("batch_norm", x.shape(), config_1d(device, l.c), running_stats_kernel<T>, l.c, eps,
               channel_vec<const T>(running_mean), channel_vec<const T>(running_var), w, b, stats);
    }
    if (x.numel() > 0) {
        launch("batch_norm", x.shape(), config_1d(device, x.numel()), normalize_kernel<T>, x.data<T>(), y.data<T>(), l,
               stats.save_mean, stats.scale, stats.shift);
    }
    return {y, save_mean, save_invstd};
}

template <class T>
BatchNormGrads batch_norm_backward_impl(int device, const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                        const Tensor& save_mean, const Tensor& save_invstd, bool training) {
    const BnLayout l = bn_layout(x.shape());
    Tensor grad_x = empty(x.shape(), x.dtype(), x.device());
    Tensor grad_weight = empty({l.c}, x.dtype(), x.device()), grad_bias = empty({l.c}, x.dtype(), x.device());
    if (l.c == 0) return {grad_x, grad_weight, grad_bias};
    Tensor coefficients = empty({3, l.c}, x.dtype(), x.device());
    T* cp = coefficients.data<T>();
    const GradCoefficients<T> coef{cp, cp + l.c, cp + 2 * l.c};
    const ChannelVec<const T> mean = channel_vec<const T>(save_mean);
    launch("batch_norm_backward", x.shape(), channel_config(device, l.c, l.count()), backward_reduce_kernel<T>,
           grad_y.data<T>(), x.data<T>(), l, mean, channel_vec<const T>(save_invstd), channel_vec<const T>(weight),
           training, coef, grad_weight.data<T>(), grad_bias.data<T>());
    if (x.numel() > 0) {
        launch("batch_norm_backward", x.shape(), config_1d(device, x.numel()), backward_apply_kernel<T>,
               grad_y.data<T>(), x.data<T>(), grad_x.data<T>(), l, mean, coef);
    }
    return {grad_x, grad_weight, grad_bias};
}

}  // namespace

BatchNormForward CudaBackend::batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                 Tensor& running_mean, Tensor& running_var, bool training,
                                                 double momentum, double eps) {
    const Tensor xc = dense(x);
    set_device(device_index_, "batch_norm");
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
        return batch_norm_forward_impl<scalar_t>(device_index_, xc, weight, bias, running_mean, running_var, training,
                                                 momentum, eps);
    });
}

BatchNormGrads CudaBackend::batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                                const Tensor& save_mean, const Tensor& save_invstd, bool training) {
    const Tensor xc = dense(x), gc = dense(grad_y);
    set_device(device_index_, "batch_norm_backward");
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "batch_norm_backward", [&] {
        return batch_norm_backward_impl<scalar_t>(device_index_, gc, xc, weight, save_mean, save_invstd, training);
    });
}

}  // namespace engine::cuda
