// Gradient checks of max_pool2d (tie-free inputs), avg_pool2d (both divisor rules, ceil_mode) and
// adaptive_avg_pool2d (non-divisible sizes), on 4-D, 3-D and non-contiguous inputs.
#include <gtest/gtest.h>

#include <vector>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;
using engine::test::random_tensor;

namespace {

Pool2dParams pool(int64_t k, int64_t s, int64_t pad, int64_t dilation = 1, bool ceil_mode = false,
                  bool count_include_pad = true) {
    Pool2dParams p;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = s;
    p.pad_h = p.pad_w = pad;
    p.dilation_h = p.dilation_w = dilation;
    p.ceil_mode = ceil_mode;
    p.count_include_pad = count_include_pad;
    return p;
}

// Distinct values 0.01 apart in a scrambled order (i * 37 mod n is a permutation when gcd(37, n) = 1), so no
// window has a tie that a finite-difference step could flip.
Tensor distinct_leaf(const Shape& shape) {
    const int64_t n = shape_numel(shape);
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 37) % n) * 0.01 - 0.5;
    Tensor t = from_vector<double>(v, shape);
    t.requires_grad_(true);
    return t;
}

auto max_fn(const Pool2dParams& p) {
    return [p](const TensorList& t) { return max_pool2d(t[0], p); };
}

auto avg_fn(const Pool2dParams& p) {
    return [p](const TensorList& t) { return avg_pool2d(t[0], p); };
}

}  // namespace

TEST(MaxPool2dGradTest, StridePaddingCeilMode) {
    EXPECT_TRUE(passes_gradcheck(max_fn(pool(3, 2, 1, 1, true)), {distinct_leaf({2, 2, 5, 6})}));
    EXPECT_TRUE(passes_gradcheck(max_fn(pool(2, 2, 0, 1, true)), {distinct_leaf({1, 2, 5, 5})}));
}

TEST(MaxPool2dGradTest, OverlappingDilatedWindows) {
    // Stride 1 windows overlap, so an input that wins several windows receives a sum.
    EXPECT_TRUE(passes_gradcheck(max_fn(pool(3, 1, 1)), {distinct_leaf({1, 2, 5, 4})}));
    EXPECT_TRUE(passes_gradcheck(max_fn(pool(2, 1, 1, 2)), {distinct_leaf({1, 1, 6, 7})}));
}

TEST(MaxPool2dGradTest, ThreeDAndNonContiguousInput) {
    const Pool2dParams p = pool(2, 1, 1);
    EXPECT_TRUE(passes_gradcheck(max_fn(p), {distinct_leaf({2, 4, 5})}));
    // A transposed view of tie-free values, checked as a non-contiguous leaf.
    Tensor base = distinct_leaf({1, 2, 6, 5}).detach();
    Tensor x = base.transpose(2, 3);
    x.requires_grad_(true);
    EXPECT_TRUE(passes_gradcheck(max_fn(p), {x}));
}

TEST(AvgPool2dGradTest, CountIncludePadAndCeilMode) {
    for (bool include_pad : {true, false}) {
        for (bool ceil_mode : {false, true}) {
            const Pool2dParams p = pool(3, 2, 1, 1, ceil_mode, include_pad);
            EXPECT_TRUE(passes_gradcheck(avg_fn(p), {random_leaf({2, 2, 6, 5}, 1)}))
                << "include_pad " << include_pad << " ceil_mode " << ceil_mode;
        }
    }
    // ceil_mode window past the padded input, and asymmetric kernel/stride.
    Pool2dParams p = pool(3, 2, 0, 1, true, false);
    EXPECT_TRUE(passes_gradcheck(avg_fn(p), {random_leaf({1, 1, 6, 6}, 2)}));
    p.kernel_w = 2, p.stride_w = 1, p.pad_w = 1;
    EXPECT_TRUE(passes_gradcheck(avg_fn(p), {random_leaf({1, 2, 5, 4}, 3)}));
}

TEST(AvgPool2dGradTest, ThreeDAndNonContiguousInput) {
    const Pool2dParams p = pool(2, 1, 1, 1, false, false);
    EXPECT_TRUE(passes_gradcheck(avg_fn(p), {random_leaf({2, 4, 3}, 4)}));
    Tensor x = random_tensor({1, 2, 5, 4}, 5).transpose(2, 3);
    x.requires_grad_(true);
    EXPECT_TRUE(passes_gradcheck(avg_fn(p), {x}));
}

TEST(AdaptiveAvgPool2dGradTest, NonDivisibleSizes) {
    auto f = [](int64_t oh, int64_t ow) {
        return [oh, ow](const TensorList& t) { return adaptive_avg_pool2d(t[0], oh, ow); };
    };
    EXPECT_TRUE(passes_gradcheck(f(3, 4), {random_leaf({1, 2, 7, 5}, 6)}));
    EXPECT_TRUE(passes_gradcheck(f(6, 7), {random_leaf({1, 1, 4, 5}, 7)}));  // more outputs than inputs
    EXPECT_TRUE(passes_gradcheck(f(1, 1), {random_leaf({2, 2, 3, 3}, 8)}));
    EXPECT_TRUE(passes_gradcheck(f(2, 3), {random_leaf({2, 5, 4}, 9)}));    // 3-D input
    Tensor x = random_tensor({1, 2, 5, 7}, 10).transpose(2, 3);
    x.requires_grad_(true);
    EXPECT_TRUE(passes_gradcheck(f(4, 2), {x}));
}
