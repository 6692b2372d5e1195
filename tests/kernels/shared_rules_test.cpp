// The rules both backends share through kernels/*.h (reduction plans, scalar formulas, convolution and pooling
// geometry, interpolation coordinates, dim views, accumulator merges), checked directly against hand-derived values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/batch_norm_math.h"
#include "kernels/conv_shape.h"
#include "kernels/dim_view.h"
#include "kernels/interp_coords.h"
#include "kernels/pool_shape.h"
#include "kernels/reduce_math.h"
#include "kernels/reduce_plan.h"
#include "kernels/scalar_math.h"

namespace engine {
namespace {

void expect_blocks(const std::vector<ReduceBlock>& got, const std::vector<ReduceBlock>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i].outer, want[i].outer) << "block " << i;
        EXPECT_EQ(got[i].reduce, want[i].reduce) << "block " << i;
        EXPECT_EQ(got[i].inner, want[i].inner) << "block " << i;
    }
}

TEST(SharedReducePlan, InnermostReducedRunFirstAndKeptRunsBecomeInner) {
    // (N, C, H, W) = (2, 3, 4, 5) over {0, 2, 3}: H*W = 20 first with N*C = 6 rows, then N = 2 over C = 3 columns.
    expect_blocks(reduce_blocks({2, 3, 4, 5}, {0, 2, 3}), {{6, 20, 1}, {1, 2, 3}});
    // Adjacent reduced dims merge into one pass.
    expect_blocks(reduce_blocks({2, 3, 4}, {1, 2}), {{2, 12, 1}});
}

TEST(SharedReducePlan, SizeOneDimsAreIgnored) {
    // The size-1 dim 2 sits between the reduced dim 1 and the kept dim 3, and must not split them.
    expect_blocks(reduce_blocks({1, 4, 1, 5}, {1, 2}), {{1, 4, 5}});
    EXPECT_TRUE(reduce_blocks({3, 1}, {1}).empty());
}

TEST(SharedReducePlan, ReducedShapeAndDefaultDims) {
    EXPECT_EQ(reduced_shape({2, 3, 4}, {1}, false), (Shape{2, 4}));
    EXPECT_EQ(reduced_shape({2, 3, 4}, {1}, true), (Shape{2, 1, 4}));
    EXPECT_EQ(reduce_dims_or_all({}, 3), (std::vector<int64_t>{0, 1, 2}));
    EXPECT_EQ(reduce_dims_or_all({2}, 3), (std::vector<int64_t>{2}));
}

TEST(SharedScalarMath, IntegerPowRulesAgreeWhereTheDoubleIsExact) {
    using scalar::IntegerPow;
    for (int64_t a = -6; a <= 6; ++a) {
        int64_t expected = 1;
        for (int64_t b = 0; b <= 12; ++b) {
            EXPECT_EQ((scalar::binary_value<IntegerPow::ThroughDouble, int64_t>(BinaryOp::Pow, a, b)), expected)
                << a << "^" << b;
            EXPECT_EQ((scalar::binary_value<IntegerPow::BySquaring, int64_t>(BinaryOp::Pow, a, b)), expected)
                << a << "^" << b;
            expected *= a;
        }
    }
    // Negative exponents truncate 1/a^|b| toward zero.
    const int64_t cases[][3] = {{2, -1, 0}, {1, -3, 1}, {-1, -3, -1}, {-1, -2, 1}, {-3, -1, 0}};
    for (const auto& c : cases) {
        EXPECT_EQ((scalar::binary_value<IntegerPow::ThroughDouble, int64_t>(BinaryOp::Pow, c[0], c[1])), c[2]);
        EXPECT_EQ((scalar::binary_value<IntegerPow::BySquaring, int64_t>(BinaryOp::Pow, c[0], c[1])), c[2]);
    }
}

TEST(SharedScalarMath, RoundingSignsAndNaN) {
    EXPECT_EQ(scalar::unary_value(UnaryOp::Round, 0.5f), 0.0f);
    EXPECT_EQ(scalar::unary_value(UnaryOp::Round, 1.5f), 2.0f);
    EXPECT_EQ(scalar::unary_value(UnaryOp::Round, 2.5), 2.0);
    EXPECT_EQ(scalar::unary_value(UnaryOp::Round, -2.5f), -2.0f);
    EXPECT_EQ(scalar::unary_value<uint8_t>(UnaryOp::Sign, 0), 0);
    EXPECT_EQ(scalar::unary_value<uint8_t>(UnaryOp::Sign, 7), 1);
    EXPECT_EQ(scalar::unary_value<int32_t>(UnaryOp::Abs, -7), 7);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    using scalar::IntegerPow;
    EXPECT_TRUE(std::isnan(scalar::binary_value<IntegerPow::ThroughDouble>(BinaryOp::Maximum, nan, 1.0f)));
    EXPECT_TRUE(std::isnan(scalar::binary_value<IntegerPow::ThroughDouble>(BinaryOp::Minimum, 1.0f, nan)));
    EXPECT_EQ((scalar::binary_value<IntegerPow::ThroughDouble, int32_t>(BinaryOp::Div, 7, 0)), 0);
    // d tanh / dx at y = tanh(x) = 0.5 is 1 - 0.25.
    EXPECT_FLOAT_EQ(scalar::unary_grad(UnaryOp::Tanh, 0.0f, 0.5f, 2.0f), 1.5f);
}

