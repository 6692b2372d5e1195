// The kernel interface every backend implements: one virtual per op, one dispatch (backend_for) that looks
// at a tensor's device. The CPU backend implements all of it; the CUDA backend overrides what it supports and
// everything else throws "not implemented on <backend>", naming the op.
//
// Contract for every method (the autograd layer guarantees the preconditions, so backends do not re-check):
//  - inputs are on this backend's device, have the dtypes the op documents, and valid shapes;
//  - inputs may have any strides (views, broadcasts with stride 0) unless a method says "contiguous";
//  - results are new contiguous tensors on this device; backward methods return fresh gradients and never
//    accumulate into an argument (only the autograd engine sums gradients);
//  - methods whose name ends in _ (and the *_step methods) write into their first argument(s) in place.
#pragma once

#include <utility>
#include <vector>

#include "kernels/factories.h"
#include "kernels/params.h"
#include "runtime/tensor.h"

namespace engine {

struct BatchNormForward {
    Tensor y;
    Tensor save_mean;    // (C): batch mean in training, running mean in eval
    Tensor save_invstd;  // (C): 1/sqrt(var + eps) of the statistics used
};

struct BatchNormGrads {
    Tensor grad_x, grad_weight, grad_bias;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;

    // --- memory
    virtual void fill_(Tensor& out, double value);
    // dst and src have the same shape (src may be a broadcast view); converts dtype.
    virtual void copy_(Tensor& dst, const Tensor& src);

    // --- elementwise. Binary ops: a and b have the same dtype and broadcast together.
    virtual Tensor unary(UnaryOp op, const Tensor& x);
    // Gradient of a unary op given its input x, output y and the output gradient (same shapes).
    virtual Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y);
    virtual Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
    // op(a, s), or op(s, a) when scalar_first.
    virtual Tensor binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first);
    // a = op(a, b) with b broadcast to a's shape.
    virtual void binary_(BinaryOp op, Tensor& a, const Tensor& b);
    virtual Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);  // -> bool
    virtual Tensor compare_scalar(CompareOp op, const Tensor& a, double s);  // -> bool
    // cond is bool; a and b have the same dtype; all three broadcast together.
    virtual Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
    // Bounds may be -inf / +inf for "none".
    virtual Tensor clamp(const Tensor& x, double lo, double hi);
    // grad_y where lo <= x <= hi, else 0 (PyTorch's convention at the bounds).
    virtual Tensor clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y);

    // --- reductions. dims: sorted, unique, non-negative; empty means all dims.
    virtual Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
    // Max/Min along one dim: values and int64 indices (the first occurrence on ties).
    virtual std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim);
    // Variance with Bessel-style `correction` (1 = unbiased) over dims.
    virtual Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim);

    // --- linear algebra. a (B,M,K) or (M,K); b (B,K,N) or (K,N) with the same rank; float32/float64.
    virtual Tensor matmul(const Tensor& a, const Tensor& b);

    // --- convolution. x (N,C,H,W), w (O,C/groups,KH,KW), bias (O) or undefined.
    virtual Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p);
    // Gradient w.r.t. the input, of shape x_shape (which may exceed the forward formula's minimum, as
    // transposed convolution's output_padding requires).
    virtual Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                                        const Conv2dParams& p);
    virtual Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                                          const Conv2dParams& p);

    // --- pooling. x (N,C,H,W). Indices are int64 offsets into each (H,W) input plane, as in PyTorch.
    virtual std::pair<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dParams& p);
    virtual Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape);
    virtual Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p);
    virtual Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, const Pool2dParams& p);
    virtual Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w);
    virtual Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape);

    // --- batch norm over dim 1 of x (N,C,...). weight/bias (C) or undefined; running stats (C) or undefined
    // (then training statistics are used in eval too). Training updates running stats in place with
    // momentum, using the unbiased batch variance, as PyTorch does.
    virtual BatchNormForward batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                Tensor& running_mean, Tensor& running_var, bool training,
                                                double momentum, double eps);
    virtual BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                               const Tensor& save_mean, const Tensor& save_invstd, bool training);

    // --- softmax along dim (log_softmax when `log`)
    virtual Tensor softmax(const Tensor& x, int64_t dim, bool log);
    virtual Tensor softmax_backward(const Tensor& y, const Tensor& grad_y, int64_t dim, bool log);

    // --- losses. log_probs (N,C) or (N,C,d1,...); target int64 (N) or (N,d1,...); weight (C) or undefined.
    // Targets outside [0, C) other than ignore_index throw, naming the first bad position.
    // Returns the loss (shape () or, for Reduction::None, target's shape) and the total weight (shape ()).
    virtual std::pair<Tensor, Tensor> nll_loss_forward(const Tensor& log_probs, const Tensor& target,
                                                       const Tensor& weight, int64_t ignore_index,
                                                       Reduction reduction);
    virtual Tensor nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target,
                                     const Tensor& weight, int64_t ignore_index, Reduction reduction,
                                     const Tensor& total_weight);
    // x, target same shape; weight broadcasts to x or undefined; pos_weight broadcasts along the last dim.
    virtual Tensor bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight,
                                           const Tensor& pos_weight, Reduction reduction);
    virtual Tensor bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target,
                                            const Tensor& weight, const Tensor& pos_weight, Reduction reduction);

    // --- resampling of (N,C,H,W) to (N,C,out_h,out_w)
    virtual Tensor interpolate_forward(const Tensor& x, int64_t out_h, int64_t out_w, const InterpParams& p);
    virtual Tensor interpolate_backward(const Tensor& grad_y, const Shape& x_shape, const InterpParams& p);

    // --- shape ops. pads: PyTorch order, (left, right) of the last dim first; negative values crop.
    // Reflect/Replicate pad only the last two dims.
    virtual Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
    virtual Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value);
    virtual Tensor pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads,
                                PadMode mode);

    // --- indexing. index tensors are int64 or int32 and are bounds-checked (Error naming the bad index).
    virtual Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
    // A copy of self with src scattered (or added) at index along dim.
    virtual Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                           ScatterReduce reduce);
    virtual Tensor scatter_value(const Tensor& self, int64_t dim, const Tensor& index, double value);
    virtual Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
    // A copy of self with src's slices added at index along dim.
    virtual Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);

    // --- randomness: contiguous out; element i uses Philox counter (offset + i) under key `seed`.
    virtual void random_(Tensor& out, RandomKind kind, double a, double b, uint64_t seed, uint64_t offset);

    // --- optimizer steps, in place on contiguous param and state tensors of param's shape and dtype.
    // momentum_buffer is used when p.momentum != 0; `first_step` initialises it from the gradient.
    virtual void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                           bool first_step);
    // `step` counts from 1. max_exp_avg_sq is used when p.amsgrad.
    virtual void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                            Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p);

protected:
    [[noreturn]] void not_implemented(const char* op) const;
};

Backend& cpu_backend();
// The backend for a device; throws DeviceError when that device is absent.
Backend& backend_for(Device device);
inline Backend& backend_for(const Tensor& t) { return backend_for(t.device()); }

}  // namespace engine
