// CUDA softmax / log_softmax and their gradients along any dim, viewed as (outer, C, inner). inner == 1: a warp
// per row for rows up to kWarpRowLimit, a block per row beyond (max, then sum of exponentials, then the write,
// each a pass over the row); inner > 1: a thread per column walking C with stride inner (adjacent threads read
// adjacent columns, so the reads coalesce). Numerically stable (the max is subtracted); sums in double.
#include "runtime/cuda_api.h"

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/reduce.cuh"
#include "kernels/dim_view.h"
#include "kernels/scalar_math.h"

namespace engine::cuda {
namespace {

constexpr int64_t kWarpRowLimit = 1024;
constexpr int kRowsPerBlock = kReduceThreads / kWarp;

struct MaxOp {
    template <class T>
    __device__ static T apply(T a, T b) {
        return b > a ? b : a;
    }
};

struct SumOp {
    template <class T>
    __device__ static T apply(T a, T b) {
        return a + b;
    }
};

template <class T>
__device__ inline T shfl_xor(T v, int mask) {
    return __shfl_xor_sync(kFullMask, v, mask);
}

// Every thread of the row's group (a warp, or the whole 1-D block) gets the combination of the group's values.
// Blocks combine the per-warp results in warp order, so every thread computes the same value.
template <class Op, class T>
__device__ inline T group_allreduce(T v, T* scratch, bool per_warp) {
    for (int mask = kWarp / 2; mask > 0; mask /= 2) v = Op::apply(v, shfl_xor(v, mask));
    if (per_warp) return v;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = scratch[0];
    for (int w = 1; w < warps; ++w) v = Op::apply(v, scratch[w]);
    __syncthreads();
    return v;
}

// Row r of an (rows, n) array; blockDim (32, k): a warp per row; blockDim (m > 32, 1): the block per row.
template <class T, bool Log>
__global__ void softmax_rows_kernel(const T* x, T* y, int64_t rows, int64_t n) {
    __shared__ T max_scratch[kWarp];
    __shared__ double sum_scratch[kWarp];
    const bool per_warp = blockDim.x == kWarp;
    const int64_t per_block = per_warp ? blockDim.y : 1;
    for (int64_t row = blockIdx.x * per_block + (per_warp ? threadIdx.y : 0); row < rows;
         row += static_cast<int64_t>(gridDim.x) * per_block) {
        const T* in = x + row * n;
        T* out = y + row * n;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = in[i] > m ? in[i] : m;
        m = group_allreduce<MaxOp>(m, max_scratch, per_warp);
        double sum = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += static_cast<double>(scalar::exp(in[i] - m));
        sum = group_allreduce<SumOp>(sum, sum_scratch, per_warp);
        if (Log) {
            const T log_sum = static_cast<T>(log(sum));
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = (in[i] - m) - log_sum;
        } else {
            const T inv = static_cast<T>(1.0 / sum);
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = scalar::exp(in[i] - m) * inv;
        }
    }
}

// Column (o, j) of an (outer, classes, inner) array per thread.
template <class T, bool Log>
__global__ void softmax_cols_kernel(const T* x, T* y, int64_t outer, int64_t classes, int64_t inner) {
    for (int64_t c = global_thread(); c < outer * inner; c += grid_stride()) {
        const int64_t o = c / inner, j = c % inner;
        const T* in = x + o * classes * inner + j;
        T* out = y + o * classes * inner + j;
        T m = in[0];
        for (int64_t k = 1; k < classes; ++k) m = in[k * inner] > m ? in[k * inner] : m;
        double sum = 0;
        for (int64_t k = 0; k < classes; ++k) sum += static_cast<double>(scalar::exp(in[k * inner] - m));
        if (Log) {
            const T log_sum = static_cast<T>(log(sum));
            for (int64_t k = 0; k < classes; ++k) out[k * inner] = (in[k * inner] - m) - log_sum;
        } else {
            const T inv = static_cast<T>(1.0 / sum);
            for (int64_t k = 0; k < classes; ++k) out[k * inner] = scalar::exp(in[k * inner] - m) * inv;
        }
    }
}

// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
template <class T, bool Log>
__global__ void softmax_backward_rows_kernel(const T* y, const T* g, T* gx, int64_t rows, int64_t n) {
    __shared__ double sum_scratch[kWarp];
    const bool per_warp = blockDim.x == kWarp;
    const int64_t per_block = per_warp ? blockDim.y : 1;
    for (int64_t row = blockIdx.x * per_block + (per_warp ? threadIdx.y : 0); row < rows;
         row += static_cast<int64_t>(gridDim.x) * per_block) {
        const T* yr = y + row * n;
        const T* gr = g + row * n;
        T* out = gx + row * n;
        double sum = 0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            sum += Log ? static_cast<double>(gr[i]) : static_cast<double>(gr[i]) * static_cast<double>(yr[i]);
        const T s = static_cast<T>(group_allreduce<SumOp>(sum, sum_scratch, per_warp));
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
            out[i] = Log ? gr[i] - scalar::exp(yr[i]) * s : yr[i] * (gr[i] - s);
    }
}

template <class T, bool Log>
__global__ void softmax_backward_cols_kernel(const T* y, const T* g, T* gx, int64_t outer, int64_t classes,
                                             int64_t inner) {
    for (int64_t c = global_thread(); c < outer * inner; c += grid_stride()) {
        const int64_t at = (c / inner) * classes * inner + c % inner;
        double sum = 0;
        for (int64_t k = 0; k < classes; ++k) {
            const int64_t i = at + k * inner;
            sum += Log ? static_cast<double>(g[i]) : static_cast<double>(g[i]) * static_cast<double>(y[i]);
        }
        const T s = static_cast<T>(sum);
        for (int64_t k = 0; k < classes; ++k) {
            const int64_t i = at + k * inner;
            gx[i] = Log ? g[i] - scalar::exp(y[i]) * s : y[i] * (g[i] - s);
        }
    }
}

// A warp per row (8 rows per block) for short rows, else a block of 256 (512 for very long rows) per row.
LaunchConfig rows_config(int device, int64_t rows, int64_t n) {
    LaunchConfig cfg;
    cfg.stream = current_stream(device);
    if (n <= kWarpRowLimit) {
        cfg.block = dim3(kWarp, kRowsPerBlock);
        cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>((rows + kRowsPerBlock - 1) / kRowsPerBlock,
                                                                kMaxElementwiseBlocks)));
    } else {
        cfg.block = dim3(n >= 16384 ? 512 : kReduceThreads);
        cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>(rows, kMaxElementwiseBlocks)));
    }
    return cfg;
}

