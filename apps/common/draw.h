// Pictures for the training and explanation apps: class maps in colour, heatmaps, grids of images, a tiny
// bitmap font and a line chart for loss curves. Everything draws into RGB Images (image.h) that write_png
// saves. Coordinates are (row, column) = (y, x) from the top-left corner, sizes (height, width).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/data/image.h"
#include "models/data/palette.h"

namespace engine::data {

// --- class maps and heatmaps (draw.cpp)
// An integer (H,W) class map in colour: class k gets colors[k]; values outside [0, colors.size()) (the
// ignore index) get ignore_color. Palettes: cityscapes_class_colors, voc_colors, gray_colors (palette.h).
Image colorize(const Tensor& class_map, const std::vector<Rgb>& colors, Rgb ignore_color = {0, 0, 0});

enum class Colormap {
    Jet,        // blue - cyan - yellow - red, for non-negative maps (Grad-CAM)
    Diverging,  // blue - white - red around 0, for signed maps (integrated gradients)
    Gray,
};
// A float (H,W) map in colour. The range defaults to [min, max] (Diverging: [-m, m], m = max |value|);
// values are clamped to it; NaN is black.
Image heatmap(const Tensor& values, Colormap colormap = Colormap::Jet, std::optional<double> lo = std::nullopt,
              std::optional<double> hi = std::nullopt);
// base * (1 - alpha) + overlay * alpha, pixel by pixel (same size; both converted to RGB).
Image blend(const Image& base, const Image& overlay, double alpha);
// Gray / RGBA -> RGB (convert_channels(image, 3)).
Image to_rgb(const Image& image);
// Each pixel as a factor x factor block (small images made visible).
Image upscale(const Image& image, int64_t factor);

// Rows of images side by side (e.g. one row per sample: image | label | prediction), converted to RGB.
// Column j is as wide as its widest cell, row i as high as its highest; cells are centred in their slot,
// `padding` pixels of background around and between them; an empty Image leaves its slot blank.
Image make_grid(const std::vector<std::vector<Image>>& rows, int64_t padding = 4, Rgb background = {255, 255, 255});

// --- drawing on RGB images (pixels outside the image are skipped)
void fill_rect(Image& image, int64_t top, int64_t left, int64_t height, int64_t width, Rgb color);
void draw_rect(Image& image, int64_t top, int64_t left, int64_t height, int64_t width, Rgb color);  // outline
// A segment between two pixel centres, `thickness` pixels wide.
void draw_line(Image& image, double y0, double x0, double y1, double x1, Rgb color, int64_t thickness = 1);

// --- text (font.cpp): a 5x7 bitmap font with digits, letters (lower case drawn as capitals) and
// . , - + : / % ( ) _ = ; other characters draw as '?'. A character is 7 pixels high and advances 6, times `scale`.
void draw_text(Image& image, int64_t top, int64_t left, const std::string& text, Rgb color, int64_t scale = 1);
int64_t text_width(const std::string& text, int64_t scale = 1);
int64_t text_height(int64_t scale = 1);

// --- line charts (chart.cpp)
struct ChartSeries {
    std::string name;
    std::vector<double> y;
    std::vector<double> x;     // empty: 1, 2, 3, ... (steps or epochs)
    std::optional<Rgb> color;  // default: series_colors() in order
};
struct ChartOptions {
    int64_t height = 480, width = 800;
    std::string title, x_label, y_label;
    bool log_y = false;  // for losses; values <= 0 are left out
    int64_t text_scale = 2;
};
// White background, axes with nice ticks and numbers, light grid lines, one polyline per series (NaN and
// infinite points break the line) and a legend of coloured boxes with the series names.
Image line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options = {});

}  // namespace engine::data
