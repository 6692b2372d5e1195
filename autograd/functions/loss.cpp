// Losses: nll_loss (gradient from the backend kernel), cross_entropy (log_softmax + nll_loss, so its gradient
// comes from composition) and binary_cross_entropy_with_logits (gradient w.r.t. the logits from the kernel,
// w.r.t. the target by composition). Class weights and pos_weight are not differentiated, as in PyTorch.
#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

// Validates (log_probs, target, weight) for nll_loss / cross_entropy, naming `op`; returns the target as an
// index tensor the kernels accept and the weight in the input's dtype, without autograd history.
std::pair<Tensor, Tensor> checked_target_and_weight(const char* op, const Tensor& input, const Tensor& target,
                                                    const Tensor& weight) {
    check_floating(op, input);
    ENGINE_CHECK(target.defined(), op, ": target is undefined");
    check_same_device(op, input, target);
    const DType tt = target.dtype();
    ENGINE_CHECK(tt == DType::Int64 || tt == DType::Int32 || tt == DType::UInt8, op,
                 ": target must hold class indices (int64), got ", dtype_name(tt));
    ENGINE_CHECK(input.dim() >= 1, op, ": input must have a class dim, got shape ", shape_str(input.shape()));
    const Shape& in = input.shape();
    const Shape& ts = target.shape();
    if (input.dim() == 1) {
        ENGINE_CHECK(target.dim() == 0, op, ": for input of shape ", shape_str(in),
                     " the target must be a 0-d class index, got shape ", shape_str(ts));
    } else {
        ENGINE_CHECK(target.dim() >= 1 && ts[0] == in[0], op, ": expected input batch size (", in[0],
                     ") to match target batch size; input shape ", shape_str(in), ", target shape ", shape_str(ts));
        Shape expected(in.begin() + 2, in.end());
        expected.insert(expected.begin(), in[0]);
        ENGINE_CHECK(ts == expected, op, ": expected target of shape ", shape_str(expected), " for input of shape ",
                     shape_str(in), ", got ", shape_str(ts));
    }
    Tensor w;
    if (weight.defined()) {
        const int64_t classes = input.dim() == 1 ? in[0] : in[1];
        check_floating(op, weight, "weight");
        check_same_device(op, input, weight);
        ENGINE_CHECK(weight.dim() == 1 && weight.shape()[0] == classes, op, ": weight must have one value per class (",
                     classes, "), got shape ", shape_str(weight.shape()));
        w = weight.detach().to(input.dtype());
    }
    return {target.detach().to(DType::Int64), w};  // the backend contract: int64 targets
}

Tensor nll_loss_checked(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                        Reduction reduction) {
    // A single sample (C) with a 0-d target is the batch of one.
    const bool single = input.dim() == 1;
    const Tensor lp = single ? input.unsqueeze(0) : input;
    const Tensor t = single ? target.unsqueeze(0) : target;
    auto [loss, total_weight] = backend_for(lp).nll_loss_forward(lp, t, weight, ignore_index, reduction);
    if (needs_grad({lp})) {
        record("nll_loss", {lp}, {loss},
               [shape = lp.shape(), ts = SavedTensor(t), ws = SavedTensor(weight), tw = SavedTensor(total_weight),
                ignore_index, reduction](const TensorList& g, const std::vector<bool>&) {
                   return TensorList{backend_for(g[0]).nll_loss_backward(g[0], shape, ts.get(), ws.get(), ignore_index,
                                                                         reduction, tw.get())};
               });
    }
    return single && reduction == Reduction::None ? loss.squeeze(0) : loss;
}

bool broadcasts_to(const Shape& from, const Shape& to) {
    if (from.size() > to.size()) return false;
    const size_t lead = to.size() - from.size();
    for (size_t i = 0; i < from.size(); ++i)
        if (from[i] != 1 && from[i] != to[lead + i]) return false;
    return true;
}

// softplus(-x) = -log(sigmoid(x)), computed without overflow.
Tensor softplus_neg(const Tensor& x) { return add(log1p(exp(neg(abs(x)))), relu(neg(x))); }

}  // namespace

Tensor nll_loss(const Tensor& log_probs_in, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                Reduction reduction) {
    const Tensor log_probs = autocast::float32_input(log_probs_in);
    auto [t, w] = checked_target_and_weight("nll_loss", log_probs, target, weight);
    return nll_loss_checked(log_probs, t, w, ignore_index, reduction);
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     Reduction reduction) {
    const Tensor logits = autocast::float32_input(logits_in);
    auto [t, w] = checked_target_and_weight("cross_entropy", logits, target, weight);
    return nll_loss_checked(log_softmax(logits, logits.dim() == 1 ? 0 : 1), t, w, ignore_index, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& x_in, const Tensor& target_in, const Tensor& weight_in,
                                        const Tensor& pos_weight_in, Reduction reduction) {
    const Tensor x = autocast::float32_input(x_in);
    const char* op = "binary_cross_entropy_with_logits";
    check_floating(op, x);
    check_floating(op, target_in, "target");
    check_same_device(op, x, target_in);
    ENGINE_CHECK(target_in.shape() == x.shape(), op, ": target shape ", shape_str(target_in.shape()),
                 " must be the same as the input shape ", shape_str(x.shape()));
    auto optional_weight = [&](const Tensor& w, const char* what) {
        if (!w.defined()) return Tensor();
        check_floating(op, w, what);
        check_same_device(op, x, w);
        ENGINE_CHECK(broadcasts_to(w.shape(), x.shape()), op, ": ", what, " of shape ", shape_str(w.shape()),
                     " does not broadcast to the input shape ", shape_str(x.shape()));
        return w.detach().to(x.dtype());
    };
    const Tensor weight = optional_weight(weight_in, "weight");
    const Tensor pos_weight = optional_weight(pos_weight_in, "pos_weight");
    const Tensor target = target_in.to(x.dtype());

    Tensor loss = backend_for(x).bce_with_logits_forward(x, target, weight, pos_weight, reduction);
    if (needs_grad({x, target})) {
        record(op, {x, target}, {loss},
               [reduction, xs = SavedTensor(x), ts = SavedTensor(target), ws = SavedTensor(weight),
                ps = SavedTensor(pos_weight)](const TensorList& g, const std::vector<bool>& needs) {
                   const Tensor xv = xs.get(), tv = ts.get(), wv = ws.get(), pv = ps.get();
                   Tensor gx, gt;
                   if (needs[0]) gx = backend_for(xv).bce_with_logits_backward(g[0], xv, tv, wv, pv, reduction);
                   if (needs[1]) {
                       // d loss / d t = w * ((pw - 1) * softplus(-x) - x)
                       gt = pv.defined() ? sub(mul(sub(pv, 1.0), softplus_neg(xv)), xv) : neg(xv);
                       if (wv.defined()) gt = mul(gt, wv);
                       gt = mul(gt, g[0]);
                       if (reduction == Reduction::Mean) gt = div(gt, static_cast<double>(xv.numel()));
                   }
                   return TensorList{gx, gt};
               });
    }
    return loss;
}

}  // namespace engine
