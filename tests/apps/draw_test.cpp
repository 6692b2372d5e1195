// Pictures: colour-decoded class maps, heatmaps, grids, text and line charts, written as PNG and read back.
#include "apps/common/draw.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"
#include "datasets/data_test_util.h"

namespace engine::data {
namespace {

using test::TempDir;

Rgb at(const Image& image, int64_t y, int64_t x) {
    const uint8_t* p = image.pixel(y, x);
    return {p[0], p[1], p[2]};
}

int64_t count_color(const Image& image, Rgb color) {
    int64_t n = 0;
    for (int64_t y = 0; y < image.height; ++y)
        for (int64_t x = 0; x < image.width; ++x) n += at(image, y, x) == color;
    return n;
}

TEST(DrawTest, ColorizeAndHeatmap) {
    const Tensor map = from_vector<int64_t>({0, 1, 2, 255, -1, 1}, {2, 3});
    const std::vector<Rgb> colors = cityscapes_class_colors(CityscapesClasses::Categories);
    const Image image = colorize(map, colors, {9, 9, 9});
    ASSERT_EQ(image.channels, 3);
    EXPECT_EQ(at(image, 0, 0), colors[0]);
    EXPECT_EQ(at(image, 0, 1), (Rgb{128, 64, 128}));
    EXPECT_EQ(at(image, 1, 0), (Rgb{9, 9, 9}));
    EXPECT_EQ(at(image, 1, 1), (Rgb{9, 9, 9}));
    EXPECT_EQ(at(colorize(map.to(DType::UInt8), gray_colors(2)), 0, 1), (Rgb{255, 255, 255}));
    EXPECT_ENGINE_ERROR(colorize(map.to(DType::Float32), colors), "integer class map");

    const Tensor values = from_vector<float>({0.f, 0.5f, 1.f, NAN}, {2, 2});
    const Image jet = heatmap(values);
    EXPECT_EQ(at(jet, 0, 0), (Rgb{0, 0, 128}));  // jet(0): dark blue
    EXPECT_EQ(at(jet, 0, 1), (Rgb{128, 255, 128}));
    EXPECT_EQ(at(jet, 1, 0), (Rgb{128, 0, 0}));  // jet(1): dark red
    EXPECT_EQ(at(jet, 1, 1), (Rgb{0, 0, 0}));    // NaN
    const Image signed_map = heatmap(from_vector<double>({-2, 0, 1, 2}, {2, 2}), Colormap::Diverging);
    EXPECT_EQ(at(signed_map, 0, 0), (Rgb{0, 0, 255}));
    EXPECT_EQ(at(signed_map, 0, 1), (Rgb{255, 255, 255}));
    EXPECT_EQ(at(signed_map, 1, 1), (Rgb{255, 0, 0}));
    EXPECT_EQ(at(heatmap(values, Colormap::Gray, 0.0, 2.0), 1, 0), (Rgb{128, 128, 128}));

    Image white(2, 2, 3, 255), black(2, 2, 1, 0);
    EXPECT_EQ(at(blend(white, black, 0.25), 0, 0), (Rgb{191, 191, 191}));
    EXPECT_EQ(upscale(black, 3).height, 6);
}

TEST(DrawTest, GridLayout) {
    Image a(10, 20, 3, 0), b(5, 5, 1, 100), c(8, 8, 3, 200);
    const Image grid = make_grid({{a, b}, {c}}, 2, {255, 255, 255});
    ASSERT_EQ(grid.width, 2 + 20 + 2 + 5 + 2);
    ASSERT_EQ(grid.height, 2 + 10 + 2 + 8 + 2);
    EXPECT_EQ(at(grid, 0, 0), (Rgb{255, 255, 255}));
    EXPECT_EQ(at(grid, 2, 2), (Rgb{0, 0, 0}));             // a at the top-left slot
    EXPECT_EQ(at(grid, 2 + 2, 24), (Rgb{100, 100, 100}));  // b centred in a 10-high row: rows 4..8
    EXPECT_EQ(at(grid, 2, 24), (Rgb{255, 255, 255}));
    EXPECT_EQ(at(grid, 14, 8), (Rgb{200, 200, 200}));  // c centred in the 20-wide column: cols 8..15
    EXPECT_EQ(at(grid, 14, 7), (Rgb{255, 255, 255}));
    EXPECT_EQ(at(make_grid({{Image(), c}, {c, c}}, 0), 0, 0), (Rgb{255, 255, 255}));  // a blank cell
    EXPECT_ENGINE_ERROR(make_grid({}), "no rows");
}

TEST(DrawTest, TextAndLines) {
    Image image(10, 20, 3, 255);
    draw_text(image, 1, 2, "8", {0, 0, 0});
    EXPECT_EQ(at(image, 1, 2), (Rgb{255, 255, 255}));  // '8' row 0 is .###.
    EXPECT_EQ(at(image, 1, 3), (Rgb{0, 0, 0}));
    EXPECT_EQ(at(image, 2, 2), (Rgb{0, 0, 0}));  // row 1 is #...#
    EXPECT_EQ(count_color(image, {0, 0, 0}), 3 + 2 + 2 + 3 + 2 + 2 + 3);
    EXPECT_EQ(text_width("ab", 1), 11);
    EXPECT_EQ(text_width("ab", 2), 22);
    EXPECT_EQ(text_height(3), 21);
    Image big(14, 10, 3, 255);
    draw_text(big, 0, 0, "a", {0, 0, 0}, 2);
    EXPECT_EQ(count_color(big, {0, 0, 0}), 4 * (3 + 2 + 2 + 5 + 2 + 2 + 2));  // 'A' at scale 2
    Image lines(9, 9, 3, 255);
    draw_line(lines, 4, 0, 4, 8, {255, 0, 0});
    for (int64_t x = 0; x < 9; ++x) EXPECT_EQ(at(lines, 4, x), (Rgb{255, 0, 0}));
    EXPECT_EQ(count_color(lines, {255, 0, 0}), 9);
    draw_line(lines, -1e12, 3, 1e12, 3, {0, 255, 0}, 1);  // clipped, not a trillion steps
    EXPECT_EQ(count_color(lines, {0, 255, 0}), 9);
}

TEST(ChartTest, LossCurvesWrittenAsPng) {
    std::vector<double> train, val;
    for (int i = 0; i < 50; ++i) {
        train.push_back(2.0 * std::exp(-0.05 * i) + 0.1);
        val.push_back(i % 5 == 0 ? 1.0 : NAN);
    }
    ChartSeries a{"train loss", train, {}, std::nullopt};
    ChartSeries b{"val loss", val, {}, Rgb{255, 0, 0}};
    ChartSeries flat{"level", std::vector<double>(50, 1.5), {}, Rgb{0, 160, 0}};
    ChartOptions options;
    options.title = "UNet on ISBI";
    options.x_label = "step";
    options.y_label = "loss";
    TempDir dir;
    const std::string path = dir.file("loss.png");
    write_png(path, line_chart({a, b, flat}, options));
    const Image back = read_image(path);
    ASSERT_EQ(back.height, 480);
    ASSERT_EQ(back.width, 800);
    ASSERT_EQ(back.channels, 3);
    EXPECT_EQ(at(back, 0, 0), (Rgb{255, 255, 255}));
    EXPECT_EQ(at(back, 479, 799), (Rgb{255, 255, 255}));
    EXPECT_GT(count_color(back, series_colors()[0]), 500);  // the default first colour, a long curve
    // The constant series is a horizontal line: some row holds its colour across most of the plot.
    int64_t longest = 0;
    for (int64_t y = 0; y < back.height; ++y) {
        int64_t run = 0;
        for (int64_t x = 0; x < back.width; ++x) run += at(back, y, x) == Rgb{0, 160, 0};
        longest = std::max(longest, run);
    }
    EXPECT_GT(longest, 500);
    EXPECT_GT(count_color(back, {0, 0, 0}), 1000);  // axes, ticks, numbers
    // NaN breaks the validation line into isolated points, drawn as dots.
    EXPECT_GT(count_color(back, {255, 0, 0}), 10 * 16);

    options.log_y = true;
    const Image log_chart = line_chart({a}, options);
    EXPECT_GT(count_color(log_chart, series_colors()[0]), 500);
    EXPECT_EQ(line_chart({ChartSeries{"", {}, {}, std::nullopt}}).height, 480);  // nothing to draw is fine
    EXPECT_ENGINE_ERROR(line_chart({ChartSeries{"bad", {1, 2}, {1}, std::nullopt}}), "has 1 x values and 2 y values");
    EXPECT_ENGINE_ERROR(line_chart({}), "no series");
    options.height = 50;
    EXPECT_ENGINE_ERROR(line_chart({a}, options), "size 50x800");
}

}  // namespace
}  // namespace engine::data
