// Resizing: bilinear against PyTorch's values and a double-precision reference of its rule, nearest against
// PyTorch's values, and the 8-bit image variants.
#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"
#include "datasets/data_test_util.h"
#include "models/data/image.h"

namespace engine::data {
namespace {

// F.interpolate(mode="bilinear", align_corners=False) written out: source coordinate (o + 0.5) * in / out - 0.5
// clamped at 0, the two neighbours (the upper one clamped to the edge). PyTorch computes the coordinate in
// the input's precision (float for float32: scale = float(in) / out), the weighted sum here is in double.
template <class Coord>
std::vector<double> reference_bilinear(const std::vector<double>& x, int64_t c, int64_t ih, int64_t iw, int64_t oh,
                                       int64_t ow) {
    auto taps = [](int64_t o, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& w1) {
        const Coord scale = static_cast<Coord>(in) / static_cast<Coord>(out);
        Coord src = scale * (static_cast<Coord>(o) + Coord(0.5)) - Coord(0.5);
        src = std::max<Coord>(src, 0);
        i0 = std::min<int64_t>(static_cast<int64_t>(src), in - 1);
        i1 = std::min<int64_t>(i0 + 1, in - 1);
        w1 = src - static_cast<double>(i0);
    };
    std::vector<double> out(static_cast<size_t>(c * oh * ow));
    for (int64_t k = 0; k < c; ++k)
        for (int64_t y = 0; y < oh; ++y)
            for (int64_t xo = 0; xo < ow; ++xo) {
                int64_t y0, y1, x0, x1;
                double wy, wx;
                taps(y, ih, oh, y0, y1, wy);
                taps(xo, iw, ow, x0, x1, wx);
                auto at = [&](int64_t yy, int64_t xx) { return x[static_cast<size_t>((k * ih + yy) * iw + xx)]; };
                out[static_cast<size_t>((k * oh + y) * ow + xo)] =
                    (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                    wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
            }
    return out;
}

TEST(ResizeTest, BilinearMatchesPyTorch) {
    // x = ((arange(24) * 0.37 - 1) ** 2 * 0.1).reshape(2, 3, 4); F.interpolate(x[None], (5, 3), "bilinear").
    const std::vector<float> x = {
        0.10000000149011612f, 0.03968999907374382f, 0.00675999978557229f, 0.001210000249557197f, 0.023040002211928368f,
        0.07225000113248825f, 0.1488400101661682f,  0.2528100609779358f,  0.38416001200675964f,  0.5428900122642517f,
        0.7290000319480896f,  0.9424901008605957f,  1.183359980583191f,   1.4516099691390991f,   1.7472403049468994f,
        2.0702502727508545f,  2.420639991760254f,   2.798410177230835f,   3.2035598754882812f,   3.636090040206909f,
        4.0960001945495605f,  4.583290100097656f,   5.097960948944092f,   5.640010356903076f};
    const std::vector<double> expected = {
        0.0899483, 0.023225,  0.002135,  0.0664657, 0.058153,  0.0954737, 0.0312417, 0.110545,  0.2354817, 0.2588657,
        0.4257851, 0.6383379, 0.410615,  0.635945,  0.9069085, 1.2280684, 1.5994251, 2.0164154, 1.7302817, 2.1600492,
        2.6354499, 2.4836018, 3.0009851, 3.5640018, 3.4997702, 4.1047692, 4.7554026, 4.1772151, 4.8406253, 5.5496688};
    const Tensor out = resize_bilinear(from_vector<float>(x, {2, 3, 4}), 5, 3);
    ASSERT_EQ(out.shape(), (Shape{2, 5, 3}));
    EXPECT_TRUE(test::all_close(out, from_vector<double>(expected, {2, 5, 3}).to(DType::Float32), 2e-7, 1e-6));
}

TEST(ResizeTest, BilinearMatchesReferenceOnEdgeSizes) {
    struct Case {
        int64_t c, ih, iw, oh, ow;
    };
    const Case cases[] = {{3, 7, 5, 11, 4}, {1, 1, 1, 3, 2},  {2, 9, 13, 4, 5}, {1, 5, 5, 5, 5},
                          {1, 4, 6, 8, 12}, {1, 17, 3, 2, 7}, {2, 2, 2, 1, 1},  {1, 31, 29, 7, 37}};
    uint64_t seed = 1;
    for (const Case& k : cases) {
        for (DType dtype : {DType::Float32, DType::Float64}) {
            const Tensor x = test::random_tensor({k.c, k.ih, k.iw}, seed++, dtype, -2.0, 3.0);
            const std::vector<double> want =
                dtype == DType::Float32
                    ? reference_bilinear<float>(x.to_vector<double>(), k.c, k.ih, k.iw, k.oh, k.ow)
                    : reference_bilinear<double>(x.to_vector<double>(), k.c, k.ih, k.iw, k.oh, k.ow);
            const Tensor got = resize_bilinear(x, k.oh, k.ow);
            EXPECT_EQ(got.dtype(), dtype);
            const double tol = dtype == DType::Float32 ? 1e-6 : 1e-12;
            EXPECT_TRUE(test::all_close(got, from_vector<double>(want, {k.c, k.oh, k.ow}).to(dtype), tol, tol))
                << k.ih << "x" << k.iw << " -> " << k.oh << "x" << k.ow;
            // (H,W) input and a non-contiguous view give the same numbers.
            const Tensor plane = resize_bilinear(x.select(0, 0), k.oh, k.ow);
            EXPECT_TRUE(test::all_close(plane, got.select(0, 0), 0, 0));
            const Tensor transposed = x.transpose(1, 2).contiguous().transpose(1, 2);
            EXPECT_TRUE(test::all_close(resize_bilinear(transposed, k.oh, k.ow), got, 0, 0));
        }
    }
}

TEST(ResizeTest, NearestMatchesPyTorch) {
    const Tensor m = arange(0, 12).reshape({3, 4});
    // F.interpolate(arange(12.).reshape(1, 1, 3, 4), size, mode="nearest")
    const std::vector<int64_t> up = {0, 0, 0, 1, 1, 2, 2, 3, 3,  0,  0,  0,  1, 1, 2, 2, 3, 3,  0,  0,  0,
                                     1, 1, 2, 2, 3, 3, 4, 4, 4,  5,  5,  6,  6, 7, 7, 4, 4, 4,  5,  5,  6,
                                     6, 7, 7, 8, 8, 8, 9, 9, 10, 10, 11, 11, 8, 8, 8, 9, 9, 10, 10, 11, 11};
    const Tensor big = resize_nearest(m, 7, 9);
    EXPECT_EQ(big.dtype(), DType::Int64);
    EXPECT_EQ(big.to_vector<int64_t>(), up);
    EXPECT_EQ(resize_nearest(m, 2, 3).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
    EXPECT_EQ(resize_nearest(m, 6, 8).to_vector<int64_t>()[9], 0);  // exact 2x: index >> 1
    const Tensor planes = resize_nearest(stack({m, m + 100}), 7, 9);
    EXPECT_EQ(planes.select(0, 1).to_vector<int64_t>()[62], 111);
    EXPECT_ENGINE_ERROR(resize_nearest(m, 0, 3), "output size must be positive");
    EXPECT_ENGINE_ERROR(resize_bilinear(m.unsqueeze(0).unsqueeze(0), 2, 2), "(C,H,W) or (H,W)");
    EXPECT_ENGINE_ERROR(resize_bilinear(m, 2, 2), "float32 or float64");
}

TEST(ResizeTest, ImageVariantsAgreeWithTensorOnes) {
    const Image image = test::pattern_image(9, 14, 3);
    const Tensor t = image_to_tensor(image).to(DType::Float64) * 255.0;
    const Image near = resize_nearest(image, 5, 23);
    const Image bil = resize_bilinear(image, 5, 23);
    const std::vector<double> tn = resize_nearest(t, 5, 23).to_vector<double>();
    const std::vector<double> tb = resize_bilinear(t, 5, 23).to_vector<double>();
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < 5 * 23; ++i) {
            EXPECT_EQ(near.pixels[static_cast<size_t>(i * 3 + c)],
                      static_cast<uint8_t>(std::lround(tn[static_cast<size_t>(c * 115 + i)])));
            EXPECT_NEAR(bil.pixels[static_cast<size_t>(i * 3 + c)], tb[static_cast<size_t>(c * 115 + i)], 0.51);
        }
}

}  // namespace
}  // namespace engine::data
