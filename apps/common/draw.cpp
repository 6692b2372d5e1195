// Class-map colouring, heatmaps, blending, grids and the drawing primitives.
#include "apps/common/draw.h"

#include <algorithm>
#include <cmath>

namespace engine::data {
namespace {

void check_rgb(const Image& image, const char* op) {
    ENGINE_CHECK(image.channels == 3 && static_cast<int64_t>(image.pixels.size()) == image.height * image.width * 3, op,
                 ": expected an RGB image, got ", image.height, "x", image.width, "x", image.channels);
}

void check_map(const Tensor& t, const char* op) {
    ENGINE_CHECK(t.defined() && t.dim() == 2, op, ": expected an (H,W) tensor, got ",
                 t.defined() ? shape_str(t.shape()) : std::string("undefined"));
}

inline void put(Image& image, int64_t y, int64_t x, Rgb c) {
    if (y < 0 || x < 0 || y >= image.height || x >= image.width) return;
    uint8_t* p = image.pixel(y, x);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
}

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)); }

Rgb colormap_color(Colormap colormap, double t) {
    t = std::clamp(t, 0.0, 1.0);
    switch (colormap) {
        case Colormap::Jet:
            return {to_byte(1.5 - std::abs(4 * t - 3)), to_byte(1.5 - std::abs(4 * t - 2)),
                    to_byte(1.5 - std::abs(4 * t - 1))};
        case Colormap::Diverging:
            return t < 0.5 ? Rgb{to_byte(2 * t), to_byte(2 * t), 255}
                           : Rgb{255, to_byte(2 - 2 * t), to_byte(2 - 2 * t)};
        case Colormap::Gray:
            break;
    }
    const uint8_t v = to_byte(t);
    return {v, v, v};
}

}  // namespace

Image colorize(const Tensor& class_map, const std::vector<Rgb>& colors, Rgb ignore_color) {
    check_map(class_map, "colorize");
    ENGINE_CHECK(is_integral(class_map.dtype()), "colorize: expected an integer class map, got ",
                 dtype_name(class_map.dtype()));
    const std::vector<int64_t> ids = class_map.to_vector<int64_t>();
    Image out(class_map.size(0), class_map.size(1), 3);
    const auto n = static_cast<int64_t>(colors.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        const Rgb c = ids[i] >= 0 && ids[i] < n ? colors[static_cast<size_t>(ids[i])] : ignore_color;
        out.pixels[3 * i] = c.r;
        out.pixels[3 * i + 1] = c.g;
        out.pixels[3 * i + 2] = c.b;
    }
    return out;
}

Image heatmap(const Tensor& values, Colormap colormap, std::optional<double> lo, std::optional<double> hi) {
    check_map(values, "heatmap");
    const std::vector<double> v = values.to_vector<double>();
    double mn = INFINITY, mx = -INFINITY;
    for (double x : v)
        if (std::isfinite(x)) {
            mn = std::min(mn, x);
            mx = std::max(mx, x);
        }
    if (!std::isfinite(mn)) mn = mx = 0;
    if (colormap == Colormap::Diverging) {
        const double m = std::max(std::abs(mn), std::abs(mx));
        mn = -m;
        mx = m;
    }
    const double a = lo.value_or(mn), b = hi.value_or(mx);
    const double span = b > a ? b - a : 1.0;
    Image out(values.size(0), values.size(1), 3);
    for (size_t i = 0; i < v.size(); ++i) {
        const Rgb c = std::isnan(v[i]) ? Rgb{0, 0, 0} : colormap_color(colormap, (v[i] - a) / span);
        out.pixels[3 * i] = c.r;
        out.pixels[3 * i + 1] = c.g;
        out.pixels[3 * i + 2] = c.b;
    }
    return out;
}

Image blend(const Image& base, const Image& overlay, double alpha) {
    ENGINE_CHECK(base.height == overlay.height && base.width == overlay.width, "blend: sizes differ, ", base.height,
                 "x", base.width, " and ", overlay.height, "x", overlay.width);
    ENGINE_CHECK(alpha >= 0 && alpha <= 1, "blend: alpha must be in [0, 1], got ", alpha);
    const Image a = to_rgb(base), b = to_rgb(overlay);
    Image out(a.height, a.width, 3);
    for (size_t i = 0; i < out.pixels.size(); ++i)
        out.pixels[i] = static_cast<uint8_t>(std::lround(a.pixels[i] * (1 - alpha) + b.pixels[i] * alpha));
    return out;
}

Image to_rgb(const Image& image) { return image.channels == 3 ? image : convert_channels(image, 3); }

Image upscale(const Image& image, int64_t factor) {
    ENGINE_CHECK(factor >= 1, "upscale: factor must be >= 1, got ", factor);
    return factor == 1 ? image : resize_nearest(image, image.height * factor, image.width * factor);
}

