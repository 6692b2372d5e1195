// interpolate / interpolate_scale against references written from PyTorch's coordinate mappings: nearest
// (float32 scale, size shortcuts, 1/scale_factor when scale factors are given) and bilinear with both
// align_corners settings, upsampling and downsampling by non-integer ratios, their backward, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/test_util.h"

namespace engine {
namespace {

using test::all_close;
using test::random_tensor;

// PyTorch's nearest: source = min(floor(dst * scale), in - 1) with scale = 1/scale_factor when one is given,
// else in/out, evaluated in float32; equal and doubled sizes map exactly.
int64_t ref_nearest(int64_t dst, int64_t in, int64_t out, double scale_factor) {
    if (out == in) return dst;
    if (out == 2 * in) return dst / 2;
    const float scale = scale_factor > 0 ? static_cast<float>(1.0 / scale_factor) : float(in) / float(out);
    return std::min(static_cast<int64_t>(std::floor(float(dst) * scale)), in - 1);
}

struct Tap {
    int64_t i0, i1;
    double lambda;  // weight of i1
};

// Bilinear source coordinate: align_corners maps the corner pixels' centres onto each other; otherwise
// pixel centres are scaled with in/out (or 1/scale_factor) and clamped at 0. Equal sizes copy.
Tap ref_linear(int64_t dst, int64_t in, int64_t out, bool align_corners, double scale_factor) {
    if (in == out) return {dst, dst, 0.0};
    double src;
    if (align_corners) {
        src = out > 1 ? dst * double(in - 1) / double(out - 1) : 0.0;
    } else {
        const double scale = scale_factor > 0 ? 1.0 / scale_factor : double(in) / double(out);
        src = std::max((dst + 0.5) * scale - 0.5, 0.0);
    }
    const auto i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    return {i0, std::min(i0 + 1, in - 1), std::min(std::max(src - double(i0), 0.0), 1.0)};
}

struct Case {
    int64_t in_h, in_w, out_h, out_w;
    double scale_h = 0, scale_w = 0;  // > 0: call interpolate_scale
};

Shape out_shape(const Shape& x, const Case& c) {
    if (c.scale_h > 0) {
        return {x[0], x[1], static_cast<int64_t>(std::floor(x[2] * c.scale_h)),
                static_cast<int64_t>(std::floor(x[3] * c.scale_w))};
    }
    return {x[0], x[1], c.out_h, c.out_w};
}

// Output and, given an output gradient, input gradient of the reference.
struct RefInterp {
    Tensor y, grad_x;
};

RefInterp ref_interpolate(const Tensor& x, const Case& c, InterpMode mode, bool align_corners, const Tensor& g) {
    const Shape os = out_shape(x.shape(), c);
    const int64_t planes = x.size(0) * x.size(1), ih = x.size(2), iw = x.size(3), oh = os[2], ow = os[3];
    const std::vector<double> xv = x.to_vector<double>(), gv = g.to_vector<double>();
    std::vector<double> y(planes * oh * ow, 0.0), gx(xv.size(), 0.0);
    for (int64_t p = 0; p < planes; ++p) {
        for (int64_t h = 0; h < oh; ++h) {
            for (int64_t w = 0; w < ow; ++w) {
                const int64_t o = (p * oh + h) * ow + w;
                if (mode == InterpMode::Nearest) {
                    const int64_t src_h = ref_nearest(h, ih, oh, c.scale_h), src_w = ref_nearest(w, iw, ow, c.scale_w);
                    const int64_t i = (p * ih + src_h) * iw + src_w;
                    y[o] = xv[i];
                    gx[i] += gv[o];
                    continue;
                }
                const Tap th = ref_linear(h, ih, oh, align_corners, c.scale_h);
                const Tap tw = ref_linear(w, iw, ow, align_corners, c.scale_w);
                const int64_t rows[2] = {th.i0, th.i1}, cols[2] = {tw.i0, tw.i1};
                const double wh[2] = {1 - th.lambda, th.lambda}, ww[2] = {1 - tw.lambda, tw.lambda};
                for (int a = 0; a < 2; ++a) {
                    for (int b = 0; b < 2; ++b) {
                        const int64_t i = (p * ih + rows[a]) * iw + cols[b];
                        y[o] += wh[a] * ww[b] * xv[i];
                        gx[i] += wh[a] * ww[b] * gv[o];
                    }
                }
            }
        }
    }
    return {from_vector<double>(y, os), from_vector<double>(gx, x.shape())};
}

std::vector<Case> cases() {
    return {{5, 7, 3, 4},       {7, 10, 10, 6},      {10, 6, 6, 4},        {4, 5, 9, 11},     {6, 6, 12, 12},
            {13, 17, 7, 5},     {1, 6, 1, 3},        {3, 1, 7, 1},         {5, 5, 5, 5},      {2, 3, 1, 1},
            {5, 7, 0, 0, 0.7, 1.1}, {6, 9, 0, 0, 2.5, 1.3333}, {13, 17, 0, 0, 0.37, 0.61}, {4, 4, 0, 0, 2.0, 3.0}};
}

Tensor run(const Tensor& x, const Case& c, InterpMode mode, bool align_corners) {
    return c.scale_h > 0 ? interpolate_scale(x, c.scale_h, c.scale_w, mode, align_corners)
                         : interpolate(x, c.out_h, c.out_w, mode, align_corners);
}

TEST(InterpolateTest, NearestMatchesReference) {
    uint64_t seed = 1;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Case& c : cases()) {
            Tensor x = random_tensor({2, 3, c.in_h, c.in_w}, ++seed, dtype);
            x.requires_grad_(true);
            Tensor y = run(x, c, InterpMode::Nearest, false);
            const Tensor g = random_tensor(y.shape(), ++seed, dtype);
            y.backward(g);
            const RefInterp r = ref_interpolate(x.detach(), c, InterpMode::Nearest, false, g);
            EXPECT_TRUE(all_close(y, r.y, 0, 0)) << c.in_h << "x" << c.in_w << " -> " << shape_str(y.shape());
            EXPECT_TRUE(all_close(x.grad(), r.grad_x, 1e-6, 1e-6)) << c.in_h << "x" << c.in_w;
        }
    }
}

