#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "autograd/function.h"
#include "common/test_util.h"

using namespace engine;
using engine::test::all_close;

namespace {
Tensor leaf(std::vector<double> values, Shape shape) {
    Tensor t = from_vector<double>(values, shape);
    t.requires_grad_(true);
    return t;
}
}  // namespace

TEST(AutogradTest, BackwardFromAScalarAccumulatesIntoLeaves) {
    Tensor x = leaf({1, 2, 3}, {3});
    Tensor y = leaf({4, 5, 6}, {3});
    Tensor z = x * y + x * 2.0;  // dz/dx = y + 2, dz/dy = x
    Tensor s = z.flatten();
    // sum is implemented by another family; use a dot product with ones through mul/add instead.
    Tensor total = (s.narrow(0, 0, 1) + s.narrow(0, 1, 1) + s.narrow(0, 2, 1)).view({});
    total.backward();
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({6, 7, 8}, {3})));
    EXPECT_TRUE(all_close(y.grad(), from_vector<double>({1, 2, 3}, {3})));
    // A second graph accumulates into the same .grad.
    Tensor again = (x * 3.0).narrow(0, 0, 1).view({});
    again.backward();
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({9, 7, 8}, {3})));
}

TEST(AutogradTest, ExplicitOutputGradient) {
    Tensor x = leaf({1, 2}, {2});
    Tensor y = x * x;
    y.backward(from_vector<double>({10, 100}, {2}));
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({20, 400}, {2})));
    EXPECT_ENGINE_ERROR((x * x).backward(), "a gradient can be implied only for single-element outputs");
    EXPECT_ENGINE_ERROR((x * x).backward(zeros({3}, DType::Float64)), "gradient 0 is [3]");
}

TEST(AutogradTest, DiamondGraphSumsBothPaths) {
    Tensor x = leaf({3}, {1});
    Tensor a = x * 2.0, b = x * x;
    Tensor out = (a * b).view({});  // 2x^3 -> 6x^2 = 54
    out.backward();
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({54}, {1})));
}

TEST(AutogradTest, GradReturnsInputGradientsWithoutTouchingDotGrad) {
    Tensor w = leaf({2}, {1});
    Tensor x = leaf({5}, {1});
    Tensor y = (w * x * x).view({});
    TensorList g = autograd::grad({y}, {x});
    ASSERT_EQ(g.size(), 1u);
    EXPECT_TRUE(all_close(g[0], from_vector<double>({20}, {1})));
    EXPECT_FALSE(w.grad().defined());
    EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradTest, GradWithRespectToANonLeaf) {
    Tensor x = leaf({1, 2}, {2});
    Tensor h = x * 3.0;      // intermediate activation, as a layer output for Grad-CAM
    Tensor y = (h * h).narrow(0, 1, 1).view({});  // h1^2 -> dy/dh = [0, 2*h1] = [0, 12]
    TensorList g = autograd::grad({y}, {h});
    EXPECT_TRUE(all_close(g[0], from_vector<double>({0, 12}, {2})));
    EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradTest, GradOfAnUnusedInput) {
    Tensor x = leaf({1}, {1});
    Tensor unused = leaf({1}, {1});
    Tensor y = (x * 2.0).view({});
    EXPECT_ENGINE_ERROR(autograd::grad({y}, {unused}, {}, true), "was not used to compute the outputs");
    TensorList g = autograd::grad({y}, {unused}, {}, false, /*allow_unused=*/true);
    EXPECT_FALSE(g[0].defined());
}

TEST(AutogradTest, FreedGraphRaisesAClearError) {
    Tensor x = leaf({1, 2}, {2});
    Tensor y = (x * x).narrow(0, 0, 1).view({});
    y.backward();
    EXPECT_ENGINE_ERROR(y.backward(), "backward through the graph a second time");
}

TEST(AutogradTest, RetainGraphAllowsASecondBackward) {
    Tensor x = leaf({1, 2}, {2});
    Tensor y = (x * x).narrow(0, 1, 1).view({});
    y.backward(Tensor(), /*retain_graph=*/true);
    y.backward();
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({0, 8}, {2})));
}

TEST(AutogradTest, NoGradAndDetachStopRecording) {
    Tensor x = leaf({1}, {1});
    {
        NoGradGuard guard;
        Tensor y = x * 2.0;
        EXPECT_FALSE(y.requires_grad());
        EXPECT_TRUE(y.is_leaf());
    }
    Tensor d = x.detach();
    EXPECT_FALSE(d.requires_grad());
    EXPECT_EQ(d.storage(), x.storage());
    Tensor z = (d * 2.0).view({});
    EXPECT_FALSE(z.requires_grad());
    EXPECT_ENGINE_ERROR(z.backward(), "does not require grad and has no grad_fn");
}

