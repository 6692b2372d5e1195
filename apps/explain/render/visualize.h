// Captum's image visualisation (captum/attr/_utils/visualization.py, visualize_image_attr) without matplotlib:
// channels summed, a sign filter (all, positive, negative, absolute_value), the cumulative-sum outlier
// normalisation, and the heat map, blended heat map, masked image, alpha scaling and original image methods.
//
// Normalisation (Captum's _normalize_attr): after the sign filter, the scale is the value at which the
// cumulative sum of the sorted |values| first reaches (100 - outlier_perc)% of their total (not a plain
// percentile); values are divided by it (by -scale for the negative sign, so that the shown magnitudes are
// positive) and clipped to [-1, 1]. Where Captum stops ("Cannot normalize by scale factor = 0": every value is 0
// after the filter), we fall back to the largest |value| (or 1 when that is 0 too: an all-zero picture) and
// say so in NormalizedMap::note. A caller-given scale (one scale shared by several maps, so that they compare)
// replaces the computed one.
//
//     render::VisualizeOptions o;
//     o.method = render::VisualizeMethod::BlendedHeatMap;
//     o.sign = render::Sign::All;
//     data::Image picture = render::visualize_image_attr(ig_map, image, o).image;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/explain/render/colormap.h"
#include "models/data/image.h"
#include "runtime/tensor.h"

namespace engine::explain::render {

enum class Sign { All, Positive, Negative, AbsoluteValue };
const char* sign_name(Sign sign);          // "all", "positive", "negative", "absolute_value"
Sign parse_sign(const std::string& name);  // those names (also "absolute"); throws listing them
// Captum's default colour map of each sign: RdWhGn, Greens, Reds, Blues.
ColorMap default_colormap(Sign sign);

// A float map with its channels summed (Captum: np.sum(attr, axis=2)), in double.
struct Plane {
    int64_t height = 0, width = 0;
    std::vector<double> values;  // row-major
};
// attr: (H, W), (C, H, W) or (1, C, H, W), any floating dtype and device.
Plane sum_channels(const Tensor& attr);

// Captum's _cumulative_sum_threshold: `values` are non-negative; percentile in [0, 100] (100: the maximum).
// Throws on an empty input or a percentile outside [0, 100].
double cumulative_sum_threshold(std::vector<double> values, double percentile);

struct NormalizedMap {
    int64_t height = 0, width = 0;
    std::vector<double> values;  // in [-1, 1] (Sign::All) or [0, 1]; non-finite inputs become 0
    Sign sign = Sign::All;
    double scale = 1.0;     // the magnitude divided by (> 0)
    bool fallback = false;  // Captum's scale was 0 (or not finite) and `scale` is ours
    std::string note;       // why the scale fell back, or Captum's "approximately 0" warning; else empty
};

// The scale Captum would divide by (its sign dropped): 0 where Captum asserts.
double attribution_scale(const Plane& plane, Sign sign, double outlier_perc = 2.0);
// One scale for several maps: the cumulative-sum threshold over all their filtered values together.
double shared_attribution_scale(const std::vector<Plane>& planes, Sign sign, double outlier_perc = 2.0);
// scale: use this magnitude (> 0) instead of computing one.
NormalizedMap normalize_attr(const Plane& plane, Sign sign, double outlier_perc = 2.0,
                             std::optional<double> scale = std::nullopt);

enum class VisualizeMethod { HeatMap, BlendedHeatMap, MaskedImage, AlphaScaling, OriginalImage };
const char* visualize_method_name(VisualizeMethod method);  // Captum's names: "heat_map", "blended_heat_map", ...
VisualizeMethod parse_visualize_method(const std::string& name);

struct VisualizeOptions {
    VisualizeMethod method = VisualizeMethod::HeatMap;  // Captum's defaults
    Sign sign = Sign::AbsoluteValue;
    double outlier_perc = 2.0;
    std::optional<ColorMap> colormap;  // default: default_colormap(sign)
    double alpha_overlay = 0.5;
    std::optional<double> scale;  // a shared scale (see normalize_attr)
};

struct Visualization {
    data::Image image;  // RGB (RGBA for alpha scaling)
    NormalizedMap map;
};

// Captum's visualize_image_attr. `original` (gray or RGB, the map's size) may be empty for the heat map only.
Visualization visualize_image_attr(const Tensor& attr, const data::Image& original, const VisualizeOptions& options);

// The pieces, on a normalised map. Colours span [-1, 1] for Sign::All and [0, 1] otherwise (Captum's vmin/vmax).
data::Image heat_map(const NormalizedMap& map, ColorMap colormap);
// The heat map with alpha over gray_mean(original) (Captum's blended_heat_map).
data::Image blended_heat_map(const NormalizedMap& map, const data::Image& original, ColorMap colormap,
                             double alpha = 0.5);
// original * map per pixel (Captum's masked_image); refused for Sign::All, as Captum.
data::Image masked_image(const NormalizedMap& map, const data::Image& original);
// original with the map as its alpha channel (RGBA); refused for Sign::All.
data::Image alpha_scaling(const NormalizedMap& map, const data::Image& original);
// The channel mean of an image, stretched from its min..max to 0..255 as matplotlib's imshow(cmap="gray") draws
// it (a constant image keeps its value), as RGB.
data::Image gray_mean(const data::Image& original);

}  // namespace engine::explain::render
