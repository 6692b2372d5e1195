// Captum-style normalisation and the visualize_image_attr methods.
#include "apps/explain/render/visualize.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "apps/common/enum_names.h"
#include "runtime/error.h"

namespace engine::explain::render {

namespace {

constexpr apps::EnumName<Sign> kSignRows[] = {{Sign::All, "all"},
                                              {Sign::Positive, "positive"},
                                              {Sign::Negative, "negative"},
                                              {Sign::AbsoluteValue, "absolute_value"},
                                              {Sign::AbsoluteValue, "absolute"}};
constexpr apps::EnumNames<Sign> kSignNames{"sign", kSignRows};

// Captum's names.
constexpr apps::EnumName<VisualizeMethod> kVisualizeMethodRows[] = {
    {VisualizeMethod::HeatMap, "heat_map"},
    {VisualizeMethod::BlendedHeatMap, "blended_heat_map"},
    {VisualizeMethod::MaskedImage, "masked_image"},
    {VisualizeMethod::AlphaScaling, "alpha_scaling"},
    {VisualizeMethod::OriginalImage, "original_image"}};
constexpr apps::EnumNames<VisualizeMethod> kVisualizeMethodNames{"visualisation method", kVisualizeMethodRows};

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

double filtered(double v, Sign sign) {
    if (!std::isfinite(v)) return 0.0;
    switch (sign) {
        case Sign::All:
            return v;
        case Sign::Positive:
            return std::max(v, 0.0);
        case Sign::Negative:
            return std::min(v, 0.0);
        case Sign::AbsoluteValue:
            return std::abs(v);
    }
    return v;
}

void check_percentile(double outlier_perc) {
    ENGINE_CHECK(outlier_perc >= 0 && outlier_perc <= 100, "outlier_perc must be in [0, 100], got ", outlier_perc);
}

void check_same_size(const NormalizedMap& map, const data::Image& image, const char* op) {
    ENGINE_CHECK(!image.empty() && image.height == map.height && image.width == map.width, op, ": the image is ",
                 image.height, "x", image.width, ", the map ", map.height, "x", map.width);
    ENGINE_CHECK(image.channels >= 1 && image.channels <= 4, op, ": unsupported image with ", image.channels,
                 " channels");
}

data::Image rgb_of(const data::Image& image) { return image.channels == 3 ? image : data::convert_channels(image, 3); }

std::string format_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace

const char* sign_name(Sign sign) { return kSignNames.name(sign); }

Sign parse_sign(const std::string& name) { return kSignNames.parse(name); }

ColorMap default_colormap(Sign sign) {
    switch (sign) {
        case Sign::All:
            return ColorMap::RdWhGn;
        case Sign::Positive:
            return ColorMap::Greens;
        case Sign::Negative:
            return ColorMap::Reds;
        case Sign::AbsoluteValue:
            return ColorMap::Blues;
    }
    return ColorMap::RdWhGn;
}

Plane sum_channels(const Tensor& attr) {
    ENGINE_CHECK(attr.defined(), "sum_channels: undefined map");
    Tensor t = attr;
    if (t.dim() == 4) {
        ENGINE_CHECK(t.size(0) == 1, "sum_channels: expected one map, got a batch of shape ", shape_str(t.shape()));
        t = t.select(0, 0);
    }
    ENGINE_CHECK(t.dim() == 2 || t.dim() == 3, "sum_channels: expected an (H, W), (C, H, W) or (1, C, H, W) map, got ",
                 shape_str(attr.shape()));
    ENGINE_CHECK(is_floating(t.dtype()), "sum_channels: expected a floating map, got ", dtype_name(t.dtype()));
    Plane p;
    p.height = t.size(t.dim() - 2);
    p.width = t.size(t.dim() - 1);
    const std::vector<double> v = t.to_vector<double>();
    const int64_t hw = p.height * p.width, channels = t.dim() == 3 ? t.size(0) : 1;
    p.values.assign(static_cast<size_t>(hw), 0.0);
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < hw; ++i) p.values[static_cast<size_t>(i)] += v[static_cast<size_t>(c * hw + i)];
    return p;
}

double cumulative_sum_threshold(std::vector<double> values, double percentile) {
    ENGINE_CHECK(!values.empty(), "cumulative_sum_threshold: no values");
    ENGINE_CHECK(percentile >= 0 && percentile <= 100,
                 "cumulative_sum_threshold: the percentile must be in [0, 100], got ", percentile);
    std::sort(values.begin(), values.end());
    if (percentile == 100) return values.back();
    // np.cumsum in the order of the sorted values, compared against total * 0.01 * percentile as Captum does.
    std::vector<double> cum(values.size());
    double running = 0.0;
    for (size_t i = 0; i < values.size(); ++i) cum[i] = running += values[i];
    const double bound = cum.back() * 0.01 * percentile;
    for (size_t i = 0; i < values.size(); ++i)
        if (cum[i] >= bound) return values[i];
    return values.back();
}

double attribution_scale(const Plane& plane, Sign sign, double outlier_perc) {
    return shared_attribution_scale({plane}, sign, outlier_perc);
}

double shared_attribution_scale(const std::vector<Plane>& planes, Sign sign, double outlier_perc) {
    check_percentile(outlier_perc);
    std::vector<double> magnitudes;
    for (const Plane& p : planes)
        for (double v : p.values) magnitudes.push_back(std::abs(filtered(v, sign)));
    if (magnitudes.empty()) return 0.0;
    return cumulative_sum_threshold(std::move(magnitudes), 100.0 - outlier_perc);
}

NormalizedMap normalize_attr(const Plane& plane, Sign sign, double outlier_perc, std::optional<double> scale) {
    check_percentile(outlier_perc);
    ENGINE_CHECK(static_cast<int64_t>(plane.values.size()) == plane.height * plane.width,
                 "normalize_attr: the plane holds ", plane.values.size(), " values for ", plane.height, "x",
                 plane.width);
    NormalizedMap out;
    out.height = plane.height;
    out.width = plane.width;
    out.sign = sign;
    double magnitude = 0.0;
    if (scale) {
        ENGINE_CHECK(std::isfinite(*scale) && *scale > 0, "normalize_attr: a given scale must be positive, got ",
                     *scale);
        magnitude = *scale;
    } else {
        magnitude = attribution_scale(plane, sign, outlier_perc);
        if (!(std::isfinite(magnitude) && magnitude > 0)) {
            double largest = 0.0;
            for (double v : plane.values) largest = std::max(largest, std::abs(filtered(v, sign)));
            out.fallback = true;
            out.note = std::string("scale fell back to ") + (largest > 0 ? "the largest |value|" : "1") +
                       ": every value is 0 after the '" + sign_name(sign) +
                       "' sign filter, where Captum stops with "
                       "'Cannot normalize by scale factor = 0'";
            magnitude = largest > 0 ? largest : 1.0;
        } else if (magnitude < 1e-5) {
            out.note = "the scale " + format_number(magnitude) +
                       " is approximately 0: the attribution values are all close to 0 (Captum warns the same)";
        }
    }
    out.scale = magnitude;
    const double divisor = sign == Sign::Negative ? -magnitude : magnitude;
    out.values.resize(plane.values.size());
    for (size_t i = 0; i < plane.values.size(); ++i)
        out.values[i] = std::clamp(filtered(plane.values[i], sign) / divisor, -1.0, 1.0);
    return out;
}

const char* visualize_method_name(VisualizeMethod method) { return kVisualizeMethodNames.name(method); }

VisualizeMethod parse_visualize_method(const std::string& name) { return kVisualizeMethodNames.parse(name); }

data::Image heat_map(const NormalizedMap& map, ColorMap colormap) {
    data::Image out(map.height, map.width, 3);
    for (size_t i = 0; i < map.values.size(); ++i) {
        const double v = map.values[i];
        const data::Rgb c = colormap_color(colormap, map.sign == Sign::All ? (v + 1.0) / 2.0 : v);
        out.pixels[3 * i] = c.r;
        out.pixels[3 * i + 1] = c.g;
        out.pixels[3 * i + 2] = c.b;
    }
    return out;
}

data::Image gray_mean(const data::Image& original) {
    ENGINE_CHECK(!original.empty() && original.channels >= 1 && original.channels <= 4,
                 "gray_mean: expected a gray or colour image");
    const int64_t colour = original.channels >= 3 ? 3 : 1, n = original.height * original.width;
    std::vector<double> mean(static_cast<size_t>(n));
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t* p = original.pixels.data() + i * original.channels;
        double s = 0;
        for (int64_t c = 0; c < colour; ++c) s += p[c];
        mean[static_cast<size_t>(i)] = s / static_cast<double>(colour);
        lo = std::min(lo, mean[static_cast<size_t>(i)]);
        hi = std::max(hi, mean[static_cast<size_t>(i)]);
    }
    data::Image out(original.height, original.width, 3);
    for (int64_t i = 0; i < n; ++i) {
        const double m = mean[static_cast<size_t>(i)];
        const uint8_t g = hi > lo ? to_byte((m - lo) / (hi - lo) * 255.0) : to_byte(m);
        std::fill_n(out.pixels.data() + 3 * i, 3, g);
    }
    return out;
}

