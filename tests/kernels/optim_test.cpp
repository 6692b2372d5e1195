// sgd_step / adam_step over several steps against a double re-implementation of torch.optim.SGD and
// torch.optim.Adam/AdamW (momentum, dampening, nesterov, weight decay, amsgrad), plus in-place semantics on
// non-contiguous parameters and the argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/test_util.h"

namespace engine {
namespace {

using test::all_close;
using test::random_tensor;

// torch.optim.SGD's update for one parameter.
struct RefSgd {
    std::vector<double> param, buf;
    bool has_buf = false;
    void step(const std::vector<double>& grad, const SgdParams& p) {
        for (size_t i = 0; i < param.size(); ++i) {
            double d = grad[i];
            if (p.weight_decay != 0) d += p.weight_decay * param[i];
            if (p.momentum != 0) {
                buf[i] = has_buf ? p.momentum * buf[i] + (1 - p.dampening) * d : d;
                d = p.nesterov ? d + p.momentum * buf[i] : buf[i];
            }
            param[i] -= p.lr * d;
        }
        has_buf = true;
    }
};

// torch.optim.Adam (decoupled_weight_decay = AdamW) for one parameter.
struct RefAdam {
    std::vector<double> param, m, v, v_max;
    void step(const std::vector<double>& grad, int64_t t, const AdamParams& p) {
        const double bc1 = 1 - std::pow(p.beta1, t), bc2 = 1 - std::pow(p.beta2, t);
        for (size_t i = 0; i < param.size(); ++i) {
            double g = grad[i];
            if (p.weight_decay != 0) {
                if (p.decoupled_weight_decay) {
                    param[i] *= 1 - p.lr * p.weight_decay;
                } else {
                    g += p.weight_decay * param[i];
                }
            }
            m[i] = p.beta1 * m[i] + (1 - p.beta1) * g;
            v[i] = p.beta2 * v[i] + (1 - p.beta2) * g * g;
            double second = v[i];
            if (p.amsgrad) {
                v_max[i] = std::max(v_max[i], v[i]);
                second = v_max[i];
            }
            const double denom = std::sqrt(second) / std::sqrt(bc2) + p.eps;
            param[i] -= p.lr / bc1 * m[i] / denom;
        }
    }
};

Tensor as_tensor(const std::vector<double>& v, const Shape& shape) { return from_vector<double>(v, shape); }

SgdParams sgd(double lr, double momentum, double dampening, double wd, bool nesterov) {
    SgdParams p;
    p.lr = lr;
    p.momentum = momentum;
    p.dampening = dampening;
    p.weight_decay = wd;
    p.nesterov = nesterov;
    return p;
}

AdamParams adam(double lr, double beta1, double beta2, double wd, bool decoupled, bool amsgrad) {
    AdamParams p;
    p.lr = lr;
    p.beta1 = beta1;
    p.beta2 = beta2;
    p.weight_decay = wd;
    p.decoupled_weight_decay = decoupled;
    p.amsgrad = amsgrad;
    return p;
}

TEST(SgdStepTest, MatchesTorchOptimSgdOverSeveralSteps) {
    const SgdParams configs[] = {sgd(0.1, 0, 0, 0, false),   sgd(0.05, 0.9, 0, 0, false),
                                 sgd(0.05, 0.9, 0.3, 0, false), sgd(0.05, 0.9, 0, 0, true),
                                 sgd(0.1, 0.5, 0, 0.01, false), sgd(0.1, 0.8, 0, 0.05, true),
                                 sgd(0.2, 0, 0, 0.1, false)};
    const Shape shape{37, 3};  // odd size: exercises loop tails
    uint64_t seed = 1;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double tol = dtype == DType::Float32 ? 1e-5 : 1e-12;
        for (const SgdParams& p : configs) {
            Tensor param = random_tensor(shape, ++seed, dtype);
            param.requires_grad_(true);  // a real parameter; the step runs under no-grad
            Tensor buf = zeros(shape, dtype);
            RefSgd ref{param.to_vector<double>(), std::vector<double>(param.numel(), 0.0)};
            for (int step = 0; step < 4; ++step) {
                const Tensor grad = random_tensor(shape, ++seed, dtype);
                const uint64_t version = param.version();
                sgd_step(param, grad, buf, p, step == 0);
                ref.step(grad.to_vector<double>(), p);
                EXPECT_GT(param.version(), version);
                EXPECT_TRUE(all_close(param, as_tensor(ref.param, shape), tol, tol))
                    << "momentum " << p.momentum << " nesterov " << p.nesterov << " step " << step;
                if (p.momentum != 0) {
                    EXPECT_TRUE(all_close(buf, as_tensor(ref.buf, shape), tol, tol));
                }
            }
        }
    }
}

TEST(AdamStepTest, MatchesTorchOptimAdamOverSeveralSteps) {
    const AdamParams configs[] = {adam(1e-2, 0.9, 0.999, 0, false, false),  adam(1e-2, 0.9, 0.999, 0.1, false, false),
                                  adam(1e-2, 0.9, 0.999, 0.1, true, false),  adam(1e-2, 0.9, 0.99, 0, false, true),
                                  adam(5e-3, 0.8, 0.95, 0.05, true, true),    adam(1e-2, 0.3, 0.9, 0, false, false)};
    const Shape shape{5, 17};
    uint64_t seed = 100;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double tol = dtype == DType::Float32 ? 2e-5 : 1e-12;
        for (const AdamParams& p : configs) {
            Tensor param = random_tensor(shape, ++seed, dtype);
            Tensor m = zeros(shape, dtype), v = zeros(shape, dtype), v_max = zeros(shape, dtype);
            const int64_t n = param.numel();
            RefAdam ref{param.to_vector<double>(), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0),
                        std::vector<double>(n, 0.0)};
            for (int64_t t = 1; t <= 5; ++t) {
                // Shrinking gradients make amsgrad's running maximum differ from exp_avg_sq.
                const Tensor grad = random_tensor(shape, ++seed, dtype, -2.0 / t, 2.0 / t);
                adam_step(param, grad, m, v, v_max, t, p);
                ref.step(grad.to_vector<double>(), t, p);
                EXPECT_TRUE(all_close(param, as_tensor(ref.param, shape), tol, tol))
                    << "wd " << p.weight_decay << " decoupled " << p.decoupled_weight_decay << " amsgrad "
                    << p.amsgrad << " step " << t;
                EXPECT_TRUE(all_close(m, as_tensor(ref.m, shape), tol, tol));
                EXPECT_TRUE(all_close(v, as_tensor(ref.v, shape), tol, tol));
                if (p.amsgrad) {
                    EXPECT_TRUE(all_close(v_max, as_tensor(ref.v_max, shape), tol, tol));
                }
            }
        }
    }
}