TEST(SharedPoolShape, FirstTapIsTheFirstDilatedTapInsideTheInput) {
    for (int64_t dilation = 1; dilation <= 4; ++dilation) {
        for (int64_t start = -10; start <= 5; ++start) {
            int64_t first = start;
            while (first < 0) first += dilation;
            EXPECT_EQ(pool_first_tap(start, dilation), first) << "start " << start << " dilation " << dilation;
        }
    }
}

TEST(SharedPoolShape, AverageWindowsClipToTheInputAndKeepThePaddedExtent) {
    // in 5, kernel 3, stride 2, pad 1: window 0 covers [-1, 2), window 2 covers [3, 6) which clips to [3, 5).
    const AvgRange first = avg_range(0, 5, 3, 2, 1), last = avg_range(2, 5, 3, 2, 1);
    EXPECT_EQ(first.begin, 0);
    EXPECT_EQ(first.end, 2);
    EXPECT_EQ(first.padded, 3);
    EXPECT_EQ(last.begin, 3);
    EXPECT_EQ(last.end, 5);
    EXPECT_EQ(last.padded, 3);
    EXPECT_EQ(avg_divisor(first, true), 3);
    EXPECT_EQ(avg_divisor(first, false), 2);
    const PoolGeometry g = pool_geometry({2, 3, 5, 7}, Pool2dParams{3, 3, 2, 0, 1, 1, 1, 1, false, true}, false);
    EXPECT_EQ(g.planes, 6);
    EXPECT_EQ(g.out_h, 3);
    EXPECT_EQ(g.out_w, 3);  // stride 0 is the kernel size: (7 + 2 - 3) / 3 + 1
    EXPECT_EQ(with_plane_size({2, 3, 5, 7}, g.out_h, g.out_w), (Shape{2, 3, 3, 3}));
}

TEST(SharedConvShape, OutputSizeIsPyTorchsFormula) {
    // (in + 2*pad - dilation*(kernel-1) - 1) / stride + 1
    EXPECT_EQ(conv_output_size(9, 3, 1, 1, 1), 9);
    EXPECT_EQ(conv_output_size(9, 3, 0, 2, 1), 4);  // span 6
    EXPECT_EQ(conv_output_size(10, 3, 1, 2, 2), 4);  // span 7, rounded down
    EXPECT_EQ(conv_output_size(5, 5, 0, 3, 1), 1);   // span 0: one window
    EXPECT_EQ(conv_span(4, 3, 0, 2), -1);            // the dilated kernel (extent 5) does not fit
    EXPECT_EQ(conv_span(4, 3, 1, 2), 1);
}

TEST(SharedConvShape, TransposedOutputSizeInvertsTheForwardOne) {
    for (int64_t stride = 1; stride <= 3; ++stride) {
        for (int64_t dilation = 1; dilation <= 2; ++dilation) {
            for (int64_t pad = 0; pad <= 1; ++pad) {
                for (int64_t in = 1; in <= 5; ++in) {
                    for (int64_t extra = 0; extra < stride; ++extra) {
                        const int64_t out = conv_transpose_output_size(in, 3, pad, stride, dilation, extra);
                        if (out < 1) continue;
                        // The convolution of the transposed convolution's output has its input's size again.
                        EXPECT_EQ(conv_output_size(out, 3, pad, stride, dilation), in)
                            << "in " << in << " stride " << stride << " dilation " << dilation << " pad " << pad
                            << " output_padding " << extra;
                    }
                }
            }
        }
    }
    EXPECT_EQ(conv_transpose_output_size(4, 2, 0, 2, 1, 0), 8);  // the U-Net's 2x2 stride-2 upsampling
}

TEST(SharedConvShape, ForwardShapeAndTheTrailingPaddingThatMatchesTheOutput) {
    const Conv2dParams p{2, 1, 1, 0, 1, 2, 2};  // stride 2x1, padding 1x0, dilation 1x2, groups 2
    const ConvShape s = conv_forward_shape({2, 4, 8, 9}, {6, 2, 3, 3}, p);
    EXPECT_EQ(s.n, 2);
    EXPECT_EQ(s.o, 6);
    EXPECT_EQ(s.oh, 4);  // (8 + 2 - 2 - 1) / 2 + 1
    EXPECT_EQ(s.ow, 5);  // (9 - 4 - 1) / 1 + 1
    EXPECT_EQ(s.group_in(), 2);
    EXPECT_EQ(s.group_out(), 3);
    // The last window of rows starts at 3 * 2 - 1 = 5 and ends at 7: row 8 (padding) is unread.
    EXPECT_EQ(s.pad_bottom(), 0);
    EXPECT_EQ(s.pad_right(), 0);
    // An input larger than the output needs (transposed convolution's output_padding): negative trailing padding.
    const ConvShape bigger = conv_shape({2, 4, 10, 9}, {6, 2, 3, 3}, 4, 5, p);
    EXPECT_EQ(bigger.pad_bottom(), -2);
    EXPECT_EQ(bigger.str(),
              "x [2, 4, 10, 9], w [6, 2, 3, 3], y [2, 6, 4, 5], stride 2x1, padding 1x0, dilation 1x2, groups 2");
}

