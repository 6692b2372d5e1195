// CUDA losses: negative log-likelihood over (N, C, d1, ...) with class weights and ignore_index, and binary
// cross-entropy with logits with weight / pos_weight, as the CPU backend computes them. NLL sums accumulate in
// double per block of kLossChunk targets, and one more block merges the partials in order (deterministic).
// Out-of-range targets are found on the device (an atomic minimum of the bad positions) and reported after the
// kernel with the CPU backend's message.
#include "runtime/cuda_api.h"

#include <limits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/reduce.cuh"
#include "kernels/nll_layout.h"
#include "kernels/scalar_math.h"

namespace engine::cuda {
namespace {

constexpr int64_t kLossChunk = 4096;

struct LossWeight {
    double loss, weight;
};

// The warp shuffle of block_reduce (reduce.cuh) for this accumulator, found there by argument-dependent lookup. Its
// fields go through the scalar shuffle of reduce.cuh, which this overload hides from unqualified lookup here.
__device__ inline LossWeight shfl_down(LossWeight v, int delta) {
    return {cuda::shfl_down(v.loss, delta), cuda::shfl_down(v.weight, delta)};
}

struct LossWeightSum {
    using Acc = LossWeight;
    __device__ static Acc identity() { return {0.0, 0.0}; }
    __device__ static Acc merge(Acc a, Acc b) { return {a.loss + b.loss, a.weight + b.weight}; }
};

__device__ inline void note_bad_target(int64_t* first_bad, int64_t position) {
    atomicMin(reinterpret_cast<unsigned long long*>(first_bad), static_cast<unsigned long long>(position));
}

// Block b reduces targets [b * kLossChunk, (b + 1) * kLossChunk) into partial[b]; for Reduction::None it also
// writes each target's loss.
template <class T, class I>
__global__ void nll_forward_kernel(const T* lp, const I* target, const T* weight, int64_t count, int64_t classes,
                                   int64_t spatial, int64_t ignore_index, bool store_each, T* out,
                                   LossWeight* partial, int64_t* first_bad) {
    __shared__ LossWeight scratch[kWarp];
    const int64_t begin = blockIdx.x * kLossChunk;
    const int64_t end = begin + kLossChunk < count ? begin + kLossChunk : count;
    LossWeight acc = {0.0, 0.0};
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
        const int64_t cls = static_cast<int64_t>(target[i]);
        T value = T(0);
        if (cls != ignore_index) {
            if (cls < 0 || cls >= classes) {
                note_bad_target(first_bad, i);
                continue;
            }
            const int64_t n = i / spatial, s = i % spatial;
            const T wt = weight ? weight[cls] : T(1);
            value = -wt * lp[(n * classes + cls) * spatial + s];
            acc.weight += static_cast<double>(wt);
        }
        if (store_each) out[i] = value;
        acc.loss += static_cast<double>(value);
    }
    acc = block_reduce<LossWeightSum>(acc, scratch);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// One block: merges the partials in a fixed order and writes the reduced loss and the total weight.
template <class T>
__global__ void nll_finish_kernel(const LossWeight* partial, int64_t blocks, Reduction reduction, T* out,
                                  T* total_weight) {
    __shared__ LossWeight scratch[kWarp];
    LossWeight acc = {0.0, 0.0};
    for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x) acc = LossWeightSum::merge(acc, partial[b]);
    acc = block_reduce<LossWeightSum>(acc, scratch);
    if (threadIdx.x != 0) return;
    if (reduction == Reduction::Sum) out[0] = static_cast<T>(acc.loss);
    if (reduction == Reduction::Mean) out[0] = static_cast<T>(acc.loss / acc.weight);  // 0/0 = nan, as PyTorch
    total_weight[0] = static_cast<T>(acc.weight);
}

template <class T, class I>
__global__ void nll_backward_kernel(const T* grad, const I* target, const T* weight, const T* total_weight,
                                    int64_t count, int64_t classes, int64_t spatial, int64_t ignore_index,
                                    Reduction reduction, T* gx, int64_t* first_bad) {
    for (int64_t i = global_thread(); i < count; i += grid_stride()) {
        const int64_t cls = static_cast<int64_t>(target[i]);
        if (cls == ignore_index) continue;
        if (cls < 0 || cls >= classes) {
            note_bad_target(first_bad, i);
            continue;
        }
        const T scale = reduction == Reduction::Mean ? T(1) / total_weight[0] : T(1);
        const T gi = reduction == Reduction::None ? grad[i] : grad[0] * scale;
        const int64_t n = i / spatial, s = i % spatial;
        gx[(n * classes + cls) * spatial + s] = -(weight ? weight[cls] : T(1)) * gi;
    }
}

// The device flag of the first bad target position: starts at `count` (no bad target), kernels lower it.
Tensor bad_target_flag(int64_t count, Device device) {
    return full({}, static_cast<double>(count), DType::Int64, device);
}

// Throws the CPU backend's error for the first out-of-range target, if the kernel saw one.
void check_targets(const Tensor& first_bad, const Tensor& target, int64_t classes, int64_t ignore_index) {
    const int64_t at = read_element<int64_t>(first_bad);
    if (at >= target.numel()) return;
    const int64_t t = read_element<int64_t>(dense(target), at);
    throw_nll_target_out_of_range(t, at, target.shape(), classes, ignore_index);
}

// loss = w * ((1 - t) * x + (1 + (pw - 1) * t) * softplus(-x)), softplus(-x) = log1p(exp(-|x|)) + max(-x, 0).
template <class T>
struct BceLoss {
    __device__ T operator()(T x, T t, T w, T pw) const {
        const T softplus_neg = scalar::log1p(scalar::exp(-scalar::abs(x))) + (-x > T(0) ? -x : T(0));
        return w * ((T(1) - t) * x + (T(1) + (pw - T(1)) * t) * softplus_neg);
    }
};

// d loss / dx = w * ((1 + (pw - 1) * t) * sigmoid(x) - pw * t).
template <class T>
struct BceGrad {
    T scale;
    __device__ T operator()(T x, T t, T w, T pw, T g) const {
        const T sig = T(1) / (T(1) + scalar::exp(-x));
        return w * ((T(1) + (pw - T(1)) * t) * sig - pw * t) * g * scale;
    }
};

}  // namespace