TEST(InterpolateTest, BilinearMatchesReference) {
    uint64_t seed = 100;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double tol = dtype == DType::Float32 ? 2e-5 : 1e-12;
        for (bool align_corners : {false, true}) {
            for (const Case& c : cases()) {
                Tensor x = random_tensor({2, 2, c.in_h, c.in_w}, ++seed, dtype);
                x.requires_grad_(true);
                Tensor y = run(x, c, InterpMode::Bilinear, align_corners);
                const Tensor g = random_tensor(y.shape(), ++seed, dtype);
                y.backward(g);
                const RefInterp r = ref_interpolate(x.detach(), c, InterpMode::Bilinear, align_corners, g);
                EXPECT_TRUE(all_close(y, r.y, tol, tol))
                    << c.in_h << "x" << c.in_w << " -> " << shape_str(y.shape()) << " align " << align_corners;
                EXPECT_TRUE(all_close(x.grad(), r.grad_x, tol, tol)) << c.in_h << "x" << c.in_w;
            }
        }
    }
}

TEST(InterpolateTest, ValuesMatchPyTorch) {
    const Tensor row = arange(0, 5, 1, DType::Float64).view({1, 1, 1, 5});
    // torch: F.interpolate(row, scale_factor=(1, 0.7)) -> [0, 1, 2] but size=(1, 3) -> [0, 1, 3].
    EXPECT_EQ(interpolate_scale(row, 1, 0.7, InterpMode::Nearest).to_vector<double>(), (std::vector<double>{0, 1, 2}));
    EXPECT_EQ(interpolate(row, 1, 3, InterpMode::Nearest).to_vector<double>(), (std::vector<double>{0, 1, 3}));
    // scale_factor 1.1 keeps width 5, which PyTorch copies for both modes.
    EXPECT_EQ(interpolate_scale(row, 1, 1.1, InterpMode::Bilinear).to_vector<double>(),
              (std::vector<double>{0, 1, 2, 3, 4}));
    // torch: F.interpolate(arange(4.).view(1,1,1,4), size=(1,3), mode='bilinear', align_corners=True/False)
    const Tensor r4 = arange(0, 4, 1, DType::Float64).view({1, 1, 1, 4});
    EXPECT_TRUE(all_close(interpolate(r4, 1, 3, InterpMode::Bilinear, true),
                          from_vector<double>({0, 1.5, 3}, {1, 1, 1, 3})));
    EXPECT_TRUE(all_close(interpolate(r4, 1, 3, InterpMode::Bilinear, false),
                          from_vector<double>({1.0 / 6, 1.5, 17.0 / 6}, {1, 1, 1, 3})));
}

