// CUDA SGD and Adam / AdamW steps against the CPU backend over several steps, with every option.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

}  // namespace

TEST(CudaSgdTest, EveryOptionOverSeveralSteps) {
    REQUIRE_CUDA_DEVICE();
    const SgdParams options[] = {
        {0.1, 0.0, 0.0, 0.0, false}, {0.1, 0.9, 0.0, 0.0, false}, {0.05, 0.9, 0.2, 0.01, false},
        {0.1, 0.8, 0.0, 0.001, true},
    };
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const SgdParams& p : options) {
            for (int64_t n : {1, 257, 4099}) {
                Tensor param = random_tensor({n}, 1, dt), buf = zeros({n}, dt);
                Tensor dparam = to_cuda(param), dbuf = to_cuda(buf);
                for (int step = 0; step < 3; ++step) {
                    const Tensor grad = random_tensor({n}, 10 + step, dt);
                    cpu_backend().sgd_step_(param, grad, buf, p, step == 0);
                    gpu().sgd_step_(dparam, to_cuda(grad), dbuf, p, step == 0);
                }
                EXPECT_TRUE(matches_cpu(dparam, param, 1e-7, rtol_of(dt))) << "momentum " << p.momentum;
                if (p.momentum != 0.0) EXPECT_TRUE(matches_cpu(dbuf, buf, 1e-7, rtol_of(dt)));
            }
        }
    }
}

TEST(CudaAdamTest, AdamAdamWAndAmsgradOverSeveralSteps) {
    REQUIRE_CUDA_DEVICE();
    AdamParams plain;
    AdamParams l2;
    l2.weight_decay = 0.01;
    AdamParams adamw;
    adamw.weight_decay = 0.01;
    adamw.decoupled_weight_decay = true;
    AdamParams ams;
    ams.amsgrad = true;
    ams.lr = 0.01;
    AdamParams large_w1;  // beta1 < 0.5 takes the other lerp formula
    large_w1.beta1 = 0.3;
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const AdamParams& p : {plain, l2, adamw, ams, large_w1}) {
            const int64_t n = 1025;
            Tensor param = random_tensor({n}, 2, dt), m = zeros({n}, dt), v = zeros({n}, dt), vmax = zeros({n}, dt);
            Tensor dparam = to_cuda(param), dm = to_cuda(m), dv = to_cuda(v), dvmax = to_cuda(vmax);
            for (int64_t step = 1; step <= 4; ++step) {
                // A shrinking gradient, so that amsgrad's running maximum differs from exp_avg_sq.
                const Tensor grad = cpu_backend().binary_scalar(BinaryOp::Mul, random_tensor({n}, 20 + step, dt),
                                                                1.0 / static_cast<double>(step * step), false);
                cpu_backend().adam_step_(param, grad, m, v, vmax, step, p);
                gpu().adam_step_(dparam, to_cuda(grad), dm, dv, dvmax, step, p);
            }
            EXPECT_TRUE(matches_cpu(dparam, param, 1e-7, rtol_of(dt)));
            EXPECT_TRUE(matches_cpu(dm, m, 1e-9, rtol_of(dt)));
            EXPECT_TRUE(matches_cpu(dv, v, 1e-12, rtol_of(dt)));
            if (p.amsgrad) EXPECT_TRUE(matches_cpu(dvmax, vmax, 1e-12, rtol_of(dt)));
        }
    }
}
