// The engine's op API: what models, layers, losses and attribution code call. Every op validates its inputs
// (shapes, dtypes, devices, index ranges) and throws an engine::Error that names the op and the shapes; every
// differentiable op records its backward when an input requires grad. Semantics follow PyTorch's functions of
// the same name unless a comment says otherwise.
#pragma once

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "kernels/factories.h"
#include "kernels/params.h"
#include "runtime/generator.h"
#include "runtime/tensor.h"

namespace engine {

// ---------------------------------------------------------------- elementwise (autograd/functions/elementwise.cpp)
// Binary ops broadcast (NumPy rules) and promote dtypes (float64 > float32 > int64 > int32 > uint8 > bool).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Scalar forms keep the tensor's dtype (a float scalar on an integer tensor gives float32).
Tensor add(const Tensor& a, double s);
Tensor sub(const Tensor& a, double s);
Tensor rsub(const Tensor& a, double s);  // s - a
Tensor mul(const Tensor& a, double s);
Tensor div(const Tensor& a, double s);
Tensor rdiv(const Tensor& a, double s);  // s / a
Tensor pow(const Tensor& a, double exponent);
Tensor rpow(const Tensor& a, double base);  // base ^ a

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // gradient 0
Tensor relu(const Tensor& x);  // gradient 0 at 0, as PyTorch
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor floor(const Tensor& x);  // gradient 0
Tensor ceil(const Tensor& x);   // gradient 0
Tensor round(const Tensor& x);  // gradient 0; halves to even
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);

// Comparisons give bool tensors and are not differentiable.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double s);
Tensor ne(const Tensor& a, double s);
Tensor lt(const Tensor& a, double s);
Tensor le(const Tensor& a, double s);
Tensor gt(const Tensor& a, double s);
Tensor ge(const Tensor& a, double s);

// cond: bool (or uint8) tensor; differentiable w.r.t. a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, double b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);

// In place, without autograd (refused on tensors that require grad while grad mode is on): a op= b, b
// broadcast to a's shape.
Tensor& add_(Tensor& a, const Tensor& b);
Tensor& mul_(Tensor& a, const Tensor& b);
Tensor& mul_(Tensor& a, double s);

// ---------------------------------------------------------------- reductions (autograd/functions/reduce.cpp)
// dims may be negative; empty means all dims.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Over all elements; the gradient is shared evenly among ties.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
// Along one dim: values and int64 indices; the gradient flows to the selected index.
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1.0, bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, double correction = 1.0, bool keepdim = false);

// ---------------------------------------------------------------- linear algebra (autograd/functions/linalg.cpp)
// torch.matmul: 1-D operands are promoted and squeezed back, batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., in) @ weight(out, in)^T + bias(out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---------------------------------------------------------------- convolution (autograd/functions/conv.cpp)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);
// weight (C_in, C_out/groups, KH, KW), as nn.ConvTranspose2d. output_padding < stride (or dilation).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                        int64_t output_padding_h = 0, int64_t output_padding_w = 0);

// ---------------------------------------------------------------- pooling (autograd/functions/pool.cpp)
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p);
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p);
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// ---------------------------------------------------------------- normalization (autograd/functions/batch_norm.cpp)
// x (N,C,...). In training, batch statistics normalise x and update the running stats in place (when defined).
Tensor batch_norm(const Tensor& x, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum = 0.1, double eps = 1e-5);

// ---------------------------------------------------------------- softmax and losses (autograd/functions/softmax.cpp, loss.cpp)
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// log_probs (N,C) or (N,C,d1,...), target int64 (N) or (N,d1,...); mean reduction divides by the summed
// weights of the non-ignored targets.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);
// Multi-label loss; target has x's shape with values in [0, 1]; differentiable w.r.t. x and target.
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& target, const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);

// ---------------------------------------------------------------- resampling (autograd/functions/interpolate.cpp)
// To an explicit size, or by scale factors (then out = floor(in * scale)).
Tensor interpolate(const Tensor& x, int64_t out_h, int64_t out_w, InterpMode mode, bool align_corners = false);
Tensor interpolate_scale(const Tensor& x, double scale_h, double scale_w, InterpMode mode,
                         bool align_corners = false);

// ---------------------------------------------------------------- shape ops (autograd/functions/shape_ops.cpp)
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);
// Views of x, as Tensor::split: pieces of split_size (the last may be smaller), or of the given sizes.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode = PadMode::Constant, double value = 0.0);

// ---------------------------------------------------------------- indexing (autograd/functions/index_ops.cpp)
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Out-of-place torch.scatter / scatter_add: a copy of self with src written (added) at index along dim.
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, double value);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// int64 (..., num_classes); num_classes -1 uses max(index) + 1. Not differentiable.
Tensor one_hot(const Tensor& index, int64_t num_classes = -1);

// ---------------------------------------------------------------- randomness (autograd/functions/random.cpp)
// Same values on every backend for the same generator state (Philox, see runtime/philox.h).
Tensor rand(const Shape& shape, Generator& gen = default_generator(), DType dtype = DType::Float32,
            Device device = Device::cpu());
Tensor randn(const Shape& shape, Generator& gen = default_generator(), DType dtype = DType::Float32,
             Device device = Device::cpu());
Tensor uniform(const Shape& shape, double low, double high, Generator& gen = default_generator(),
               DType dtype = DType::Float32, Device device = Device::cpu());
// 1 with probability p, else 0, in dtype.
Tensor bernoulli(const Shape& shape, double p, Generator& gen = default_generator(), DType dtype = DType::Float32,
                 Device device = Device::cpu());
// Zeroes elements with probability p and scales the rest by 1/(1-p) in training; identity otherwise.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen = default_generator());

// ---------------------------------------------------------------- optimizer steps (autograd/functions/optim_steps.cpp)
// In place, under no grad; param, grad and state tensors share shape, dtype and device.
void sgd_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p, bool first_step);
void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
               int64_t step, const AdamParams& p);

// ---------------------------------------------------------------- checks shared by the op implementations
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& t, const char* what = "input");
void check_dim(const char* op, const Tensor& t, int64_t ndim, const char* what = "input");
// Normalises, sorts and de-duplicates reduction dims.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

}  // namespace engine