TEST(InterpolateTest, NonContiguousInput) {
    const Tensor base = random_tensor({2, 3, 9, 6}, 200, DType::Float32);
    const Tensor x = base.transpose(2, 3).narrow(1, 1, 2);  // (2, 2, 6, 9)
    ASSERT_FALSE(x.is_contiguous());
    const Tensor g = zeros({2, 2, 4, 13}, DType::Float32);
    for (InterpMode mode : {InterpMode::Nearest, InterpMode::Bilinear}) {
        const RefInterp r = ref_interpolate(x, {6, 9, 4, 13}, mode, false, g);
        EXPECT_TRUE(all_close(interpolate(x, 4, 13, mode), r.y, 2e-5, 2e-5));
        EXPECT_TRUE(all_close(interpolate(x, 4, 13, mode), interpolate(x.contiguous(), 4, 13, mode), 0, 0));
    }
}

TEST(InterpolateTest, BadInputs) {
    const Tensor x = random_tensor({1, 2, 4, 5}, 1);
    EXPECT_ENGINE_ERROR(interpolate(random_tensor({2, 4, 5}, 1), 3, 3, InterpMode::Bilinear), "4-D");
    EXPECT_ENGINE_ERROR(interpolate(random_tensor({1, 1, 2, 4, 5}, 1), 3, 3, InterpMode::Nearest), "4-D");
    EXPECT_ENGINE_ERROR(interpolate(x, 3, 3, InterpMode::Nearest, true), "align_corners");
    EXPECT_ENGINE_ERROR(interpolate_scale(x, 2, 2, InterpMode::Nearest, true), "align_corners");
    EXPECT_ENGINE_ERROR(interpolate(x, 0, 3, InterpMode::Bilinear), "output (H: 0, W: 3)");
    EXPECT_ENGINE_ERROR(interpolate(x, 3, -1, InterpMode::Nearest), "greater than 0");
    EXPECT_ENGINE_ERROR(interpolate_scale(x, 0.1, 1, InterpMode::Nearest), "input (H: 4, W: 5) output (H: 0, W: 5)");
    EXPECT_ENGINE_ERROR(interpolate_scale(x, 0, 1, InterpMode::Nearest), "scale factors must be positive");
    EXPECT_ENGINE_ERROR(interpolate_scale(x, 1, -2, InterpMode::Bilinear), "scale factors must be positive");
    EXPECT_ENGINE_ERROR(interpolate(x.to(DType::Int64), 3, 3, InterpMode::Nearest), "int64");
    EXPECT_ENGINE_ERROR(interpolate(random_tensor({1, 0, 4, 5}, 1), 3, 3, InterpMode::Nearest), "non-zero sizes");
}

}  // namespace
}  // namespace engine