TEST(SharedDimView, ProductsAroundTheDim) {
    const DimView mid = view_around_dim({2, 3, 4}, 1), first = view_around_dim({2, 3, 4}, 0);
    EXPECT_EQ(mid.outer, 2);
    EXPECT_EQ(mid.size, 3);
    EXPECT_EQ(mid.inner, 4);
    EXPECT_EQ(first.outer, 1);
    EXPECT_EQ(first.size, 2);
    EXPECT_EQ(first.inner, 12);
    const DimView scalar_view = view_around_dim({}, 0);
    EXPECT_EQ(scalar_view.outer * scalar_view.size * scalar_view.inner, 1);
}

TEST(SharedInterpCoords, NearestAndLinearSources) {
    // 3 -> 5: float32 scale 0.6, output 4 reads floor(2.4) = 2; doubling reads o / 2.
    const AxisMap up = axis_map<float>(3, 5, false, 0.0);
    EXPECT_EQ(nearest_source(4, up), 2);
    EXPECT_EQ(nearest_source(3, axis_map<float>(3, 6, false, 0.0)), 1);
    // 2 -> 4 without align_corners: sources (o + 0.5) * 0.5 - 0.5 = -0.25 (clamped to 0), 0.25, ..., 1.25.
    const AxisMap lin = axis_map<double>(2, 4, false, 0.0);
    const LinearTap<double> t0 = linear_tap<double>(0, lin), t1 = linear_tap<double>(1, lin);
    const LinearTap<double> t3 = linear_tap<double>(3, lin);
    EXPECT_EQ(t0.i0, 0);
    EXPECT_EQ(t0.w1, 0.0);
    EXPECT_EQ(t1.i0, 0);
    EXPECT_EQ(t1.i1, 1);
    EXPECT_DOUBLE_EQ(t1.w1, 0.25);
    EXPECT_EQ(t3.i0, 1);
    EXPECT_EQ(t3.i1, 1);  // the last input has no right neighbour
    EXPECT_DOUBLE_EQ(t3.w0, 0.75);
}

TEST(SharedReduceMath, NaNWinsAndVarianceMerges) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_TRUE(std::isnan(extreme_step<true>(1.0, nan)));
    EXPECT_TRUE(std::isnan(extreme_step<true>(nan, 5.0)));
    EXPECT_EQ(extreme_step<false>(3.0, 2.0), 2.0);
    EXPECT_EQ((extreme_identity<int32_t, true>()), std::numeric_limits<int32_t>::lowest());
    // {2} and {4}: mean 3, sum of squared deviations 2.
    const VarAcc merged = var_merge({1.0, 2.0, 0.0}, {1.0, 4.0, 0.0});
    EXPECT_EQ(merged.n, 2.0);
    EXPECT_EQ(merged.mean, 3.0);
    EXPECT_EQ(merged.m2, 2.0);
    EXPECT_EQ(var_value(merged, 1.0), 2.0);
    EXPECT_TRUE(std::isinf(var_value(merged, 3.0)));  // degrees of freedom clamp at 0
}

TEST(SharedBatchNormMath, CoefficientsAndRunningStats) {
    const BnGradCoefficients eval = bn_grad_coefficients(4.0, 2.0, 0.5, 3.0, 8.0, false);
    EXPECT_EQ(eval.a, 1.5);
    EXPECT_EQ(eval.b, 0.0);
    EXPECT_EQ(eval.c, 0.0);
    const BnGradCoefficients train = bn_grad_coefficients(4.0, 2.0, 0.5, 3.0, 8.0, true);
    EXPECT_DOUBLE_EQ(train.b, -4.0 / 8.0 * 1.5);
    EXPECT_DOUBLE_EQ(train.c, -2.0 * 0.25 / 8.0 * 1.5);
    EXPECT_DOUBLE_EQ(bn_unbiased_var(2.0, 4.0), 8.0 / 3.0);
    EXPECT_DOUBLE_EQ(bn_running_update(1.0, 3.0, 0.1), 1.2);
    const BnLayout l = bn_layout({2, 3, 4, 5});
    EXPECT_EQ(l.inner, 20);
    EXPECT_EQ(l.count(), 40);
    EXPECT_EQ(l.at(1, 21), (1 * 3 + 1) * 20 + 1);  // value 21 of channel 1: sample 1, position 1
}

}  // namespace
}  // namespace engine
