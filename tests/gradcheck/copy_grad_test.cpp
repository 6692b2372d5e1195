// Gradient checks of the ops built on the copy kernel: clone and contiguous of strided, sliced and broadcast
// views (the gradient flows back through the view to the leaf).
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

TEST(CopyGradTest, CloneAndContiguousOfViews) {
    const Tensor x = random_leaf({2, 3, 4}, 1);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].permute({2, 0, 1}).contiguous(); }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].narrow(2, 1, 2).clone(); }, {x}));
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& t) { return t[0].clone() * t[0].transpose(1, 2).contiguous().transpose(1, 2); }, {x}));
    const Tensor b = random_leaf({3, 1}, 2);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].expand({2, 3, 5}).contiguous(); }, {b}));
}
