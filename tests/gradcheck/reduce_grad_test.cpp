// Gradient checks of the reductions in float64 (dims, keepdim, negative dims, broadcast and strided inputs),
// plus the exact tie-splitting rules of max / amax and the index rule of max(dim).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/test_util.h"

using namespace engine;
using engine::test::all_close;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

namespace {

const std::vector<std::vector<int64_t>> kDims = {{}, {0}, {1}, {-1}, {0, 2}, {-3, -2}, {0, 1, 2}};

}  // namespace

TEST(SumGradTest, DimsAndKeepdim) {
    const Tensor x = random_leaf({3, 4, 2}, 1);
    for (const auto& dims : kDims) {
        for (bool keepdim : {false, true}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return sum(in[0], dims, keepdim); }, {x}))
                << shape_str(dims) << keepdim;
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return mean(in[0], dims, keepdim); }, {x}))
                << shape_str(dims) << keepdim;
        }
    }
}

TEST(SumGradTest, BroadcastAndStridedInputs) {
    const Tensor row = random_leaf({1, 5}, 2);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return sum(in[0].expand({4, 5}), {0}); }, {row}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return mean(in[0].expand({3, 5}), {1}, true); }, {row}));
    const Tensor x = random_leaf({4, 3, 5}, 3);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return sum(in[0].transpose(0, 2), {1, 2}); }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return mean(in[0].narrow(2, 1, 3), {0}); }, {x}));
    const Tensor s = random_leaf({}, 4);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return mul(sum(in[0], {0}), 3.0); }, {s}));
}

TEST(MaxGradTest, AllElementsAndAlongDims) {
    const Tensor x = random_leaf({3, 4, 2}, 5);  // distinct values: no ties, no kinks
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return max(in[0]); }, {x}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return min(in[0].transpose(0, 1)); }, {x}));
    for (int64_t dim : {0, 1, 2, -1}) {
        for (bool keepdim : {false, true}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return max(in[0], dim, keepdim).first; }, {x}));
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return min(in[0], dim, keepdim).first; }, {x}));
        }
    }
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return max(in[0].permute({2, 0, 1}), 2).first; }, {x}));
    for (const auto& dims : kDims) {
        for (bool keepdim : {false, true}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return amax(in[0], dims, keepdim); }, {x}));
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return amin(in[0], dims, keepdim); }, {x}));
        }
    }
    const Tensor one = random_leaf({4, 1}, 6);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return max(in[0], 1).first; }, {one}));
}

TEST(MaxGradTest, TiesShareTheGradientEvenly) {
    Tensor x = from_vector<double>({1, 5, 5, 2, 5, 0}, {2, 3});
    x.requires_grad_(true);
    max(x).backward();
    EXPECT_TRUE(all_close(x.grad(), from_vector<double>({0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0}, {2, 3}), 1e-15));

    Tensor y = from_vector<double>({1, 5, 5, 2, 5, 0}, {2, 3});
    y.requires_grad_(true);
    sum(mul(amax(y, {1}), from_vector<double>({2, 3}, {2}))).backward();
    EXPECT_TRUE(all_close(y.grad(), from_vector<double>({0, 1, 1, 0, 3, 0}, {2, 3}), 1e-15));

    // max along a dim sends the whole gradient to the (first) returned index.
    Tensor z = from_vector<double>({1, 5, 5, 2, 5, 0}, {2, 3});
    z.requires_grad_(true);
    sum(max(z, 1).first).backward();
    EXPECT_TRUE(all_close(z.grad(), from_vector<double>({0, 1, 0, 0, 1, 0}, {2, 3}), 0));

    // NaN: max() shares the gradient among the NaNs; amax gives NaN gradients to a row whose max is NaN
    // (PyTorch's results).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    Tensor n1 = from_vector<double>({1, nan, nan, 2}, {4});
    n1.requires_grad_(true);
    max(n1).backward();
    EXPECT_TRUE(all_close(n1.grad(), from_vector<double>({0, 0.5, 0.5, 0}, {4}), 0));
    Tensor n2 = from_vector<double>({1, nan, 3, 3}, {2, 2});
    n2.requires_grad_(true);
    sum(amax(n2, {1})).backward();
    const std::vector<double> g2 = n2.grad().to_vector<double>();
    EXPECT_TRUE(std::isnan(g2[0]) && std::isnan(g2[1]));
    EXPECT_EQ(g2[2], 0.5);
    EXPECT_EQ(g2[3], 0.5);

    Tensor w = from_vector<double>({-1, -1, 3}, {3});
    w.requires_grad_(true);
    min(w).backward();
    EXPECT_TRUE(all_close(w.grad(), from_vector<double>({0.5, 0.5, 0}, {3}), 1e-15));
}

TEST(VarGradTest, DimsCorrectionsAndStd) {
    const Tensor x = random_leaf({3, 4, 2}, 7);
    for (const auto& dims : kDims) {
        for (double correction : {0.0, 1.0, 2.0}) {
            for (bool keepdim : {false, true}) {
                int64_t n = 1;
                for (int64_t d = 0; d < 3; ++d) {
                    const bool reduced = dims.empty() || std::find(dims.begin(), dims.end(), d) != dims.end() ||
                                         std::find(dims.begin(), dims.end(), d - 3) != dims.end();
                    if (reduced) n *= x.shape()[d];
                }
                if (n <= correction) continue;  // no degrees of freedom left: inf / nan, nothing to check
                EXPECT_TRUE(
                    passes_gradcheck([&](const TensorList& in) { return var(in[0], dims, correction, keepdim); }, {x}))
                    << shape_str(dims) << " " << correction;
                EXPECT_TRUE(passes_gradcheck(
                    [&](const TensorList& in) { return engine::std(in[0], dims, correction, keepdim); }, {x}))
                    << shape_str(dims) << " " << correction;
            }
        }
    }
    const Tensor col = random_leaf({4, 1}, 8);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return var(in[0].expand({4, 3}).t(), {1}); }, {col}));
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return engine::std(in[0].narrow(0, 1, 3)); }, {col}));
}

TEST(ArgmaxGradTest, IndicesAreNotDifferentiable) {
    const Tensor x = random_leaf({3, 4}, 9);
    const Tensor i = argmax(x, 1);
    EXPECT_FALSE(i.requires_grad());
    EXPECT_FALSE(max(x, 0).second.requires_grad());
    EXPECT_TRUE(max(x, 0).first.requires_grad());
    EXPECT_FALSE(sum(from_vector<int32_t>({1, 2}, {2})).requires_grad());
}
