// line_chart: loss curves as a PNG-ready picture (axes, ticks with numbers, grid, legend).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/common/draw.h"

namespace engine::data {
namespace {

constexpr Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225}, kWhite{255, 255, 255}, kLegendBorder{160, 160, 160};

// Ticks at multiples of 1, 2 or 5 x 10^k, about `target` of them, inside [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target) {
    const double raw = (hi - lo) / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / magnitude;
    const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
    std::vector<double> ticks;
    for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9 && ticks.size() < 50; ++k)
        ticks.push_back(std::abs(k) < 0.5 ? 0.0 : k * step);
    return ticks;
}

// On a log axis (values are log10 of the data): decades, with 2x and 5x when few decades show.
std::vector<double> log_ticks(double lo, double hi) {
    std::vector<double> all, decades;
    for (double k = std::floor(lo); k <= std::ceil(hi); ++k)
        for (double m : {1.0, 2.0, 5.0}) {
            const double v = k + std::log10(m);
            if (v < lo - 1e-9 || v > hi + 1e-9) continue;
            all.push_back(v);
            if (m == 1.0) decades.push_back(v);
        }
    if (all.size() < 2) return nice_ticks(lo, hi, 5);
    return all.size() > 10 ? decades : all;
}

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4g", v);
    return buf;
}

}  // namespace