data::Image blended_heat_map(const NormalizedMap& map, const data::Image& original, ColorMap colormap, double alpha) {
    check_same_size(map, original, "blended_heat_map");
    ENGINE_CHECK(alpha >= 0 && alpha <= 1, "blended_heat_map: alpha must be in [0, 1], got ", alpha);
    const data::Image base = gray_mean(original), heat = heat_map(map, colormap);
    data::Image out(map.height, map.width, 3);
    for (size_t i = 0; i < out.pixels.size(); ++i)
        out.pixels[i] = to_byte(base.pixels[i] * (1.0 - alpha) + heat.pixels[i] * alpha);
    return out;
}

data::Image masked_image(const NormalizedMap& map, const data::Image& original) {
    check_same_size(map, original, "masked_image");
    ENGINE_CHECK(map.sign != Sign::All,
                 "masked_image: cannot display a masked image with both positive and negative attributions, choose "
                 "another sign");
    const data::Image rgb = rgb_of(original);
    data::Image out(map.height, map.width, 3);
    for (size_t i = 0; i < map.values.size(); ++i)
        for (size_t c = 0; c < 3; ++c)
            // Captum's _prepare_image truncates to uint8 after clipping.
            out.pixels[3 * i + c] = static_cast<uint8_t>(std::clamp(rgb.pixels[3 * i + c] * map.values[i], 0.0, 255.0));
    return out;
}