template <class F>
void with_log(bool log, const F& f) {
    if (log) {
        f(std::true_type{});
    } else {
        f(std::false_type{});
    }
}

}  // namespace

Tensor CudaBackend::softmax(const Tensor& input, int64_t dim, bool log) {
    const char* name = log ? "log_softmax" : "softmax";
    set_device(device_index_, name);
    const Tensor x = dense(input);
    Tensor y = empty(x.shape(), x.dtype(), x.device());
    if (x.numel() == 0) return y;
    const DimView l = view_around_dim(x.shape(), dim);
    ENGINE_DISPATCH_FLOATING(x.dtype(), name, [&] {
        using T = scalar_t;
        with_log(log, [&](auto tag) {
            constexpr bool Log = decltype(tag)::value;
            if (l.inner == 1) {
                launch(name, x.shape(), rows_config(device_index_, l.outer, l.size), softmax_rows_kernel<T, Log>,
                       x.data<T>(), y.data<T>(), l.outer, l.size);
            } else {
                launch(name, x.shape(), config_1d(device_index_, l.outer * l.inner), softmax_cols_kernel<T, Log>,
                       x.data<T>(), y.data<T>(), l.outer, l.size, l.inner);
            }
        });
    });
    return y;
}

Tensor CudaBackend::softmax_backward(const Tensor& y_in, const Tensor& grad_in, int64_t dim, bool log) {
    const char* name = log ? "log_softmax_backward" : "softmax_backward";
    set_device(device_index_, name);
    const Tensor y = dense(y_in), g = dense(grad_in);
    Tensor gx = empty(y.shape(), y.dtype(), y.device());
    if (y.numel() == 0) return gx;
    const DimView l = view_around_dim(y.shape(), dim);
    ENGINE_DISPATCH_FLOATING(y.dtype(), name, [&] {
        using T = scalar_t;
        with_log(log, [&](auto tag) {
            constexpr bool Log = decltype(tag)::value;
            if (l.inner == 1) {
                launch(name, y.shape(), rows_config(device_index_, l.outer, l.size),
                       softmax_backward_rows_kernel<T, Log>, y.data<T>(), g.data<T>(), gx.data<T>(), l.outer, l.size);
            } else {
                launch(name, y.shape(), config_1d(device_index_, l.outer * l.inner),
                       softmax_backward_cols_kernel<T, Log>, y.data<T>(), g.data<T>(), gx.data<T>(), l.outer, l.size,
                       l.inner);
            }
        });
    });
    return gx;
}

}  // namespace engine::cuda
