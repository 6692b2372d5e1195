// Optimizer steps (torch.optim.SGD, Adam/AdamW) on one parameter: hyperparameter and tensor checks, then the
// backend's in-place update under no-grad. Non-contiguous parameters or state are updated through contiguous
// copies that are written back.
#include <cmath>
#include <vector>

#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

void check_companion(const char* op, const Tensor& param, const Tensor& t, const char* what) {
    ENGINE_CHECK(t.defined(), op, ": ", what, " is undefined");
    check_same_device(op, param, t);
    ENGINE_CHECK(t.dtype() == param.dtype(), op, ": ", what, " has dtype ", dtype_name(t.dtype()),
                 " but the parameter has ", dtype_name(param.dtype()));
    ENGINE_CHECK(t.shape() == param.shape(), op, ": ", what, " has shape ", shape_str(t.shape()),
                 " but the parameter has shape ", shape_str(param.shape()));
}

// A contiguous alias of an in-place operand (the tensor itself when already contiguous) and write-back.
struct InPlaceOperand {
    Tensor target, work;
    explicit InPlaceOperand(const Tensor& t)
        : target(t.defined() ? t.detach() : Tensor()),
          work(!t.defined() || t.is_contiguous() ? target : target.contiguous()) {}
    void finish() {
        if (!target.defined()) return;
        if (!work.is_same(target)) target.copy_(work);
        target.bump_version();
    }
};

}  // namespace

void sgd_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p, bool first_step) {
    const char* op = "sgd_step";
    check_floating(op, param, "param");
    check_companion(op, param, grad, "grad");
    ENGINE_CHECK(p.lr >= 0, op, ": invalid learning rate ", p.lr);
    ENGINE_CHECK(p.momentum >= 0, op, ": invalid momentum value ", p.momentum);
    ENGINE_CHECK(p.weight_decay >= 0, op, ": invalid weight_decay value ", p.weight_decay);
    ENGINE_CHECK(!p.nesterov || (p.momentum > 0 && p.dampening == 0), op,
                 ": nesterov momentum requires a momentum and zero dampening (got momentum ", p.momentum,
                 ", dampening ", p.dampening, ")");
    const bool uses_buffer = p.momentum != 0.0;
    if (uses_buffer) check_companion(op, param, momentum_buffer, "momentum_buffer");

    NoGradGuard no_grad;
    InPlaceOperand w(param), buf(uses_buffer ? momentum_buffer : Tensor());
    backend_for(param).sgd_step_(w.work, grad.detach(), buf.work, p, first_step);
    w.finish();
    buf.finish();
}

void adam_step(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
               int64_t step, const AdamParams& p) {
    const char* op = p.decoupled_weight_decay ? "adamw_step" : "adam_step";
    check_floating(op, param, "param");
    check_companion(op, param, grad, "grad");
    check_companion(op, param, exp_avg, "exp_avg");
    check_companion(op, param, exp_avg_sq, "exp_avg_sq");
    if (p.amsgrad) check_companion(op, param, max_exp_avg_sq, "max_exp_avg_sq");
    ENGINE_CHECK(step >= 1, op, ": step counts from 1, got ", step);
    ENGINE_CHECK(p.lr >= 0, op, ": invalid learning rate ", p.lr);
    ENGINE_CHECK(p.eps >= 0, op, ": invalid epsilon value ", p.eps);
    ENGINE_CHECK(p.beta1 >= 0 && p.beta1 < 1, op, ": invalid beta parameter at index 0: ", p.beta1);
    ENGINE_CHECK(p.beta2 >= 0 && p.beta2 < 1, op, ": invalid beta parameter at index 1: ", p.beta2);
    ENGINE_CHECK(p.weight_decay >= 0, op, ": invalid weight_decay value ", p.weight_decay);

    NoGradGuard no_grad;
    InPlaceOperand w(param), m(exp_avg), v(exp_avg_sq), v_max(p.amsgrad ? max_exp_avg_sq : Tensor());
    backend_for(param).adam_step_(w.work, grad.detach(), m.work, v.work, v_max.work, step, p);
    w.finish();
    m.finish();
    v.finish();
    v_max.finish();
}

}  // namespace engine