std::pair<Tensor, Tensor> CudaBackend::nll_loss_forward(const Tensor& log_probs, const Tensor& target,
                                                        const Tensor& weight, int64_t ignore_index,
                                                        Reduction reduction) {
    set_device(device_index_, "nll_loss");
    const Tensor lp = dense(log_probs), t = dense(target);
    const Tensor w = weight.defined() ? dense(weight) : Tensor();
    const NllLayout l = nll_layout(lp.shape());
    const int64_t count = l.batch * l.spatial;
    const int64_t blocks = (count + kLossChunk - 1) / kLossChunk;
    Tensor out = empty(reduction == Reduction::None ? t.shape() : Shape{}, lp.dtype(), lp.device());
    Tensor total_weight = empty({}, lp.dtype(), lp.device());
    Tensor first_bad = bad_target_flag(count, lp.device());
    Tensor partial = empty({std::max<int64_t>(blocks, 1) * static_cast<int64_t>(sizeof(LossWeight))}, DType::UInt8,
                           lp.device());
    ENGINE_DISPATCH_FLOATING(lp.dtype(), "nll_loss", [&] {
        using T = scalar_t;
        ENGINE_DISPATCH_INDEX(t.dtype(), "nll_loss", [&] {
            auto* partials = static_cast<LossWeight*>(partial.raw_data());
            if (blocks > 0) {
                LaunchConfig cfg;
                cfg.grid = dim3(static_cast<unsigned>(blocks));
                cfg.block = dim3(kReduceThreads);
                cfg.stream = current_stream(device_index_);
                launch("nll_loss", lp.shape(), cfg, nll_forward_kernel<T, index_t>, lp.data<T>(), t.data<index_t>(),
                       w.defined() ? w.data<T>() : nullptr, count, l.classes, l.spatial, ignore_index,
                       reduction == Reduction::None, out.data<T>(), partials, first_bad.data<int64_t>());
            }
            LaunchConfig one;
            one.grid = dim3(1);
            one.block = dim3(kReduceThreads);
            one.stream = current_stream(device_index_);
            launch("nll_loss", lp.shape(), one, nll_finish_kernel<T>, static_cast<const LossWeight*>(partials), blocks,
                   reduction, out.data<T>(), total_weight.data<T>());
        });
    });
    check_targets(first_bad, t, l.classes, ignore_index);
    return {out, total_weight};
}