Image make_grid(const std::vector<std::vector<Image>>& rows, int64_t padding, Rgb background) {
    ENGINE_CHECK(!rows.empty(), "make_grid: no rows");
    ENGINE_CHECK(padding >= 0, "make_grid: padding must be >= 0, got ", padding);
    std::vector<int64_t> widths, heights(rows.size(), 0);
    for (size_t r = 0; r < rows.size(); ++r)
        for (size_t c = 0; c < rows[r].size(); ++c) {
            if (widths.size() <= c) widths.push_back(0);
            widths[c] = std::max(widths[c], rows[r][c].width);
            heights[r] = std::max(heights[r], rows[r][c].height);
        }
    ENGINE_CHECK(!widths.empty(), "make_grid: no cells");
    int64_t total_w = padding, total_h = padding;
    for (int64_t w : widths) total_w += w + padding;
    for (int64_t h : heights) total_h += h + padding;
    ENGINE_CHECK(total_w <= kMaxImageSide && total_h <= kMaxImageSide, "make_grid: grid of ", total_h, "x", total_w,
                 " exceeds the ", kMaxImageSide, "-pixel side limit");
    Image out(total_h, total_w, 3);
    fill_rect(out, 0, 0, total_h, total_w, background);
    int64_t top = padding;
    for (size_t r = 0; r < rows.size(); ++r) {
        int64_t left = padding;
        for (size_t c = 0; c < rows[r].size(); ++c) {
            const Image& cell = rows[r][c];
            if (!cell.empty()) {
                const Image rgb = to_rgb(cell);
                const int64_t y0 = top + (heights[r] - rgb.height) / 2, x0 = left + (widths[c] - rgb.width) / 2;
                for (int64_t y = 0; y < rgb.height; ++y)
                    std::copy(rgb.pixel(y, 0), rgb.pixel(y, 0) + rgb.width * 3, out.pixel(y0 + y, x0));
            }
            left += widths[c] + padding;
        }
        top += heights[r] + padding;
    }
    return out;
}

void fill_rect(Image& image, int64_t top, int64_t left, int64_t height, int64_t width, Rgb color) {
    check_rgb(image, "fill_rect");
    const int64_t y0 = std::max<int64_t>(top, 0), y1 = std::min(top + height, image.height);
    const int64_t x0 = std::max<int64_t>(left, 0), x1 = std::min(left + width, image.width);
    for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x) put(image, y, x, color);
}

void draw_rect(Image& image, int64_t top, int64_t left, int64_t height, int64_t width, Rgb color) {
    fill_rect(image, top, left, 1, width, color);
    fill_rect(image, top + height - 1, left, 1, width, color);
    fill_rect(image, top, left, height, 1, color);
    fill_rect(image, top, left + width - 1, height, 1, color);
}

void draw_line(Image& image, double y0, double x0, double y1, double x1, Rgb color, int64_t thickness) {
    check_rgb(image, "draw_line");
    ENGINE_CHECK(thickness >= 1, "draw_line: thickness must be >= 1, got ", thickness);
    if (!std::isfinite(y0) || !std::isfinite(x0) || !std::isfinite(y1) || !std::isfinite(x1)) return;
    // Segments far outside the image (a chart point at a huge value) are cut to a box around it first.
    const double limit = 4.0 * static_cast<double>(std::max(image.height, image.width)) + 16.0;
    if (std::max({std::abs(y0), std::abs(x0), std::abs(y1), std::abs(x1)}) > limit) {
        double t0 = 0, t1 = 1;
        const double d[2] = {y1 - y0, x1 - x0}, p[2] = {y0, x0};
        for (int k = 0; k < 2; ++k) {
            for (double bound : {-limit, limit}) {
                if (d[k] == 0) {
                    if ((bound < 0 && p[k] < bound) || (bound > 0 && p[k] > bound)) return;
                    continue;
                }
                const double t = (bound - p[k]) / d[k];
                const bool entering = bound < 0 ? d[k] > 0 : d[k] < 0;
                if (entering)
                    t0 = std::max(t0, t);
                else
                    t1 = std::min(t1, t);
            }
        }
        if (t0 > t1) return;
        const double ny0 = y0 + t0 * d[0], nx0 = x0 + t0 * d[1], ny1 = y0 + t1 * d[0], nx1 = x0 + t1 * d[1];
        y0 = ny0, x0 = nx0, y1 = ny1, x1 = nx1;
    }
    const auto steps = static_cast<int64_t>(std::ceil(std::max(std::abs(y1 - y0), std::abs(x1 - x0)) * 2)) + 1;
    const int64_t before = (thickness - 1) / 2;
    for (int64_t s = 0; s <= steps; ++s) {
        const double t = static_cast<double>(s) / static_cast<double>(steps);
        const auto y = static_cast<int64_t>(std::lround(y0 + t * (y1 - y0)));
        const auto x = static_cast<int64_t>(std::lround(x0 + t * (x1 - x0)));
        for (int64_t dy = 0; dy < thickness; ++dy)
            for (int64_t dx = 0; dx < thickness; ++dx) put(image, y - before + dy, x - before + dx, color);
    }
}

}  // namespace engine::data