TEST(OptimStepTest, NonContiguousParameterAndStateAreUpdatedInPlace) {
    // Columns of a (6, 4) storage viewed as (4, 6): the updates must land in the shared storage.
    const Tensor storage = random_tensor({6, 4}, 200);
    Tensor param = storage.t();
    ASSERT_FALSE(param.is_contiguous());
    const Tensor grad = random_tensor({6, 4}, 201).t();
    Tensor buf = zeros({6, 4}, DType::Float64).t();
    const SgdParams p = sgd(0.1, 0.9, 0, 0.01, true);
    RefSgd ref{param.to_vector<double>(), std::vector<double>(24, 0.0)};
    for (int step = 0; step < 3; ++step) {
        sgd_step(param, grad, buf, p, step == 0);
        ref.step(grad.to_vector<double>(), p);
    }
    EXPECT_TRUE(all_close(storage.t(), as_tensor(ref.param, {4, 6}), 1e-12, 1e-12));
    EXPECT_TRUE(all_close(buf, as_tensor(ref.buf, {4, 6}), 1e-12, 1e-12));

    // float32 Adam on a narrowed parameter with transposed state.
    Tensor pf = zeros({3, 8}).narrow(1, 1, 5);
    pf.copy_(random_tensor({3, 5}, 202, DType::Float32));
    Tensor m = zeros({5, 3}).t(), v = zeros({5, 3}).t(), v_max;
    RefAdam aref{pf.to_vector<double>(), std::vector<double>(15, 0.0), std::vector<double>(15, 0.0), {}};
    const AdamParams ap = adam(0.01, 0.9, 0.999, 0.01, true, false);
    for (int64_t t = 1; t <= 3; ++t) {
        const Tensor g = random_tensor({3, 5}, 210 + t, DType::Float32);
        adam_step(pf, g, m, v, v_max, t, ap);
        aref.step(g.to_vector<double>(), t, ap);
    }
    EXPECT_TRUE(all_close(pf, as_tensor(aref.param, {3, 5}), 2e-5, 2e-5));
    EXPECT_TRUE(all_close(m, as_tensor(aref.m, {3, 5}), 2e-5, 2e-5));
}

