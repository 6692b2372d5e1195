#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "common/test_util.h"

using namespace engine;
using engine::test::all_close;

TEST(HookTest, SeesTheGradientOfANonLeafOnce) {
    Tensor x = test::random_leaf({3}, 1);
    Tensor h = x * 2.0;
    int calls = 0;
    Tensor seen;
    h.register_hook([&](const Tensor& g) {
        ++calls;
        seen = g;
        return Tensor();
    });
    // h is used twice: the hook must see the summed gradient, once.
    Tensor y = (h * 3.0 + h).narrow(0, 0, 3);
    y.backward(ones({3}, DType::Float64));
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(all_close(seen, full({3}, 4.0, DType::Float64)));
    EXPECT_TRUE(all_close(x.grad(), full({3}, 8.0, DType::Float64)));
}

TEST(HookTest, ReplacesTheGradientFlowingOn) {
    Tensor x = test::random_leaf({2}, 2);
    Tensor h = x * 1.0;
    h.register_hook([](const Tensor& g) { return g * 10.0; });
    (h * 1.0).backward(ones({2}, DType::Float64));
    EXPECT_TRUE(all_close(x.grad(), full({2}, 10.0, DType::Float64)));
}

TEST(HookTest, LeafHookRunsBeforeAccumulation) {
    Tensor x = test::random_leaf({2}, 3);
    x.register_hook([](const Tensor& g) { return g * 0.5; });
    (x * 4.0).backward(ones({2}, DType::Float64));
    EXPECT_TRUE(all_close(x.grad(), full({2}, 2.0, DType::Float64)));
    // The hook lives on the tensor, so it also applies to the next graph.
    (x * 4.0).backward(ones({2}, DType::Float64));
    EXPECT_TRUE(all_close(x.grad(), full({2}, 4.0, DType::Float64)));
}

TEST(HookTest, HooksRunInRegistrationOrderAndCanBeRemoved) {
    Tensor x = test::random_leaf({1}, 4);
    Tensor h = x * 1.0;
    std::vector<int> order;
    HookHandle first = h.register_hook([&](const Tensor& g) {
        order.push_back(1);
        return g + 1.0;
    });
    h.register_hook([&](const Tensor& g) {
        order.push_back(2);
        return g * 3.0;
    });
    (h * 1.0).backward(ones({1}, DType::Float64), /*retain_graph=*/true);
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_TRUE(all_close(x.grad(), full({1}, 6.0, DType::Float64)));  // (1 + 1) * 3
    first.remove();
    x.set_grad(Tensor());
    order.clear();
    (h * 1.0).backward(ones({1}, DType::Float64));
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_TRUE(all_close(x.grad(), full({1}, 3.0, DType::Float64)));
}

TEST(HookTest, HookFiresInGradAndCapturesTheHookedGradient) {
    Tensor x = test::random_leaf({2}, 5);
    Tensor h = x * 2.0;
    int calls = 0;
    h.register_hook([&](const Tensor& g) {
        ++calls;
        return g * 2.0;
    });
    TensorList g = autograd::grad({(h * 1.0).narrow(0, 0, 2)}, {h, x}, {ones({2}, DType::Float64)});
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(all_close(g[0], full({2}, 2.0, DType::Float64)));
    EXPECT_TRUE(all_close(g[1], full({2}, 4.0, DType::Float64)));
}

TEST(HookTest, AWrongShapeFromAHookIsAnError) {
    Tensor x = test::random_leaf({2}, 6);
    Tensor h = x * 1.0;
    h.register_hook([](const Tensor&) { return zeros({3}, DType::Float64); });
    EXPECT_ENGINE_ERROR((h * 1.0).backward(ones({2}, DType::Float64)), "returned a tensor of shape [3]");
}

TEST(HookTest, RetainGradKeepsANonLeafGradient) {
    Tensor x = test::random_leaf({2}, 7);
    Tensor h = x * 3.0;
    h.retain_grad();
    (h * 5.0).backward(ones({2}, DType::Float64));
    EXPECT_TRUE(all_close(h.grad(), full({2}, 5.0, DType::Float64)));
    EXPECT_TRUE(all_close(x.grad(), full({2}, 15.0, DType::Float64)));
}

TEST(HookTest, RegisteringOnATensorWithoutGradIsAnError) {
    Tensor x = zeros({2});
    EXPECT_ENGINE_ERROR(x.register_hook([](const Tensor& g) { return g; }), "does not require grad");
}
