#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;

// A fresh generator with a fixed seed per evaluation makes every call draw the same mask, so the function is
// deterministic and its gradient (mask / (1 - p)) can be checked numerically.
TEST(DropoutGradTest, GradientIsTheScaledMask) {
    Tensor x = test::random_leaf({4, 7}, 1);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) {
        Generator gen(99);
        return dropout(t[0], 0.4, true, gen);
    }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) {
        Generator gen(99);
        return dropout(t[0].t(), 0.4, true, gen);
    }, {x}));
    // Eval mode is the identity.
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) {
        Generator gen(99);
        return dropout(t[0], 0.4, false, gen) * 1.0;
    }, {x}));
}