TEST(AutogradTest, NonDifferentiableOpsCutTheGraph) {
    Tensor x = leaf({1, -2}, {2});
    Tensor mask = gt(x, 0.0);
    EXPECT_FALSE(mask.requires_grad());
    EXPECT_EQ(mask.dtype(), DType::Bool);
    EXPECT_ENGINE_ERROR(mask.to(DType::Float64).view({2}).narrow(0, 0, 1).view({}).backward(),
                        "does not require grad");
}

TEST(AutogradTest, InPlaceModificationOfASavedTensorIsDetected) {
    Tensor x = leaf({1, 2}, {2});
    Tensor h = x * 1.0;
    Tensor y = (h * h).narrow(0, 0, 1).view({});  // saves h
    {
        NoGradGuard guard;
        h.fill_(5.0);  // modifies a tensor the graph needs
    }
    EXPECT_ENGINE_ERROR(y.backward(), "modified by an in-place operation");
}

TEST(AutogradTest, InPlaceWriteToATensorThatRequiresGradIsRefused) {
    Tensor x = leaf({1, 2}, {2});
    EXPECT_ENGINE_ERROR(x.fill_(0.0), "in-place write to a tensor that requires grad");
    NoGradGuard guard;
    x.fill_(0.0);  // allowed for parameter updates
    EXPECT_TRUE(all_close(x, zeros({2}, DType::Float64)));
}

TEST(AutogradTest, ViewGradientsReachTheBase) {
    Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor y = x.t().contiguous().view({6}).narrow(0, 1, 2);  // x.t() flattened = 1 4 2 5 3 6 -> [4, 2]
    y.backward(from_vector<double>({10, 20}, {2}));
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({0, 20, 0, 10, 0, 0}, {2, 3})));
}

TEST(AutogradTest, ExpandGradientSumsOverBroadcastDims) {
    Tensor b = leaf({1, 2}, {2, 1});
    Tensor y = b.expand({2, 3}) * 1.0;
    y.backward(ones({2, 3}, DType::Float64));
    EXPECT_TRUE(all_close(b.grad(), from_vector<double>({3, 3}, {2, 1})));
}

TEST(AutogradTest, DtypeAndCloneConversionsAreDifferentiable) {
    Tensor x = leaf({1.5, 2.5}, {2});
    Tensor y = x.to(DType::Float32).clone() * 2.0f;
    y.backward(ones({2}, DType::Float32));
    EXPECT_EQ(x.grad().dtype(), DType::Float64);
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({2, 2}, {2})));
}

// grad() w.r.t. one input must not make a node compute the gradients of its other inputs (the weights during
// Grad-CAM or integrated gradients): the closure sees them as not needed. backward() still asks for all.
TEST(AutogradTest, GradAsksNodesOnlyForTheGradientsItUses) {
    Tensor x = leaf({1, 2}, {2});
    Tensor w = leaf({3, 4}, {2});
    std::vector<std::vector<bool>> asked;
    auto product = [&asked](const Tensor& a, const Tensor& b) {
        Tensor y = (a.detach() * b.detach());
        record("product", {a, b}, {y}, [&asked, a = SavedTensor(a), b = SavedTensor(b)](
                                            const TensorList& g, const std::vector<bool>& needs) {
            asked.push_back(needs);
            return TensorList{needs[0] ? g[0] * b.get() : Tensor(), needs[1] ? g[0] * a.get() : Tensor()};
        });
        return y;
    };
    Tensor h = x * 2.0;  // a non-leaf: grad() w.r.t. an activation, as layer Grad-CAM takes it
    Tensor y = product(h, w);
    const TensorList gh = autograd::grad({y}, {h}, {ones({2}, DType::Float64)});
    EXPECT_TRUE(all_close(gh[0], from_vector<double>({3, 4}, {2})));
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0], (std::vector<bool>{true, false}));
    EXPECT_FALSE(w.grad().defined());

    product(h, w).backward(ones({2}, DType::Float64));
    ASSERT_EQ(asked.size(), 2u);
    EXPECT_EQ(asked[1], (std::vector<bool>{true, true}));
    EXPECT_TRUE(all_close(w.grad(), from_vector<double>({2, 4}, {2})));
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({6, 8}, {2})));
}

TEST(AutogradTest, GradOfALeafWithRespectToItself) {
    // Layer Grad-CAM at a model's input or a hook's output that is a leaf: the root is the leaf itself.
    Tensor x = leaf({1, 2, 3}, {3});
    const Tensor g = from_vector<double>({4, 5, 6}, {3});
    const TensorList gx = autograd::grad({x}, {x}, {g});
    EXPECT_TRUE(all_close(gx[0], g));
    EXPECT_FALSE(x.grad().defined());
    Tensor y = leaf({7}, {});
    const TensorList both = autograd::grad({x, y * 3.0}, {x, y}, {g, Tensor()});
    EXPECT_TRUE(all_close(both[0], g));
    EXPECT_TRUE(all_close(both[1], from_vector<double>({3}, {})));
}
