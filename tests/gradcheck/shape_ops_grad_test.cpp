// Gradient checks of cat, stack, split / split_sizes and pad (constant with cropping, reflect, replicate) in
// float64, including size-0 pieces, negative dims, dtype promotion and strided inputs.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

TEST(CatGradTest, PiecesAlongEveryDim) {
    const Tensor a = random_leaf({2, 3, 2}, 1), b = random_leaf({2, 3, 2}, 2);
    for (int64_t dim : {0, 1, 2, -1}) {
        EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return cat({in[0], in[1], in[0]}, dim); }, {a, b}));
    }
    const Tensor c = random_leaf({2, 1, 2}, 3), empty_piece = random_leaf({2, 0, 2}, 4);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return cat({in[0], in[1], in[2]}, 1);
        },
        {a, empty_piece, c}));
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return cat({in[0].transpose(0, 2), in[1]}, 0);
        },
        {a, random_leaf({1, 3, 2}, 5)}));
    // A float32 piece is promoted; the float64 input's gradient is still checked.
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return cat({in[0], ones({1, 3, 2}, DType::Float32)}, 0);
        },
        {a}));
}

TEST(StackGradTest, NewDims) {
    const Tensor a = random_leaf({2, 3}, 6), b = random_leaf({2, 3}, 7);
    for (int64_t dim : {0, 1, 2, -1, -3}) {
        EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return stack({in[0], in[1]}, dim); }, {a, b}));
    }
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return stack({in[0].t(), in[1].t()}, 1); }, {a, b}));
}

TEST(SplitGradTest, PiecesFlowBack) {
    const Tensor x = random_leaf({5, 3}, 8);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            const std::vector<Tensor> p = split(in[0], 2);  // sizes 2, 2, 1
            return cat({mul(p[2], 3.0), p[0], mul(p[1], -2.0)}, 0);
        },
        {x}));
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            const std::vector<Tensor> p = split_sizes(in[0], {1, 0, 2}, -1);
            return cat({mul(p[2], 0.5), exp(p[0]), p[1]}, 1);
        },
        {x}));
}

TEST(PadGradTest, AllModes) {
    const Tensor x4 = random_leaf({1, 2, 3, 4}, 9);
    const Tensor x3 = random_leaf({2, 2, 4}, 10);
    const std::vector<std::vector<int64_t>> constant = {{1, 2}, {2, 0, 1, 1}, {-1, 2, 1, -1}, {0, 0, 0, 0, 1, 1, 1, 0}};
    for (const auto& pads : constant) {
        EXPECT_TRUE(
            passes_gradcheck([&](const TensorList& in) { return pad(in[0], pads, PadMode::Constant, 0.7); }, {x4}))
            << shape_str(pads);
    }
    for (PadMode mode : {PadMode::Reflect, PadMode::Replicate}) {
        for (const auto& pads : {std::vector<int64_t>{2, 3}, {-1, 2}, {3, 0}}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return pad(in[0], pads, mode); }, {x3}))
                << shape_str(pads);
        }
        for (const auto& pads : {std::vector<int64_t>{1, 2, 2, 1}, {2, 0, -1, 2}, {0, 2, 0, 0}}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return pad(in[0], pads, mode); }, {x4}))
                << shape_str(pads);
            EXPECT_TRUE(
                passes_gradcheck([&](const TensorList& in) { return pad(in[0].transpose(2, 3), pads, mode); }, {x4}));
        }
    }
    const Tensor wide = random_leaf({1, 5}, 11);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return pad(in[0].expand({2, 5}), {6, 6}, PadMode::Replicate);
        },
        {wide}));
}
