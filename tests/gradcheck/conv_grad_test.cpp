// Gradient checks of conv2d (input, weight, bias) and conv_transpose2d over strides, padding, dilation,
// groups, output_padding and strided inputs, plus which backward kernels run when only some inputs need grad.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;
using engine::test::random_tensor;

namespace {

Conv2dParams params(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
    return Conv2dParams::make(stride, pad, dilation, groups);
}

auto conv_fn(const Conv2dParams& p) {
    return [p](const TensorList& t) { return conv2d(t[0], t[1], t[2], p); };
}

auto conv_t_fn(const Conv2dParams& p, int64_t op_h, int64_t op_w) {
    return [=](const TensorList& t) { return conv_transpose2d(t[0], t[1], t[2], p, op_h, op_w); };
}

}  // namespace

TEST(Conv2dGradTest, InputWeightBias) {
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 1)),
                                 {random_leaf({2, 2, 4, 4}, 1), random_leaf({3, 2, 3, 3}, 2), random_leaf({3}, 3)}));
}

TEST(Conv2dGradTest, StrideDilationPadding) {
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(2, 1)),
                                 {random_leaf({1, 2, 5, 6}, 4), random_leaf({2, 2, 3, 3}, 5), random_leaf({2}, 6)}));
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 2, 2)),
                                 {random_leaf({1, 2, 5, 5}, 7), random_leaf({2, 2, 3, 3}, 8), random_leaf({2}, 9)}));
    Conv2dParams p = params(1, 0);
    p.stride_w = 2, p.pad_h = 1, p.dilation_w = 2;
    EXPECT_TRUE(passes_gradcheck(conv_fn(p),
                                 {random_leaf({1, 1, 4, 7}, 10), random_leaf({2, 1, 2, 3}, 11), random_leaf({2}, 12)}));
}

TEST(Conv2dGradTest, GroupsAndDepthwise) {
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 1, 1, 2)),
                                 {random_leaf({1, 4, 4, 4}, 13), random_leaf({4, 2, 3, 3}, 14), random_leaf({4}, 15)}));
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 1, 1, 3)),
                                 {random_leaf({2, 3, 4, 4}, 16), random_leaf({3, 1, 3, 3}, 17), random_leaf({3}, 18)}));
}

TEST(Conv2dGradTest, PointwiseAndNoBias) {
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 0)),
                                 {random_leaf({2, 3, 3, 3}, 19), random_leaf({2, 3, 1, 1}, 20), Tensor()}));
}

TEST(Conv2dGradTest, NonContiguousInput) {
    auto f = [](const TensorList& t) {
        return conv2d(t[0].permute({0, 3, 1, 2}), t[1].transpose(2, 3), t[2], params(1, 1));
    };
    EXPECT_TRUE(
        passes_gradcheck(f, {random_leaf({1, 4, 5, 2}, 21), random_leaf({2, 2, 3, 3}, 22), random_leaf({2}, 23)}));
}

TEST(Conv2dGradTest, FirstLayerSkipsTheInputGradient) {
    // Input without grad: only the parameters are checked, and the input gets no gradient.
    Tensor x = random_tensor({2, 2, 4, 4}, 24);
    Tensor w = random_leaf({3, 2, 3, 3}, 25), b = random_leaf({3}, 26);
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 1)), {x, w, b}));
    conv2d(x, w, b, params(1, 1)).backward(ones({2, 3, 4, 4}, DType::Float64));
    EXPECT_FALSE(x.grad().defined());
    EXPECT_TRUE(w.grad().defined());
    EXPECT_EQ(b.grad().shape(), (Shape{3}));
    // And a frozen weight: only the input gradient.
    Tensor xi = random_leaf({1, 2, 4, 4}, 27);
    Tensor wf = random_tensor({3, 2, 3, 3}, 28);
    EXPECT_TRUE(passes_gradcheck(conv_fn(params(1, 1)), {xi, wf, Tensor()}));
}

TEST(ConvTranspose2dGradTest, OutputPaddingAsTheSeedUNet) {
    EXPECT_TRUE(passes_gradcheck(conv_t_fn(params(2, 1), 1, 1),
                                 {random_leaf({1, 2, 3, 3}, 30), random_leaf({2, 2, 3, 3}, 31), random_leaf({2}, 32)}));
}

TEST(ConvTranspose2dGradTest, StridesGroupsDilation) {
    EXPECT_TRUE(passes_gradcheck(conv_t_fn(params(2, 0), 0, 1),
                                 {random_leaf({2, 2, 2, 3}, 33), random_leaf({2, 1, 2, 2}, 34), random_leaf({1}, 35)}));
    EXPECT_TRUE(passes_gradcheck(conv_t_fn(params(2, 1, 1, 2), 1, 0),
                                 {random_leaf({1, 4, 2, 2}, 36), random_leaf({4, 1, 3, 3}, 37), random_leaf({2}, 38)}));
    // output_padding 1 >= stride 1, allowed because it is < dilation 2.
    EXPECT_TRUE(passes_gradcheck(conv_t_fn(params(1, 1, 2), 1, 1),
                                 {random_leaf({1, 2, 3, 3}, 39), random_leaf({2, 2, 3, 3}, 40), Tensor()}));
}

TEST(ConvTranspose2dGradTest, NonContiguousInput) {
    auto f = [](const TensorList& t) {
        return conv_transpose2d(t[0].transpose(2, 3), t[1], t[2], params(2, 1), 1, 1);
    };
    EXPECT_TRUE(
        passes_gradcheck(f, {random_leaf({1, 2, 3, 2}, 41), random_leaf({2, 2, 3, 3}, 42), random_leaf({2}, 43)}));
}
