// The usage example of the README, kept compiling and correct.
#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "common/test_util.h"

using namespace engine;

TEST(ReadmeExampleTest, SaliencyHookAndBackward) {
    Tensor x = randn({8, 3, 32, 32});
    x.requires_grad_(true);
    Tensor w = uniform({16, 3, 3, 3}, -0.2, 0.2);
    w.requires_grad_(true);
    Tensor h = relu(conv2d(x, w, Tensor(), Conv2dParams::make(/*stride*/ 1, /*padding*/ 1)));
    int hook_calls = 0;
    h.register_hook([&](const Tensor& g) {
        ++hook_calls;
        EXPECT_EQ(g.shape(), h.shape());
        return Tensor();
    });
    Tensor score = mean(square(h));
    TensorList dx = autograd::grad({score}, {x}, {}, /*retain_graph=*/true);
    EXPECT_FALSE(x.grad().defined());
    EXPECT_FALSE(w.grad().defined());
    score.backward();
    EXPECT_EQ(hook_calls, 2);
    EXPECT_TRUE(test::all_close(x.grad(), dx[0], 1e-6, 1e-5));
    EXPECT_EQ(w.grad().shape(), w.shape());
}
