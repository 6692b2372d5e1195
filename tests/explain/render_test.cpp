// Tests of apps/explain/render: colour maps, Captum's normalisation and sign modes, the visualisation methods,
// segmentation maps, activation grids, the IG panel, LIME overlays and the .npy encoder.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "apps/explain/render/colormap.h"
#include "apps/explain/render/npy.h"
#include "apps/explain/render/panels.h"
#include "apps/explain/render/visualize.h"
#include "tests/common/test_util.h"

namespace engine::explain::render {
namespace {

::testing::AssertionResult same_rgb(data::Rgb actual, data::Rgb expected) {
    if (actual == expected) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "got (" << int(actual.r) << ", " << int(actual.g) << ", " << int(actual.b)
                                         << "), expected (" << int(expected.r) << ", " << int(expected.g) << ", "
                                         << int(expected.b) << ")";
}

data::Rgb pixel_of(const data::Image& image, int64_t y, int64_t x) {
    const uint8_t* p = image.pixel(y, x);
    return {p[0], p[1], p[2]};
}

Plane plane_of(std::vector<double> values, int64_t h, int64_t w) {
    Plane p;
    p.height = h;
    p.width = w;
    p.values = std::move(values);
    return p;
}

// ---------------------------------------------------------------- colour maps

TEST(ColorMapTest, EndpointsAreMatplotlibs) {
    // matplotlib's cmap(0.0, bytes=True) / cmap(1.0, bytes=True), which truncate 255 x the float colour: the
    // ColorBrewer ends of Greens/Reds/Blues (#f7fcf5 / #00441b, #fff5f0 / #67000d (its blue 0.05098 x 255 =
    // 12.99999 -> 12), #f7fbff / #08306b), jet from (0, 0, 0.5) to (0.5, 0, 0), inferno's last entry
    // (0.988362, 0.998364, 0.644924).
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Jet, 0.0), {0, 0, 127}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Jet, 1.0), {127, 0, 0}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Bwr, 0.0), {0, 0, 255}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Bwr, 1.0), {255, 0, 0}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Viridis, 0.0), {68, 1, 84}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Viridis, 1.0), {253, 231, 36}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Inferno, 0.0), {0, 0, 3}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Inferno, 1.0), {252, 254, 164}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Greens, 0.0), {247, 252, 245}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Greens, 1.0), {0, 68, 27}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Reds, 0.0), {255, 245, 240}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Reds, 1.0), {103, 0, 12}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Blues, 0.0), {247, 251, 255}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Blues, 1.0), {8, 48, 107}));
    // Captum's RdWhGn: red, white, matplotlib's "green" (#008000).
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::RdWhGn, 0.0), {255, 0, 0}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::RdWhGn, 1.0), {0, 128, 0}));
    const data::Rgb middle = colormap_color(ColorMap::RdWhGn, 0.5);
    EXPECT_GE(middle.r, 250);
    EXPECT_GE(middle.g, 250);
    EXPECT_GE(middle.b, 250);
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Gray, 0.0), {0, 0, 0}));
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Gray, 1.0), {255, 255, 255}));
}

TEST(ColorMapTest, LookupFollowsMatplotlibsIndexRule) {
    // Entry int(t * 256): gray's entry i is i, so t maps to floor(256 t) (255 for t = 1; clamped outside [0, 1]).
    EXPECT_EQ(colormap_color(ColorMap::Gray, 0.5).r, 128);
    EXPECT_EQ(colormap_color(ColorMap::Gray, 0.499).r, 127);
    EXPECT_EQ(colormap_color(ColorMap::Gray, 1.0 / 256.0).r, 1);
    EXPECT_EQ(colormap_color(ColorMap::Gray, -3.0).r, 0);
    EXPECT_EQ(colormap_color(ColorMap::Gray, 7.0).r, 255);
    EXPECT_TRUE(same_rgb(colormap_color(ColorMap::Viridis, NAN), {0, 0, 0}));
}

TEST(ColorMapTest, NamesRoundTripAndUnknownNamesAreListed) {
    for (const std::string& name : colormap_names()) EXPECT_EQ(colormap_name(parse_colormap(name)), name);
    EXPECT_EQ(parse_colormap("Viridis"), ColorMap::Viridis);
    EXPECT_ENGINE_ERROR(parse_colormap("rainbow"), "valid: jet, bwr");
}

// ---------------------------------------------------------------- normalisation

