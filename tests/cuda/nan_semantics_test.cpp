// NaN and infinity through the ops that select or compare (relu, clamp, maximum, max/min reductions, max
// pooling, softmax), forward and backward, on the CPU and on the CUDA device (emulated in cuda_emu_tests).
// The expected values are PyTorch 2.15's for the same inputs: a NaN in a model's weights or input must stay
// visible in its output, as it does in PyTorch, and not be turned into 0 by a comparison.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "common/test_util.h"
#include "cuda/cuda_test_util.h"
#include "kernels/factories.h"

using namespace engine;
using namespace engine::test;

namespace {

constexpr double kNaN = NAN, kInf = INFINITY;

std::vector<Device> devices() {
    std::vector<Device> all{Device::cpu()};
    if (cuda::is_available()) all.push_back(cuda_device());
    return all;
}

Tensor on(Device device, const std::vector<double>& values, const Shape& shape, bool grad = false) {
    Tensor t = from_vector<double>(values, shape).to(DType::Float32).to(device);
    if (grad) t.requires_grad_();
    return t;
}

// Element-wise identity where NaN equals NaN.
::testing::AssertionResult same_values(const Tensor& got, const std::vector<double>& expected) {
    const std::vector<double> g = got.to(Device::cpu()).to(DType::Float64).to_vector<double>();
    if (g.size() != expected.size()) return ::testing::AssertionFailure() << g.size() << " values, expected " << expected.size();
    for (size_t i = 0; i < g.size(); ++i) {
        const bool same = std::isnan(expected[i]) ? std::isnan(g[i]) : g[i] == expected[i];
        if (!same) return ::testing::AssertionFailure() << "value " << i << ": " << g[i] << ", expected " << expected[i];
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_indices(const Tensor& got, const std::vector<int64_t>& expected) {
    const std::vector<int64_t> g = got.to(Device::cpu()).to_vector<int64_t>();
    if (g == expected) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure() << "indices";
    for (int64_t v : g) failure << " " << v;
    return failure;
}

}  // namespace

TEST(NanSemanticsTest, ReluPropagatesNanAndLetsItsGradientThrough) {
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        Tensor x = on(d, {kNaN, -1, 2, kInf, -kInf, 0}, {6}, true);
        const Tensor y = relu(x);
        EXPECT_TRUE(same_values(y, {kNaN, 0, 2, kInf, 0, 0}));
        sum(y).backward();
        // PyTorch's threshold_backward zeroes the gradient where y <= 0, so a NaN input passes it on.
        EXPECT_TRUE(same_values(x.grad(), {1, 0, 1, 1, 0, 0}));
        // The integer path as well, which has no NaN but the same comparison.
        EXPECT_TRUE(same_values(relu(from_vector<int64_t>({-3, 0, 4}, {3}).to(d)), {0, 0, 4}));
    }
}

TEST(NanSemanticsTest, ClampKeepsNanAndGivesItNoGradient) {
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        Tensor x = on(d, {kNaN, 1, -1, 5, kInf}, {5}, true);
        const Tensor y = clamp(x, 0.0, 2.0);
        EXPECT_TRUE(same_values(y, {kNaN, 1, 0, 2, 2}));
        sum(y).backward();
        EXPECT_TRUE(same_values(x.grad(), {0, 1, 0, 0, 0}));
    }
}

TEST(NanSemanticsTest, MaximumMinimumAndReductionsReturnNan) {
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        EXPECT_TRUE(same_values(maximum(on(d, {kNaN, 1}, {2}), on(d, {1, kNaN}, {2})), {kNaN, kNaN}));
        EXPECT_TRUE(same_values(minimum(on(d, {kNaN, 1}, {2}), on(d, {1, kNaN}, {2})), {kNaN, kNaN}));
        const Tensor flat = on(d, {kNaN, -1, 2, kInf, -kInf}, {5});
        EXPECT_TRUE(same_values(max(flat), {kNaN}));
        EXPECT_TRUE(same_values(min(flat), {kNaN}));
        EXPECT_TRUE(same_indices(argmax(flat, 0), {0}));
        EXPECT_TRUE(same_indices(argmin(flat, 0), {0}));
        const Tensor rows = on(d, {1, kNaN, 3, 4, 5, 6}, {2, 3});
        const auto [max_values, max_indices] = max(rows, 1);
        EXPECT_TRUE(same_values(max_values, {kNaN, 6}));
        EXPECT_TRUE(same_indices(max_indices, {1, 2}));
        const auto [min_values, min_indices] = min(rows, 1);
        EXPECT_TRUE(same_values(min_values, {kNaN, 4}));
        EXPECT_TRUE(same_indices(min_indices, {1, 0}));
        EXPECT_TRUE(same_values(amax(rows, {1}), {kNaN, 6}));
        EXPECT_TRUE(same_values(amin(rows, {1}), {kNaN, 4}));
        // Infinities are ordinary values.
        EXPECT_TRUE(same_values(amax(on(d, {-kInf, kInf, 1}, {3}), {0}), {kInf}));
    }
}

TEST(NanSemanticsTest, MaxPoolingSelectsNanAndRoutesItsGradient) {
    Pool2dParams p;
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        Tensor x = on(d, {1, kNaN, 3, 4, -kInf, -kInf, -kInf, -kInf}, {1, 2, 2, 2}, true);
        const auto [y, indices] = max_pool2d_with_indices(x, p);
        EXPECT_TRUE(same_values(y, {kNaN, -kInf}));
        EXPECT_TRUE(same_indices(indices, {1, 0}));
        sum(y).backward();
        EXPECT_TRUE(same_values(x.grad(), {0, 1, 0, 0, 1, 0, 0, 0}));
    }
}

TEST(NanSemanticsTest, SoftmaxAndCrossEntropyOfNanAreNan) {
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        EXPECT_TRUE(same_values(softmax(on(d, {kNaN, 1}, {2}), 0), {kNaN, kNaN}));
        EXPECT_TRUE(same_values(softmax(on(d, {kInf, 1}, {2}), 0), {kNaN, kNaN}));
        const Tensor target = from_vector<int64_t>({1}, {1}).to(d);
        EXPECT_TRUE(same_values(cross_entropy(on(d, {kNaN, 1}, {1, 2}), target), {kNaN}));
    }
}
