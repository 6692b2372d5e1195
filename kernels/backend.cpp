// Defaults for every op: a backend that does not override an op reports it by name.
#include "kernels/backend.h"

#include "runtime/error.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace engine {

void Backend::not_implemented(const char* op) const {
    throw Error(detail::concat(op, ": not implemented on the ", name(), " backend"));
}

// clang-format off
void Backend::fill_(Tensor& out, double value) { not_implemented("fill_"); }
void Backend::copy_(Tensor& dst, const Tensor& src) { not_implemented("copy_"); }
Tensor Backend::unary(UnaryOp op, const Tensor& x) { not_implemented("unary"); }
Tensor Backend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y) { not_implemented("unary_backward"); }
Tensor Backend::binary(BinaryOp op, const Tensor& a, const Tensor& b) { not_implemented("binary"); }
Tensor Backend::binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first) { not_implemented("binary_scalar"); }
void Backend::binary_(BinaryOp op, Tensor& a, const Tensor& b) { not_implemented("binary_"); }
Tensor Backend::compare(CompareOp op, const Tensor& a, const Tensor& b) { not_implemented("compare"); }
Tensor Backend::compare_scalar(CompareOp op, const Tensor& a, double s) { not_implemented("compare_scalar"); }
Tensor Backend::where(const Tensor& cond, const Tensor& a, const Tensor& b) { not_implemented("where"); }
Tensor Backend::clamp(const Tensor& x, double lo, double hi) { not_implemented("clamp"); }
Tensor Backend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y) { not_implemented("clamp_backward"); }
Tensor Backend::reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) { not_implemented("reduce"); }
std::pair<Tensor, Tensor> Backend::reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) { not_implemented("reduce_with_index"); }
Tensor Backend::var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) { not_implemented("var"); }
Tensor Backend::matmul(const Tensor& a, const Tensor& b) { not_implemented("matmul"); }
Tensor Backend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) { not_implemented("conv2d_forward"); }
Tensor Backend::conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape, const Conv2dParams& p) { not_implemented("conv2d_backward_data"); }
Tensor Backend::conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape, const Conv2dParams& p) { not_implemented("conv2d_backward_weight"); }
std::pair<Tensor, Tensor> Backend::max_pool2d_forward(const Tensor& x, const Pool2dParams& p) { not_implemented("max_pool2d_forward"); }
Tensor Backend::max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape) { not_implemented("max_pool2d_backward"); }
Tensor Backend::avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) { not_implemented("avg_pool2d_forward"); }
Tensor Backend::avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, const Pool2dParams& p) { not_implemented("avg_pool2d_backward"); }
Tensor Backend::adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w) { not_implemented("adaptive_avg_pool2d_forward"); }
Tensor Backend::adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) { not_implemented("adaptive_avg_pool2d_backward"); }
BatchNormForward Backend::batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& running_mean, Tensor& running_var, bool training, double momentum, double eps) { not_implemented("batch_norm_forward"); }
BatchNormGrads Backend::batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& save_mean, const Tensor& save_invstd, bool training) { not_implemented("batch_norm_backward"); }
Tensor Backend::softmax(const Tensor& x, int64_t dim, bool log) { not_implemented("softmax"); }
Tensor Backend::softmax_backward(const Tensor& y, const Tensor& grad_y, int64_t dim, bool log) { not_implemented("softmax_backward"); }
std::pair<Tensor, Tensor> Backend::nll_loss_forward(const Tensor& log_probs, const Tensor& target, const Tensor& weight, int64_t ignore_index, Reduction reduction) { not_implemented("nll_loss_forward"); }
Tensor Backend::nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target, const Tensor& weight, int64_t ignore_index, Reduction reduction, const Tensor& total_weight) { not_implemented("nll_loss_backward"); }
Tensor Backend::bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& pos_weight, Reduction reduction) { not_implemented("bce_with_logits_forward"); }
Tensor Backend::bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& pos_weight, Reduction reduction) { not_implemented("bce_with_logits_backward"); }
Tensor Backend::interpolate_forward(const Tensor& x, int64_t out_h, int64_t out_w, const InterpParams& p) { not_implemented("interpolate_forward"); }
Tensor Backend::interpolate_backward(const Tensor& grad_y, const Shape& x_shape, const InterpParams& p) { not_implemented("interpolate_backward"); }
Tensor Backend::cat(const std::vector<Tensor>& xs, int64_t dim) { not_implemented("cat"); }
Tensor Backend::pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) { not_implemented("pad"); }
Tensor Backend::pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode) { not_implemented("pad_backward"); }
Tensor Backend::gather(const Tensor& x, int64_t dim, const Tensor& index) { not_implemented("gather"); }
Tensor Backend::scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, ScatterReduce reduce) { not_implemented("scatter"); }
Tensor Backend::scatter_value(const Tensor& self, int64_t dim, const Tensor& index, double value) { not_implemented("scatter_value"); }
Tensor Backend::index_select(const Tensor& x, int64_t dim, const Tensor& index) { not_implemented("index_select"); }
Tensor Backend::index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) { not_implemented("index_add"); }
void Backend::random_(Tensor& out, RandomKind kind, double a, double b, uint64_t seed, uint64_t offset) { not_implemented("random_"); }
void Backend::sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p, bool first_step) { not_implemented("sgd_step_"); }
void Backend::adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq, int64_t step, const AdamParams& p) { not_implemented("adam_step_"); }
// clang-format on

}  // namespace engine