TEST(NormalizeTest, CumulativeSumThresholdByHand) {
    // Sorted 1, 2, 3, 4, 90 (total 100): cumulative 1, 3, 6, 10, 100.
    const std::vector<double> v{90, 3, 1, 4, 2};
    EXPECT_EQ(cumulative_sum_threshold(v, 98), 90);  // first cumulative >= 98 is 100, at value 90
    EXPECT_EQ(cumulative_sum_threshold(v, 5), 3);    // >= 5: 6, at value 3
    EXPECT_EQ(cumulative_sum_threshold(v, 6), 3);    // >= 6: exactly 6
    EXPECT_EQ(cumulative_sum_threshold(v, 6.5), 4);
    EXPECT_EQ(cumulative_sum_threshold(v, 100), 90);  // the maximum
    EXPECT_EQ(cumulative_sum_threshold(v, 0), 1);
    EXPECT_ENGINE_ERROR(cumulative_sum_threshold(v, 101), "percentile");
    EXPECT_ENGINE_ERROR(cumulative_sum_threshold({}, 50), "no values");
}

TEST(NormalizeTest, ScaleIsTheCumulativeSumValueNotAPercentile) {
    // 98 values of 1 and two of 100 (total 298): 98% of the total is 292.04, first reached at the last value
    // (cumulative 198 after the first 100), so the scale is 100; a plain 98th percentile would be 1.
    std::vector<double> v(98, 1.0);
    v.push_back(100.0);
    v.push_back(-100.0);
    const Plane p = plane_of(v, 10, 10);
    EXPECT_DOUBLE_EQ(attribution_scale(p, Sign::AbsoluteValue, 2.0), 100.0);
    // outlier_perc 40: 60% of 298 = 178.8 -> cumulative 198 at the first 100.
    EXPECT_DOUBLE_EQ(attribution_scale(p, Sign::All, 40.0), 100.0);
    // outlier_perc 70: 30% = 89.4 -> reached at the 90th 1 (cumulative 90).
    EXPECT_DOUBLE_EQ(attribution_scale(p, Sign::All, 70.0), 1.0);
    // positive: the -100 becomes 0; total 198, 98% = 194.04 -> the 100.
    EXPECT_DOUBLE_EQ(attribution_scale(p, Sign::Positive, 2.0), 100.0);
    // negative: only -100 is left: its magnitude.
    EXPECT_DOUBLE_EQ(attribution_scale(p, Sign::Negative, 2.0), 100.0);
}