data::Image alpha_scaling(const NormalizedMap& map, const data::Image& original) {
    check_same_size(map, original, "alpha_scaling");
    ENGINE_CHECK(map.sign != Sign::All,
                 "alpha_scaling: cannot display alpha scaling with both positive and negative attributions, choose "
                 "another sign");
    const data::Image rgb = rgb_of(original);
    data::Image out(map.height, map.width, 4);
    for (size_t i = 0; i < map.values.size(); ++i) {
        for (size_t c = 0; c < 3; ++c) out.pixels[4 * i + c] = rgb.pixels[3 * i + c];
        out.pixels[4 * i + 3] = static_cast<uint8_t>(std::clamp(map.values[i] * 255.0, 0.0, 255.0));
    }
    return out;
}

Visualization visualize_image_attr(const Tensor& attr, const data::Image& original, const VisualizeOptions& options) {
    Visualization out;
    out.map = normalize_attr(sum_channels(attr), options.sign, options.outlier_perc, options.scale);
    const ColorMap cmap = options.colormap.value_or(default_colormap(options.sign));
    ENGINE_CHECK(options.method == VisualizeMethod::HeatMap || !original.empty(), "visualize_image_attr: method ",
                 visualize_method_name(options.method), " needs the original image");
    switch (options.method) {
        case VisualizeMethod::HeatMap:
            out.image = heat_map(out.map, cmap);
            break;
        case VisualizeMethod::BlendedHeatMap:
            out.image = blended_heat_map(out.map, original, cmap, options.alpha_overlay);
            break;
        case VisualizeMethod::MaskedImage:
            out.image = masked_image(out.map, original);
            break;
        case VisualizeMethod::AlphaScaling:
            out.image = alpha_scaling(out.map, original);
            break;
        case VisualizeMethod::OriginalImage:
            out.image = rgb_of(original);
            break;
    }
    return out;
}

}  // namespace engine::explain::render
