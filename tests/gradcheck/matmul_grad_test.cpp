// Gradient checks of matmul (2-D, batched, broadcast batches, 1-D operands, strided views) and linear.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

namespace {
Tensor mm(const TensorList& t) { return matmul(t[0], t[1]); }
}  // namespace

TEST(MatmulGradTest, TwoDimensional) {
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({3, 4}, 1), random_leaf({4, 5}, 2)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({1, 7}, 3), random_leaf({7, 1}, 4)}));
    // Only one operand differentiated.
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({3, 4}, 5), engine::test::random_tensor({4, 2}, 6)}));
    EXPECT_TRUE(passes_gradcheck(mm, {engine::test::random_tensor({3, 4}, 7), random_leaf({4, 2}, 8)}));
}

TEST(MatmulGradTest, BatchedAndBroadcast) {
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({2, 3, 4}, 10), random_leaf({2, 4, 2}, 11)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({2, 1, 3, 2}, 12), random_leaf({3, 2, 2}, 13)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({3, 2}, 14), random_leaf({2, 2, 4}, 15)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({2, 3, 3}, 16), random_leaf({3, 2}, 17)}));  // folded batch
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({1, 3, 3}, 18), random_leaf({4, 3, 2}, 19)}));
}

TEST(MatmulGradTest, VectorOperands) {
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({4}, 20), random_leaf({4}, 21)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({4}, 22), random_leaf({4, 3}, 23)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({3, 4}, 24), random_leaf({4}, 25)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({4}, 26), random_leaf({2, 4, 3}, 27)}));
    EXPECT_TRUE(passes_gradcheck(mm, {random_leaf({2, 3, 4}, 28), random_leaf({4}, 29)}));
}

TEST(MatmulGradTest, NonContiguousOperands) {
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return matmul(t[0].t(), t[1].t()); },
                                 {random_leaf({4, 3}, 30), random_leaf({5, 4}, 31)}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return matmul(t[0].transpose(1, 2), t[1].narrow(2, 1, 2)); },
                                 {random_leaf({2, 4, 3}, 32), random_leaf({2, 4, 4}, 33)}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return matmul(t[0].expand({3, 2, 4}), t[1]); },
                                 {random_leaf({2, 4}, 34), random_leaf({3, 4, 2}, 35)}));
}

TEST(MatmulGradTest, ChainedProducts) {
    // The gradient of one product flows into another (transposed views in the backward of both).
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return matmul(matmul(t[0], t[1]), t[0].t()); },
                                 {random_leaf({3, 4}, 36), random_leaf({4, 4}, 37)}));
}

TEST(LinearGradTest, WithAndWithoutBias) {
    const Tensor w = random_leaf({3, 4}, 40), b = random_leaf({3}, 41);
    auto lin = [](const TensorList& t) { return linear(t[0], t[1], t[2]); };
    EXPECT_TRUE(passes_gradcheck(lin, {random_leaf({5, 4}, 42), w, b}));
    EXPECT_TRUE(passes_gradcheck(lin, {random_leaf({2, 3, 4}, 43), w, b}));
    EXPECT_TRUE(passes_gradcheck(lin, {random_leaf({4}, 44), w, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return linear(t[0], t[1]); },
                                 {random_leaf({5, 4}, 45), w}));
}

TEST(LinearGradTest, NonContiguousInputs) {
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return linear(t[0].t(), t[1].t(), t[2]); },
                                 {random_leaf({4, 5}, 50), random_leaf({4, 3}, 51), random_leaf({3}, 52)}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return linear(t[0].transpose(0, 1), t[1], t[2]); },
                                 {random_leaf({3, 2, 4}, 53), random_leaf({3, 4}, 54), random_leaf({3}, 55)}));
}

TEST(LinearGradTest, OnlyTheWeightNeedsGrad) {
    // A first layer: the input is data, only the parameters get gradients.
    Tensor x = engine::test::random_tensor({5, 4}, 60);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return linear(t[0], t[1], t[2]); },
                                 {x, random_leaf({3, 4}, 61), random_leaf({3}, 62)}));
}
