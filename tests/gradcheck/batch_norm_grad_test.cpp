// Gradient checks of batch_norm w.r.t. input, weight and bias: training (batch statistics, including their
// dependence on x) and eval (running statistics), 4-D and 2-D inputs, with and without affine parameters.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;
using engine::test::random_tensor;

namespace {

auto bn_fn(bool training, Tensor running_mean = Tensor(), Tensor running_var = Tensor()) {
    return [=](const TensorList& t) {
        return batch_norm(t[0], running_mean, running_var, t[1], t[2], training, 0.1, 1e-3);
    };
}

}  // namespace

TEST(BatchNormGradTest, Training4D) {
    Tensor rm = zeros({3}, DType::Float64), rv = ones({3}, DType::Float64);
    EXPECT_TRUE(passes_gradcheck(bn_fn(true, rm, rv), {random_leaf({3, 3, 3, 2}, 1), random_leaf({3}, 2, 0.5, 1.5),
                                                       random_leaf({3}, 3)}));
}

TEST(BatchNormGradTest, Training2DAndNoAffine) {
    EXPECT_TRUE(passes_gradcheck(bn_fn(true), {random_leaf({6, 4}, 4), random_leaf({4}, 5, 0.5, 1.5),
                                               random_leaf({4}, 6)}));
    EXPECT_TRUE(passes_gradcheck(bn_fn(true), {random_leaf({4, 2, 5}, 7), Tensor(), Tensor()}));
    // Only weight, and only bias.
    EXPECT_TRUE(passes_gradcheck(bn_fn(true), {random_leaf({5, 3}, 8), random_leaf({3}, 9), Tensor()}));
    EXPECT_TRUE(passes_gradcheck(bn_fn(true), {random_leaf({5, 3}, 10), Tensor(), random_leaf({3}, 11)}));
}

TEST(BatchNormGradTest, Eval4DAnd2D) {
    const Tensor rm = random_tensor({3}, 12), rv = random_tensor({3}, 13, DType::Float64, 0.5, 2.0);
    EXPECT_TRUE(passes_gradcheck(bn_fn(false, rm, rv), {random_leaf({2, 3, 3, 3}, 14), random_leaf({3}, 15),
                                                        random_leaf({3}, 16)}));
    EXPECT_TRUE(passes_gradcheck(bn_fn(false, rm, rv), {random_leaf({5, 3}, 17), random_leaf({3}, 18),
                                                        random_leaf({3}, 19)}));
    EXPECT_TRUE(passes_gradcheck(bn_fn(false, rm, rv), {random_leaf({4, 3}, 20), Tensor(), Tensor()}));
}

TEST(BatchNormGradTest, NonContiguousInput) {
    // Channels-last memory viewed as (N,C,H,W).
    Tensor x = random_tensor({2, 3, 2, 3}, 21).permute({0, 3, 1, 2});
    x.requires_grad_(true);
    EXPECT_TRUE(passes_gradcheck(bn_fn(true), {x, random_leaf({3}, 22), random_leaf({3}, 23)}));
}