Tensor CudaBackend::nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target,
                                      const Tensor& weight, int64_t ignore_index, Reduction reduction,
                                      const Tensor& total_weight) {
    set_device(device_index_, "nll_loss_backward");
    const Tensor g = dense(grad_loss), t = dense(target);
    const Tensor w = weight.defined() ? dense(weight) : Tensor();
    const NllLayout l = nll_layout(log_probs_shape);
    const int64_t count = l.batch * l.spatial;
    Tensor gx = zeros(log_probs_shape, g.dtype(), g.device());
    Tensor first_bad = bad_target_flag(count, g.device());
    if (count == 0) return gx;
    ENGINE_DISPATCH_FLOATING(g.dtype(), "nll_loss_backward", [&] {
        using T = scalar_t;
        ENGINE_DISPATCH_INDEX(t.dtype(), "nll_loss_backward", [&] {
            launch("nll_loss_backward", log_probs_shape, config_1d(device_index_, count),
                   nll_backward_kernel<T, index_t>, g.data<T>(), t.data<index_t>(), w.defined() ? w.data<T>() : nullptr,
                   total_weight.data<T>(), count, l.classes, l.spatial, ignore_index, reduction, gx.data<T>(),
                   first_bad.data<int64_t>());
        });
    });
    check_targets(first_bad, t, l.classes, ignore_index);
    return gx;
}

Tensor CudaBackend::bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight,
                                            const Tensor& pos_weight, Reduction reduction) {
    const char* name = "binary_cross_entropy_with_logits";
    set_device(device_index_, name);
    Tensor loss = empty(x.shape(), x.dtype(), x.device());
    const Tensor one = full({}, 1.0, x.dtype(), x.device());
    const Tensor& w = weight.defined() ? weight : one;
    const Tensor& pw = pos_weight.defined() ? pos_weight : one;
    ENGINE_DISPATCH_FLOATING(x.dtype(), name, [&] {
        using T = scalar_t;
        map<T, T, T, T, T>(name, device_index_, loss, BceLoss<T>{}, {&x, &target, &w, &pw});
    });
    if (reduction == Reduction::None) return loss;
    return reduce(reduction == Reduction::Mean ? ReduceOp::Mean : ReduceOp::Sum, loss, {}, false);
}

Tensor CudaBackend::bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target,
                                             const Tensor& weight, const Tensor& pos_weight, Reduction reduction) {
    const char* name = "binary_cross_entropy_with_logits_backward";
    set_device(device_index_, name);
    Tensor gx = empty(x.shape(), x.dtype(), x.device());
    const Tensor one = full({}, 1.0, x.dtype(), x.device());
    const Tensor& w = weight.defined() ? weight : one;
    const Tensor& pw = pos_weight.defined() ? pos_weight : one;
    ENGINE_DISPATCH_FLOATING(x.dtype(), name, [&] {
        using T = scalar_t;
        const T scale = reduction == Reduction::Mean && x.numel() > 0 ? T(1) / static_cast<T>(x.numel()) : T(1);
        map<T, T, T, T, T, T>(name, device_index_, gx, BceGrad<T>{scale}, {&x, &target, &w, &pw, &grad_loss});
    });
    return gx;
}

}  // namespace engine::cuda
