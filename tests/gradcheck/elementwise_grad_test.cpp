#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

TEST(ElementwiseGradTest, BinaryOpsWithBroadcasting) {
    Tensor a = random_leaf({2, 3, 4}, 1);
    Tensor b = random_leaf({3, 1}, 2, 0.5, 1.5);  // away from 0 for div and pow
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return add(t[0], t[1]); }, {a, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return sub(t[0], t[1]); }, {a, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return mul(t[0], t[1]); }, {a, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return div(t[0], t[1]); }, {a, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return pow(t[1], t[0]); }, {a, b}));
    Tensor base = random_leaf({3, 4}, 3, 0.5, 2.0);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return pow(t[0], t[1]); }, {base, a}));
}

TEST(ElementwiseGradTest, MaximumMinimumAwayFromTies) {
    Tensor a = random_leaf({4, 5}, 4);
    Tensor b = random_leaf({5}, 5);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return maximum(t[0], t[1]); }, {a, b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return minimum(t[0], t[1]); }, {a, b}));
}

TEST(ElementwiseGradTest, TiesShareTheGradientEvenlyAsPyTorch) {
    Tensor a = from_vector<double>({1, 2}, {2});
    a.requires_grad_(true);
    Tensor b = from_vector<double>({1, 3}, {2});
    b.requires_grad_(true);
    maximum(a, b).backward(ones({2}, DType::Float64));
    EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.5, 0}));
    EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{0.5, 1}));
}

TEST(ElementwiseGradTest, NonContiguousAndSizeOneInputs) {
    Tensor a = random_leaf({5, 3}, 6);
    Tensor b = random_leaf({1, 5}, 7);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return mul(t[0].t(), t[1]); }, {a, b}));
    Tensor c = random_leaf({4, 6}, 8);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return add(t[0].narrow(1, 1, 3), 2.0) * t[0].narrow(1, 3, 3); },
                                 {c}));
}

TEST(ElementwiseGradTest, ScalarForms) {
    Tensor a = random_leaf({3, 4}, 9, 0.5, 2.0);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return add(t[0], 2.0); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return rsub(t[0], 2.0); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return mul(t[0], -3.0); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return div(t[0], 4.0); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return rdiv(t[0], 4.0); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return pow(t[0], 2.5); }, {a}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return rpow(t[0], 1.7); }, {a}));
}

TEST(ElementwiseGradTest, UnaryOps) {
    Tensor x = random_leaf({3, 5}, 10);           // mixed signs, no exact zeros
    Tensor pos = random_leaf({3, 5}, 11, 0.2, 2.0);
    const std::vector<Tensor (*)(const Tensor&)> on_any = {neg, exp, abs, relu, sigmoid, tanh, sin, cos, square};
    for (auto f : on_any) EXPECT_TRUE(passes_gradcheck([f](const TensorList& t) { return f(t[0]); }, {x}));
    const std::vector<Tensor (*)(const Tensor&)> on_positive = {log, log1p, sqrt, rsqrt, reciprocal};
    for (auto f : on_positive) EXPECT_TRUE(passes_gradcheck([f](const TensorList& t) { return f(t[0]); }, {pos}));
    // Piecewise-constant ops have zero gradient (checked away from their jumps).
    for (auto f : {sign, floor, ceil, round})
        EXPECT_TRUE(passes_gradcheck([f](const TensorList& t) { return f(t[0] * 0.9 + 0.05); }, {x}));
}

TEST(ElementwiseGradTest, ClampWhereAndMaskedFill) {
    Tensor x = random_leaf({4, 4}, 12);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return clamp(t[0], -0.33, 0.41); }, {x}));
    Tensor y = random_leaf({4, 1}, 13);
    Tensor cond = gt(test::random_tensor({4, 4}, 14), 0.0);
    EXPECT_TRUE(passes_gradcheck([cond](const TensorList& t) { return where(cond, t[0], t[1]); }, {x, y}));
    EXPECT_TRUE(passes_gradcheck([cond](const TensorList& t) { return masked_fill(t[0], cond, 2.0); }, {x}));
}

TEST(ElementwiseGradTest, ViewsAndConversions) {
    Tensor x = random_leaf({2, 3, 4}, 15);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].permute({2, 0, 1}) * 1.0; }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].transpose(0, 2).reshape({4, 6}) * 2.0; }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].select(1, 2) * 3.0; }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].narrow(2, 1, 2).unsqueeze(0) * 1.0; }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].flatten(1).clone(); }, {x}));
    Tensor b = random_leaf({3, 1}, 16);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].expand({2, 3, 5}) * 1.0; }, {b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].squeeze() * 1.0; }, {b}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& t) { return t[0].t().contiguous(); }, {b}));
}
