// batch_norm: normalisation over dim 1 of (N,C,...) with batch statistics (training, which also updates the
// running statistics in place) or running statistics (eval); differentiable w.r.t. x, weight and bias.
#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

void check_channel_param(const Tensor& x, const Tensor& t, const char* what) {
    if (!t.defined()) return;
    const int64_t channels = x.size(1);
    check_same_device("batch_norm", x, t);
    ENGINE_CHECK(t.dtype() == x.dtype(), "batch_norm: ", what, " has dtype ", dtype_name(t.dtype()),
                 " but the input has ", dtype_name(x.dtype()));
    ENGINE_CHECK(t.dim() == 1 && t.numel() == channels, "batch_norm: ", what, " should contain ", channels,
                 " elements (one per channel of input shape ", shape_str(x.shape()), ") but has shape ",
                 shape_str(t.shape()));
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, Tensor running_mean, Tensor running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
    const Tensor x = autocast::float32_input(x_in);
    check_floating("batch_norm", x);
    ENGINE_CHECK(x.dim() >= 2, "batch_norm: expected an input of shape (N, C, ...) with at least 2 dims, got shape ",
                 shape_str(x.shape()));
    check_channel_param(x, running_mean, "running_mean");
    check_channel_param(x, running_var, "running_var");
    check_channel_param(x, weight, "weight");
    check_channel_param(x, bias, "bias");
    ENGINE_CHECK(running_mean.defined() == running_var.defined(),
                 "batch_norm: running_mean and running_var must both be defined or both be undefined");
    ENGINE_CHECK(training || running_mean.defined(), "batch_norm: running_mean must be defined in evaluation mode");
    ENGINE_CHECK(eps >= 0, "batch_norm: eps must be non-negative, got ", eps);
    if (training) {
        int64_t per_channel = x.size(0);
        for (int64_t d = 2; d < x.dim(); ++d) per_channel *= x.size(d);
        ENGINE_CHECK(per_channel != 1,
                     "batch_norm: Expected more than 1 value per channel when training, got input size ",
                     shape_str(x.shape()));
    }

    BatchNormForward out;
    {
        // The running statistics are buffers: their in-place update is never part of the graph.
        NoGradGuard no_grad;
        out = backend_for(x).batch_norm_forward(x, weight, bias, running_mean, running_var, training, momentum, eps);
    }
    if (training && running_mean.defined() && x.numel() > 0) {
        running_mean.bump_version();
        running_var.bump_version();
    }
    if (needs_grad({x, weight, bias})) {
        record("batch_norm", {x, weight, bias}, {out.y},
               [training, xs = SavedTensor(x), ws = SavedTensor(weight), mean = out.save_mean,
                invstd = out.save_invstd](const TensorList& g, const std::vector<bool>& needs) {
                   const Tensor xv = xs.get(), wv = ws.get();
                   BatchNormGrads grads =
                       backend_for(g[0]).batch_norm_backward(g[0], xv, wv, mean, invstd, training);
                   return TensorList{needs[0] ? grads.grad_x : Tensor(), needs[1] ? grads.grad_weight : Tensor(),
                                     needs[2] ? grads.grad_bias : Tensor()};
               });
    }
    return out.y;
}

}  // namespace engine