TEST(NormalizeTest, SignModesByHand) {
    // Values -4, -1, 0, 2, 8; outlier 0 -> the scale is the largest filtered magnitude.
    const Plane p = plane_of({-4, -1, 0, 2, 8}, 1, 5);
    const NormalizedMap all = normalize_attr(p, Sign::All, 0.0);
    EXPECT_DOUBLE_EQ(all.scale, 8.0);
    const std::vector<double> expect_all{-0.5, -0.125, 0.0, 0.25, 1.0};
    for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(all.values[i], expect_all[i]);

    const NormalizedMap pos = normalize_attr(p, Sign::Positive, 0.0);
    const std::vector<double> expect_pos{0, 0, 0, 0.25, 1.0};
    for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(pos.values[i], expect_pos[i]);

    // Captum divides the negative values by a negative threshold: magnitudes in [0, 1].
    const NormalizedMap neg = normalize_attr(p, Sign::Negative, 0.0);
    EXPECT_DOUBLE_EQ(neg.scale, 4.0);
    const std::vector<double> expect_neg{1.0, 0.25, 0, 0, 0};
    for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(neg.values[i], expect_neg[i]);

    const NormalizedMap abs = normalize_attr(p, Sign::AbsoluteValue, 0.0);
    const std::vector<double> expect_abs{0.5, 0.125, 0, 0.25, 1.0};
    for (size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(abs.values[i], expect_abs[i]);

    // With the default 2% outliers: |values| sorted 0, 1, 2, 4, 8 (total 15), 98% = 14.7 -> 8 still.
    EXPECT_DOUBLE_EQ(normalize_attr(p, Sign::All, 2.0).scale, 8.0);
    // outlier 60: 40% of 15 = 6, first reached by the cumulative 7 at the value 4.
    const NormalizedMap clipped = normalize_attr(p, Sign::All, 60.0);
    EXPECT_DOUBLE_EQ(clipped.scale, 4.0);
    EXPECT_DOUBLE_EQ(clipped.values[4], 1.0);   // 8 / 4 clipped
    EXPECT_DOUBLE_EQ(clipped.values[0], -1.0);  // -4 / 4
}

TEST(NormalizeTest, ZeroScaleFallsBackAndSaysSo) {
    // Captum asserts "Cannot normalize by scale factor = 0" on these; we draw them and explain why.
    const NormalizedMap zeros = normalize_attr(plane_of({0, 0, 0, 0}, 2, 2), Sign::All);
    EXPECT_TRUE(zeros.fallback);
    EXPECT_NE(zeros.note.find("scale factor = 0"), std::string::npos) << zeros.note;
    EXPECT_DOUBLE_EQ(zeros.scale, 1.0);
    for (double v : zeros.values) EXPECT_EQ(v, 0.0);

    const NormalizedMap no_positive = normalize_attr(plane_of({-1, -2, -3, 0}, 2, 2), Sign::Positive);
    EXPECT_TRUE(no_positive.fallback);
    for (double v : no_positive.values) EXPECT_EQ(v, 0.0);

    // Tiny but non-zero: Captum's "approximately 0" warning, no fallback.
    const NormalizedMap tiny = normalize_attr(plane_of({1e-9, -2e-9}, 1, 2), Sign::All, 0.0);
    EXPECT_FALSE(tiny.fallback);
    EXPECT_NE(tiny.note.find("approximately 0"), std::string::npos);
    EXPECT_DOUBLE_EQ(tiny.values[1], -1.0);

    // Non-finite values count as 0 and never reach the picture.
    const NormalizedMap nan = normalize_attr(plane_of({NAN, INFINITY, 2.0, -1.0}, 2, 2), Sign::All, 0.0);
    EXPECT_DOUBLE_EQ(nan.scale, 2.0);
    EXPECT_EQ(nan.values[0], 0.0);
    EXPECT_EQ(nan.values[1], 0.0);
}

TEST(NormalizeTest, SharedScaleAndGivenScale) {
    const Plane a = plane_of({1, 2}, 1, 2), b = plane_of({10, 20}, 1, 2);
    // Together |values| 1, 2, 10, 20 (total 33): 98% = 32.34 -> 20.
    EXPECT_DOUBLE_EQ(shared_attribution_scale({a, b}, Sign::All, 2.0), 20.0);
    const NormalizedMap given = normalize_attr(a, Sign::All, 2.0, 20.0);
    EXPECT_DOUBLE_EQ(given.values[1], 0.1);
    EXPECT_ENGINE_ERROR(normalize_attr(a, Sign::All, 2.0, 0.0), "positive");
}

TEST(NormalizeTest, ChannelsAreSummed) {
    // (2, 1, 2): channel sums 1 + 10, 2 + 20.
    const Plane p = sum_channels(from_vector<float>({1, 2, 10, 20}, {2, 1, 2}));
    EXPECT_EQ(p.height, 1);
    EXPECT_EQ(p.width, 2);
    EXPECT_DOUBLE_EQ(p.values[0], 11.0);
    EXPECT_DOUBLE_EQ(p.values[1], 22.0);
    const Plane q = sum_channels(from_vector<double>({1, 2, 10, 20}, {1, 2, 1, 2}));
    EXPECT_DOUBLE_EQ(q.values[1], 22.0);
    EXPECT_ENGINE_ERROR(sum_channels(zeros({2, 2, 2, 2})), "batch");
    EXPECT_ENGINE_ERROR(sum_channels(zeros({2}, DType::Float32)), "(H, W)");
}

// ---------------------------------------------------------------- visualisation methods

TEST(VisualizeTest, HeatMapUsesTheSignsRange) {
    NormalizedMap m;
    m.height = 1;
    m.width = 3;
    m.sign = Sign::All;
    m.values = {-1.0, 0.0, 1.0};
    const data::Image all = heat_map(m, ColorMap::RdWhGn);
    EXPECT_TRUE(same_rgb(pixel_of(all, 0, 0), {255, 0, 0}));
    EXPECT_TRUE(same_rgb(pixel_of(all, 0, 2), {0, 128, 0}));
    EXPECT_GE(pixel_of(all, 0, 1).g, 250);
    m.sign = Sign::Positive;
    m.values = {0.0, 0.5, 1.0};
    const data::Image pos = heat_map(m, ColorMap::Greens);
    EXPECT_TRUE(same_rgb(pixel_of(pos, 0, 0), {247, 252, 245}));
    EXPECT_TRUE(same_rgb(pixel_of(pos, 0, 2), {0, 68, 27}));
}

TEST(VisualizeTest, BlendedHeatMapIsHalfGrayHalfColour) {
    // Gray mean of (0, 0, 0) and (90, 120, 150) is 0 and 120, stretched to 0 and 255.
    data::Image image(1, 2, 3);
    image.pixels = {0, 0, 0, 90, 120, 150};
    const data::Image gray = gray_mean(image);
    EXPECT_TRUE(same_rgb(pixel_of(gray, 0, 0), {0, 0, 0}));
    EXPECT_TRUE(same_rgb(pixel_of(gray, 0, 1), {255, 255, 255}));
    NormalizedMap m;
    m.height = 1;
    m.width = 2;
    m.sign = Sign::All;
    m.values = {-1.0, 1.0};
    const data::Image blended = blended_heat_map(m, image, ColorMap::RdWhGn, 0.5);
    // 0.5 * 0 + 0.5 * (255, 0, 0) and 0.5 * 255 + 0.5 * (0, 128, 0), rounded half away from zero.
    EXPECT_TRUE(same_rgb(pixel_of(blended, 0, 0), {128, 0, 0}));
    EXPECT_TRUE(same_rgb(pixel_of(blended, 0, 1), {128, 192, 128}));
    // A constant image keeps its gray value (matplotlib would draw it black).
    data::Image flat(1, 2, 1, 77);
    EXPECT_EQ(gray_mean(flat).pixels[0], 77);
    EXPECT_ENGINE_ERROR(blended_heat_map(m, data::Image(2, 2, 3), ColorMap::Jet, 0.5), "map 1x2");
}

TEST(VisualizeTest, MaskedImageAndAlphaScaling) {
    data::Image image(1, 2, 3);
    image.pixels = {200, 100, 50, 200, 100, 50};
    NormalizedMap m;
    m.height = 1;
    m.width = 2;
    m.sign = Sign::AbsoluteValue;
    m.values = {0.5, 1.0};
    const data::Image masked = masked_image(m, image);
    EXPECT_TRUE(same_rgb(pixel_of(masked, 0, 0), {100, 50, 25}));
    EXPECT_TRUE(same_rgb(pixel_of(masked, 0, 1), {200, 100, 50}));
    const data::Image alpha = alpha_scaling(m, image);
    EXPECT_EQ(alpha.channels, 4);
    EXPECT_EQ(alpha.pixels[3], 127);
    EXPECT_EQ(alpha.pixels[7], 255);
    m.sign = Sign::All;
    EXPECT_ENGINE_ERROR(masked_image(m, image), "both positive and negative");
    EXPECT_ENGINE_ERROR(alpha_scaling(m, image), "both positive and negative");
}

TEST(VisualizeTest, VisualizeImageAttrFollowsCaptumsDefaults) {
    // Default: heat_map, absolute_value, Blues, outlier 2.
    const Tensor attr = from_vector<float>({0, -4, 2, 4}, {1, 2, 2});
    const Visualization v = visualize_image_attr(attr, data::Image(), VisualizeOptions{});
    EXPECT_EQ(v.map.sign, Sign::AbsoluteValue);
    EXPECT_DOUBLE_EQ(v.map.scale, 4.0);
    EXPECT_TRUE(same_rgb(pixel_of(v.image, 0, 0), colormap_color(ColorMap::Blues, 0.0)));
    EXPECT_TRUE(same_rgb(pixel_of(v.image, 0, 1), colormap_color(ColorMap::Blues, 1.0)));
    VisualizeOptions o;
    o.method = VisualizeMethod::BlendedHeatMap;
    EXPECT_ENGINE_ERROR(visualize_image_attr(attr, data::Image(), o), "needs the original image");
    EXPECT_EQ(parse_visualize_method("masked_image"), VisualizeMethod::MaskedImage);
    EXPECT_EQ(parse_sign("absolute_value"), Sign::AbsoluteValue);
    EXPECT_ENGINE_ERROR(parse_sign("both"), "valid: all, positive");
    EXPECT_EQ(default_colormap(Sign::Negative), ColorMap::Reds);
}

// ---------------------------------------------------------------- panels

TEST(PanelsTest, PalettesAndSegmentationLegend) {
    const std::vector<data::Rgb> voc = palette_colors(Palette::Voc, 21);
    EXPECT_TRUE(same_rgb(voc[0], {0, 0, 0}));
    EXPECT_TRUE(same_rgb(voc[1], {128, 0, 0}));
    EXPECT_TRUE(same_rgb(voc[2], {0, 128, 0}));
    EXPECT_TRUE(same_rgb(voc[15], {192, 128, 128}));  // person
    const std::vector<data::Rgb> city = palette_colors(Palette::CityscapesTrainIds, 19);
    EXPECT_TRUE(same_rgb(city[0], {128, 64, 128}));  // road
    EXPECT_TRUE(same_rgb(city[13], {0, 0, 142}));    // car
    EXPECT_EQ(parse_palette("auto", 19), Palette::CityscapesTrainIds);
    EXPECT_EQ(parse_palette("auto", 8), Palette::CityscapesCategories);
    EXPECT_EQ(parse_palette("auto", 3), Palette::Voc);
    EXPECT_EQ(palette_class_names(Palette::Voc, 21)[15], "person");
    EXPECT_EQ(palette_class_names(Palette::Voc, 3)[2], "class 2");
    EXPECT_EQ(palette_class_names(Palette::CityscapesTrainIds, 19)[0], "road");

    const Tensor map = from_vector<int64_t>({2, 2, 2, 0, 1, 2}, {2, 3});
    const data::Image seg = segmentation_image(map, voc);
    EXPECT_TRUE(same_rgb(pixel_of(seg, 0, 0), {0, 128, 0}));
    EXPECT_TRUE(same_rgb(pixel_of(seg, 1, 1), {128, 0, 0}));
    const auto legend = segmentation_legend(map, voc, {"bg", "cat", "dog"});
    ASSERT_EQ(legend.size(), 3u);
    EXPECT_EQ(legend[0].name, "dog");
    EXPECT_EQ(legend[0].pixels, 4);
    EXPECT_DOUBLE_EQ(legend[0].fraction, 4.0 / 6.0);
    EXPECT_EQ(legend[1].cls, 0);  // ties: lower id first
    EXPECT_EQ(legend[2].cls, 1);
}

TEST(PanelsTest, ActivationGridNormalisesEachChannel) {
    // 20 channels of 4x4: 16 per row -> 2 rows; tiles upscaled to 24 px, 1-px gaps.
    std::vector<float> v(20 * 16);
    for (int c = 0; c < 20; ++c)
        for (int i = 0; i < 16; ++i) v[c * 16 + i] = c == 5 ? 3.0f : static_cast<float>(c * 100 + i);
    ActivationGridOptions o;
    o.min_tile = 24;
    const data::Image grid = activation_grid(from_vector<float>(v, {1, 20, 4, 4}), o);
    EXPECT_EQ(grid.width, 16 * 24 + 17);
    EXPECT_EQ(grid.height, 2 * 24 + 3);
    // Channel 0: its minimum (top-left) is viridis(0), its maximum (bottom-right) viridis(1), whatever its range.
    EXPECT_TRUE(same_rgb(pixel_of(grid, 1, 1), colormap_color(ColorMap::Viridis, 0.0)));
    EXPECT_TRUE(same_rgb(pixel_of(grid, 24, 24), colormap_color(ColorMap::Viridis, 1.0)));
    // Channel 17 (second row, second tile) likewise.
    EXPECT_TRUE(same_rgb(pixel_of(grid, 1 + 25, 1 + 25), colormap_color(ColorMap::Viridis, 0.0)));
    // Channel 5 is constant: the middle colour.
    EXPECT_TRUE(same_rgb(pixel_of(grid, 10, 1 + 5 * 25 + 10), colormap_color(ColorMap::Viridis, 0.5)));
    // Gaps stay white.
    EXPECT_TRUE(same_rgb(pixel_of(grid, 0, 0), {255, 255, 255}));
    EXPECT_ENGINE_ERROR(activation_grid(zeros({2, 3, 4, 4})), "one image");

    // A 100x60 map is shrunk by 2 (block means) to fit max_tile 64: 50x30 tiles; the left half of the channel is
    // 0 and the right half 1, so the tiles' columns are viridis(0) up to x 14 and viridis(1) from x 15.
    std::vector<float> big(2 * 100 * 60);
    for (int64_t c = 0; c < 2; ++c)
        for (int64_t y = 0; y < 100; ++y)
            for (int64_t x = 0; x < 60; ++x) big[(c * 100 + y) * 60 + x] = x < 30 ? 0.0f : 1.0f;
    const data::Image shrunk = activation_grid(from_vector<float>(big, {2, 100, 60}));
    EXPECT_EQ(shrunk.height, 50 + 2);
    EXPECT_EQ(shrunk.width, 2 * 30 + 3);
    EXPECT_TRUE(same_rgb(pixel_of(shrunk, 10, 1 + 14), colormap_color(ColorMap::Viridis, 0.0)));
    EXPECT_TRUE(same_rgb(pixel_of(shrunk, 10, 1 + 15), colormap_color(ColorMap::Viridis, 1.0)));
}

TEST(PanelsTest, IgPanelHasFourCaptionedCells) {
    data::Image base(8, 8, 3, 0), image(8, 8, 3, 200);
    NormalizedMap m;
    m.height = m.width = 8;
    m.sign = Sign::All;
    m.values.assign(64, 1.0);
    const data::Image panel = ig_panel(base, image, m, ColorMap::RdWhGn);
    // Cells are upscaled to 128 px (factor 16) plus a caption strip; two columns, two rows, 4-px padding.
    EXPECT_EQ(panel.width, 4 + 128 + 4 + 128 + 4);
    EXPECT_GT(panel.height, 4 + 2 * 128 + 2 * 4);
    EXPECT_TRUE(same_rgb(pixel_of(panel, 10, 10), {0, 0, 0}));                      // baseline
    EXPECT_TRUE(same_rgb(pixel_of(panel, 10, 4 + 128 + 4 + 10), {200, 200, 200}));  // image
    NormalizedMap wrong = m;
    wrong.height = 4;
    EXPECT_ENGINE_ERROR(ig_panel(base, image, wrong, ColorMap::Jet), "sizes differ");
}

TEST(PanelsTest, LimeOverlayTintsChosenSegments) {
    // Segments: left column 0, middle 1, right 2 (3x3 image of gray 100).
    const Tensor seg = from_vector<int64_t>({0, 1, 2, 0, 1, 2, 0, 1, 2}, {3, 3});
    data::Image image(3, 3, 3, 100);
    const data::Image out = lime_overlay(image, seg, {0}, {2}, 0.5, 0.3);
    // Segment 0 is green: its pixels are either tinted (100 * 0.5 + (0, 170, 0) * 0.5) or outlined in green.
    const data::Rgb left = pixel_of(out, 1, 0);
    EXPECT_GT(left.g, left.r);
    const data::Rgb right = pixel_of(out, 1, 2);
    EXPECT_GT(right.r, right.g);
    // The unchosen middle segment is dimmed: 100 * 0.7.
    EXPECT_TRUE(same_rgb(pixel_of(out, 1, 1), {70, 70, 70}));
    const data::Image edges = segment_boundaries(image, seg, {255, 255, 0});
    EXPECT_TRUE(same_rgb(pixel_of(edges, 0, 0), {255, 255, 0}));  // right neighbour differs
    EXPECT_TRUE(same_rgb(pixel_of(edges, 0, 2), {100, 100, 100}));
    EXPECT_ENGINE_ERROR(lime_overlay(image, zeros({2, 2}, DType::Int64), {0}, {}), "segment ids");
}

TEST(PanelsTest, CaptionsAndEnlarging) {
    const data::Image small(28, 28, 1, 10);
    const data::Image big = enlarged(small, 128);
    EXPECT_EQ(big.width, 28 * 5);
    const data::Image c = captioned(data::Image(20, 100, 3, 0), "map");
    EXPECT_EQ(c.width, 100);
    EXPECT_GT(c.height, 20);
    EXPECT_TRUE(same_rgb(pixel_of(c, c.height - 1, 0), {255, 255, 255}));
}

// ---------------------------------------------------------------- npy

TEST(NpyTest, HeaderAndPayload) {
    const Tensor t = from_vector<float>({1.5f, -2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
    const std::string npy = encode_npy(t);
    ASSERT_GE(npy.size(), 10u);
    EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_len = static_cast<uint8_t>(npy[8]) | (static_cast<uint8_t>(npy[9]) << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u);
    const std::string header = npy.substr(10, header_len);
    EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
    EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos) << header;
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(npy.size(), 10 + header_len + 6 * sizeof(float));
    float first = 0;
    std::memcpy(&first, npy.data() + 10 + header_len, sizeof first);
    EXPECT_EQ(first, 1.5f);
    EXPECT_NE(encode_npy(zeros({3}, DType::Float64)).find("'shape': (3,)"), std::string::npos);
}

}  // namespace
}  // namespace engine::explain::render
