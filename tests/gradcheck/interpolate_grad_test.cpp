// Gradient checks of interpolate / interpolate_scale: nearest and bilinear (both align_corners), upsampling
// and downsampling by integer and non-integer ratios, scale factors and a non-contiguous input.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;
using engine::test::random_tensor;

namespace {

auto resize(int64_t oh, int64_t ow, InterpMode mode, bool align_corners = false) {
    return [=](const TensorList& t) { return interpolate(t[0], oh, ow, mode, align_corners); };
}

auto rescale(double sh, double sw, InterpMode mode, bool align_corners = false) {
    return [=](const TensorList& t) { return interpolate_scale(t[0], sh, sw, mode, align_corners); };
}

}  // namespace

TEST(InterpolateGradTest, NearestUpAndDown) {
    EXPECT_TRUE(passes_gradcheck(resize(7, 9, InterpMode::Nearest), {random_leaf({1, 2, 3, 4}, 1)}));
    EXPECT_TRUE(passes_gradcheck(resize(3, 2, InterpMode::Nearest), {random_leaf({2, 1, 7, 5}, 2)}));
    EXPECT_TRUE(passes_gradcheck(resize(8, 6, InterpMode::Nearest), {random_leaf({1, 2, 4, 3}, 3)}));  // x2
    EXPECT_TRUE(passes_gradcheck(rescale(1.7, 0.6, InterpMode::Nearest), {random_leaf({1, 2, 4, 6}, 4)}));
}

TEST(InterpolateGradTest, BilinearBothAlignCorners) {
    for (bool align : {false, true}) {
        EXPECT_TRUE(passes_gradcheck(resize(7, 9, InterpMode::Bilinear, align), {random_leaf({1, 2, 3, 4}, 5)}))
            << align;
        EXPECT_TRUE(passes_gradcheck(resize(3, 2, InterpMode::Bilinear, align), {random_leaf({2, 1, 7, 5}, 6)}))
            << align;
        EXPECT_TRUE(passes_gradcheck(resize(1, 5, InterpMode::Bilinear, align), {random_leaf({1, 1, 4, 3}, 7)}))
            << align;
        EXPECT_TRUE(passes_gradcheck(rescale(2.5, 0.7, InterpMode::Bilinear, align), {random_leaf({1, 2, 3, 6}, 8)}))
            << align;
    }
}

TEST(InterpolateGradTest, NonContiguousInput) {
    Tensor x = random_tensor({1, 2, 5, 4}, 9).transpose(2, 3);
    x.requires_grad_(true);
    EXPECT_TRUE(passes_gradcheck(resize(6, 3, InterpMode::Bilinear), {x}));
    EXPECT_TRUE(passes_gradcheck(resize(6, 3, InterpMode::Nearest), {x}));
}
