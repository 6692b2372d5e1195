// Batch norm outputs and running-statistics updates against PyTorch's, in training and eval mode.
#include "common/test_util.h"
#include "golden/golden_util.h"

using namespace engine;
using namespace engine::test;

TEST(BatchNormGoldenTest, TrainingAndEvalMatchPyTorch) {
    for (const GoldenCase& c : golden_cases("batch_norm", "batch_norm.")) {
        const Tensor weight = c.has("weight") ? c["weight"] : Tensor();
        const Tensor bias = c.has("bias") ? c["bias"] : Tensor();
        const double momentum = c.params["momentum"], eps = c.params["eps"];
        Tensor running_mean = c["running_mean"].clone(), running_var = c["running_var"].clone();
        const Tensor y_train = batch_norm(c["x"], running_mean, running_var, weight, bias, true, momentum, eps);
        const double tol = c["x"].dtype() == DType::Float64 ? 1e-10 : 1e-5;
        EXPECT_TRUE(all_close(y_train, c["y_train"], tol, tol)) << c.name;
        EXPECT_TRUE(all_close(running_mean, c["running_mean_after"], tol, tol)) << c.name;
        EXPECT_TRUE(all_close(running_var, c["running_var_after"], tol, tol)) << c.name;
        const Tensor y_eval = batch_norm(c["x"], c["running_mean"].clone(), c["running_var"].clone(), weight, bias,
                                         false, momentum, eps);
        EXPECT_TRUE(all_close(y_eval, c["y_eval"], tol, tol)) << c.name;
    }
}
