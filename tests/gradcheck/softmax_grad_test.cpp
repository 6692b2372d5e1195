// Gradient checks of softmax and log_softmax in float64 along every dim, including the class dim of
// (N, C, H, W) maps, negative dims, size-1 dims, broadcast and strided inputs.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

TEST(SoftmaxGradTest, EveryDim) {
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}, Shape{2, 4, 3, 3}, Shape{3, 1, 2}}) {
        const Tensor x = random_leaf(shape, 1, -2.0, 2.0);
        for (int64_t dim = -static_cast<int64_t>(shape.size()); dim < static_cast<int64_t>(shape.size()); ++dim) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return softmax(in[0], dim); }, {x}))
                << shape_str(shape) << " dim " << dim;
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return log_softmax(in[0], dim); }, {x}))
                << shape_str(shape) << " dim " << dim;
        }
    }
}

TEST(SoftmaxGradTest, BroadcastAndStridedInputs) {
    const Tensor x = random_leaf({4, 3, 5}, 2, -3.0, 3.0);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return softmax(in[0].transpose(0, 2), 1); }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return log_softmax(in[0].narrow(2, 1, 3), 2); }, {x}));
    const Tensor row = random_leaf({1, 4}, 3);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return softmax(in[0].expand({3, 4}), 1); }, {row}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return log_softmax(in[0].expand({3, 4}), 0); }, {row}));
    // Composite use: the loss of a softmax output feeds a weighted sum.
    const Tensor w = random_leaf({3, 4}, 4);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return sum(mul(softmax(in[0].expand({3, 4}), 1), in[1]));
        },
        {row, w}));
}