Image line_chart(const std::vector<ChartSeries>& series, const ChartOptions& o) {
    ENGINE_CHECK(!series.empty(), "line_chart: no series");
    ENGINE_CHECK(o.text_scale >= 1 && o.text_scale <= 8, "line_chart: text_scale must be in [1, 8], got ",
                 o.text_scale);
    ENGINE_CHECK(o.height >= 100 && o.width >= 150 && o.height <= kMaxImageSide && o.width <= kMaxImageSide,
                 "line_chart: size ", o.height, "x", o.width, " outside [100, ", kMaxImageSide, "] x [150, ",
                 kMaxImageSide, "]");
    const int64_t s = o.text_scale, th = text_height(s);
    // Points in axis units (log10 of y on a log axis); non-finite ones break the line.
    std::vector<std::vector<double>> xs(series.size()), ys(series.size());
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (size_t k = 0; k < series.size(); ++k) {
        const ChartSeries& c = series[k];
        ENGINE_CHECK(c.x.empty() || c.x.size() == c.y.size(), "line_chart: series \"", c.name, "\" has ", c.x.size(),
                     " x values and ", c.y.size(), " y values");
        for (size_t i = 0; i < c.y.size(); ++i) {
            const double x = c.x.empty() ? static_cast<double>(i + 1) : c.x[i];
            double y = c.y[i];
            y = o.log_y ? (y > 0 ? std::log10(y) : NAN) : y;
            xs[k].push_back(x);
            ys[k].push_back(y);
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
            y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
        }
    }
    if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
    if (x_hi - x_lo < 1e-12 * std::max(1.0, std::abs(x_lo))) x_lo -= 0.5, x_hi += 0.5;
    if (y_hi - y_lo < 1e-12 * std::max(1.0, std::abs(y_lo))) {
        const double pad = std::max(std::abs(y_lo) * 0.1, o.log_y ? 0.5 : 1.0);
        y_lo -= pad, y_hi += pad;
    } else {
        const double pad = 0.05 * (y_hi - y_lo);
        y_lo -= pad, y_hi += pad;
    }
    const std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, 8);
    const std::vector<double> y_ticks = o.log_y ? log_ticks(y_lo, y_hi) : nice_ticks(y_lo, y_hi, 6);
    auto y_label_of = [&](double v) { return format_number(o.log_y ? std::pow(10.0, v) : v); };

    int64_t label_w = 0;
    for (double v : y_ticks) label_w = std::max(label_w, text_width(y_label_of(v), s));
    const int64_t pad = 10, tick = 5;
    const int64_t top = pad + (o.title.empty() ? 0 : th + 8) + (o.y_label.empty() ? th / 2 : th + 8);
    const int64_t bottom = pad + th + tick + 6 + (o.x_label.empty() ? 0 : th + 8);
    const int64_t left = pad + label_w + tick + 6, right = pad + 3 * s * 3;
    const int64_t plot_h = o.height - top - bottom, plot_w = o.width - left - right;
    ENGINE_CHECK(plot_h >= 20 && plot_w >= 20, "line_chart: ", o.height, "x", o.width,
                 " leaves no room for the plot; enlarge it or lower text_scale");
    auto px = [&](double x) { return static_cast<double>(left) + (x - x_lo) / (x_hi - x_lo) * (plot_w - 1); };
    auto py = [&](double y) {
        return static_cast<double>(top + plot_h - 1) - (y - y_lo) / (y_hi - y_lo) * (plot_h - 1);
    };

    Image img(o.height, o.width, 3, 255);
    for (double v : x_ticks) {
        const auto x = static_cast<int64_t>(std::lround(px(v)));
        fill_rect(img, top, x, plot_h, 1, kGrid);
        fill_rect(img, top + plot_h, x, tick, 1, kBlack);
        const std::string label = format_number(v);
        draw_text(img, top + plot_h + tick + 4, x - text_width(label, s) / 2, label, kBlack, s);
    }
    for (double v : y_ticks) {
        const auto y = static_cast<int64_t>(std::lround(py(v)));
        fill_rect(img, y, left, 1, plot_w, kGrid);
        fill_rect(img, y, left - tick, 1, tick, kBlack);
        const std::string label = y_label_of(v);
        draw_text(img, y - th / 2, left - tick - 4 - text_width(label, s), label, kBlack, s);
    }
    draw_rect(img, top - 1, left - 1, plot_h + 2, plot_w + 2, kBlack);
    if (!o.title.empty()) draw_text(img, pad, (o.width - text_width(o.title, s)) / 2, o.title, kBlack, s);
    if (!o.y_label.empty()) draw_text(img, top - th - 8, pad, o.y_label, kBlack, s);
    if (!o.x_label.empty())
        draw_text(img, o.height - pad - th, left + (plot_w - text_width(o.x_label, s)) / 2, o.x_label, kBlack, s);

    const std::vector<Rgb>& defaults = series_colors();
    auto color_of = [&](size_t k) { return series[k].color.value_or(defaults[k % defaults.size()]); };
    const int64_t thickness = std::max<int64_t>(2, s);
    for (size_t k = 0; k < series.size(); ++k) {
        for (size_t i = 0; i < xs[k].size(); ++i) {
            const bool here = std::isfinite(xs[k][i]) && std::isfinite(ys[k][i]);
            const bool prev = i > 0 && std::isfinite(xs[k][i - 1]) && std::isfinite(ys[k][i - 1]);
            const bool next = i + 1 < xs[k].size() && std::isfinite(xs[k][i + 1]) && std::isfinite(ys[k][i + 1]);
            if (here && prev)
                draw_line(img, py(ys[k][i - 1]), px(xs[k][i - 1]), py(ys[k][i]), px(xs[k][i]), color_of(k), thickness);
            else if (here && !next)  // an isolated point
                draw_line(img, py(ys[k][i]), px(xs[k][i]), py(ys[k][i]), px(xs[k][i]), color_of(k), thickness + 2);
        }
    }

    int64_t name_w = 0;
    for (const ChartSeries& c : series) name_w = std::max(name_w, text_width(c.name, s));
    if (name_w > 0) {
        const int64_t row_h = th + 2 * s, box_w = th + 3 * s + name_w + 4 * s;
        const int64_t box_h = row_h * static_cast<int64_t>(series.size()) + 2 * s;
        const int64_t bx = left + plot_w - box_w - 6, by = top + 6;
        fill_rect(img, by, bx, box_h, box_w, kWhite);
        draw_rect(img, by, bx, box_h, box_w, kLegendBorder);
        for (size_t k = 0; k < series.size(); ++k) {
            const int64_t y = by + 2 * s + static_cast<int64_t>(k) * row_h;
            fill_rect(img, y, bx + 2 * s, th, th, color_of(k));
            draw_text(img, y, bx + 2 * s + th + 3 * s, series[k].name, kBlack, s);
        }
    }
    return img;
}

}  // namespace engine::data