TEST(OptimStepTest, BadInputs) {
    Tensor param = random_tensor({4, 3}, 1), grad = random_tensor({4, 3}, 2), buf = zeros({4, 3}, DType::Float64);
    Tensor none;
    EXPECT_ENGINE_ERROR(sgd_step(param, random_tensor({3, 4}, 3), buf, sgd(0.1, 0, 0, 0, false), true),
                        "grad has shape [3, 4]");
    EXPECT_ENGINE_ERROR(sgd_step(param, grad.to(DType::Float32), buf, sgd(0.1, 0, 0, 0, false), true),
                        "grad has dtype float32");
    EXPECT_ENGINE_ERROR(sgd_step(param, grad, none, sgd(0.1, 0.9, 0, 0, false), true), "momentum_buffer is undefined");
    Tensor small = zeros({4}, DType::Float64);
    EXPECT_ENGINE_ERROR(sgd_step(param, grad, small, sgd(0.1, 0.9, 0, 0, false), true), "momentum_buffer has shape");
    EXPECT_ENGINE_ERROR(sgd_step(param, grad, buf, sgd(0.1, 0, 0, 0, true), true), "nesterov");
    EXPECT_ENGINE_ERROR(sgd_step(param, grad, buf, sgd(0.1, 0.9, 0.1, 0, true), true), "zero dampening");
    EXPECT_ENGINE_ERROR(sgd_step(param, grad, buf, sgd(-0.1, 0, 0, 0, false), true), "invalid learning rate");
    Tensor int_param = zeros({4, 3}, DType::Int64);
    EXPECT_ENGINE_ERROR(sgd_step(int_param, grad, buf, sgd(0.1, 0, 0, 0, false), true), "float32 or float64");
    // momentum 0 needs no buffer.
    sgd_step(param, grad, none, sgd(0.1, 0, 0, 0, false), true);

    Tensor m = zeros({4, 3}, DType::Float64), v = zeros({4, 3}, DType::Float64);
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m, v, none, 0, adam(1e-3, 0.9, 0.999, 0, false, false)),
                        "step counts from 1");
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m, v, none, 1, adam(1e-3, 0.9, 0.999, 0, false, true)),
                        "max_exp_avg_sq is undefined");
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m, v, none, 1, adam(1e-3, 1.0, 0.999, 0, false, false)),
                        "invalid beta parameter at index 0");
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m, v, none, 1, adam(1e-3, 0.9, -0.1, 0, false, false)),
                        "invalid beta parameter at index 1");
    Tensor m_f = zeros({4, 3});
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m_f, v, none, 1, adam(1e-3, 0.9, 0.999, 0, true, false)),
                        "adamw_step: exp_avg has dtype float32");
    Tensor v_bad = zeros({12}, DType::Float64);
    EXPECT_ENGINE_ERROR(adam_step(param, grad, m, v_bad, none, 1, adam(1e-3, 0.9, 0.999, 0, false, false)),
                        "exp_avg_sq has shape [12]");
}

}  // namespace
}  // namespace engine
