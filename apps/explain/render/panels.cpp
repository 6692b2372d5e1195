// Segmentation maps, legends, captions, the IG panel, activation grids and superpixel / LIME overlays.
#include "apps/explain/render/panels.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "apps/common/enum_names.h"
#include "models/data/palette.h"
#include "runtime/error.h"

namespace engine::explain::render {

namespace {

constexpr apps::EnumName<Palette> kPaletteRows[] = {{Palette::Voc, "voc"},
                                                    {Palette::CityscapesCategories, "cityscapes"},
                                                    {Palette::CityscapesTrainIds, "cityscapes19"}};
constexpr apps::EnumNames<Palette> kPaletteNames{"palette", kPaletteRows};

const data::Rgb kWhite{255, 255, 255}, kText{40, 40, 40};

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0))); }

void check_segments(const data::Image& image, const Tensor& segments, const char* op) {
    ENGINE_CHECK(segments.defined() && segments.dim() == 2 && segments.size(0) == image.height &&
                     segments.size(1) == image.width,
                 op, ": expected (", image.height, ", ", image.width, ") segment ids, got ",
                 segments.defined() ? shape_str(segments.shape()) : std::string("undefined"));
}

const std::vector<std::string>& voc_names() {
    static const std::vector<std::string> names = {
        "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
        "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
        "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
    return names;
}

}  // namespace

// ---------------------------------------------------------------- segmentation maps

const char* palette_name(Palette palette) { return kPaletteNames.name(palette); }

Palette default_palette(int64_t num_classes) {
    if (num_classes == 8) return Palette::CityscapesCategories;
    if (num_classes == 19) return Palette::CityscapesTrainIds;
    return Palette::Voc;
}

Palette parse_palette(const std::string& name, int64_t num_classes) {
    return name == "auto" ? default_palette(num_classes) : kPaletteNames.parse(name);
}

std::vector<data::Rgb> palette_colors(Palette palette, int64_t num_classes) {
    ENGINE_CHECK(num_classes >= 1 && num_classes <= 256, "palette_colors: num_classes must be in [1, 256], got ",
                 num_classes);
    std::vector<data::Rgb> colors;
    if (palette == Palette::CityscapesCategories)
        colors = data::cityscapes_class_colors(data::CityscapesClasses::Categories);
    else if (palette == Palette::CityscapesTrainIds)
        colors = data::cityscapes_class_colors(data::CityscapesClasses::TrainIds);
    const std::vector<data::Rgb> voc = data::voc_colors(256);
    for (auto k = static_cast<int64_t>(colors.size()); k < num_classes; ++k)
        colors.push_back(voc[static_cast<size_t>(k)]);
    colors.resize(static_cast<size_t>(num_classes));
    return colors;
}

std::vector<std::string> palette_class_names(Palette palette, int64_t num_classes) {
    std::vector<std::string> names;
    if (palette == Palette::CityscapesCategories)
        names = data::cityscapes_class_names(data::CityscapesClasses::Categories);
    else if (palette == Palette::CityscapesTrainIds)
        names = data::cityscapes_class_names(data::CityscapesClasses::TrainIds);
    else if (num_classes == static_cast<int64_t>(voc_names().size()))
        names = voc_names();
    for (auto k = static_cast<int64_t>(names.size()); k < num_classes; ++k)
        names.push_back("class " + std::to_string(k));
    names.resize(static_cast<size_t>(std::max<int64_t>(num_classes, 0)));
    return names;
}

data::Image segmentation_image(const Tensor& class_map, const std::vector<data::Rgb>& colors) {
    return data::colorize(class_map, colors);
}

std::vector<LegendEntry> segmentation_legend(const Tensor& class_map, const std::vector<data::Rgb>& colors,
                                             const std::vector<std::string>& class_names) {
    ENGINE_CHECK(class_map.defined() && class_map.dim() == 2 && is_integral(class_map.dtype()),
                 "segmentation_legend: expected an integer (H, W) class map");
    std::map<int64_t, int64_t> counts;
    for (int64_t v : class_map.to_vector<int64_t>()) ++counts[v];
    const double total = static_cast<double>(class_map.numel());
    std::vector<LegendEntry> out;
    for (const auto& [cls, pixels] : counts) {
        LegendEntry e;
        e.cls = cls;
        const bool known = cls >= 0 && cls < static_cast<int64_t>(colors.size());
        e.color = known ? colors[static_cast<size_t>(cls)] : data::Rgb{0, 0, 0};
        e.name = cls >= 0 && cls < static_cast<int64_t>(class_names.size()) ? class_names[static_cast<size_t>(cls)]
                                                                            : "class " + std::to_string(cls);
        e.pixels = pixels;
        e.fraction = total > 0 ? static_cast<double>(pixels) / total : 0.0;
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const LegendEntry& a, const LegendEntry& b) { return a.pixels > b.pixels; });
    return out;
}

// ---------------------------------------------------------------- captions and layout

data::Image captioned(const data::Image& picture, const std::string& caption) {
    const data::Image rgb = data::to_rgb(picture);
    const int64_t strip = data::text_height() + 6;
    std::string text = caption;
    const int64_t width = std::max<int64_t>(rgb.width, 8);
    while (!text.empty() && data::text_width(text) > width - 4) text.pop_back();
    data::Image out(rgb.height + strip, width, 3, 255);
    for (int64_t y = 0; y < rgb.height; ++y)
        std::copy(rgb.pixel(y, 0), rgb.pixel(y, 0) + rgb.width * 3, out.pixel(y, (width - rgb.width) / 2));
    data::draw_text(out, rgb.height + 3, std::max<int64_t>(2, (width - data::text_width(text)) / 2), text, kText);
    return out;
}

data::Image enlarged(const data::Image& picture, int64_t min_side) {
    const int64_t side = std::max<int64_t>(1, std::min(picture.height, picture.width));
    const int64_t factor = std::max<int64_t>(1, (min_side + side - 1) / side);
    return factor == 1 ? picture : data::upscale(picture, factor);
}

// ---------------------------------------------------------------- integrated gradients

data::Image ig_panel(const data::Image& baseline, const data::Image& image, const NormalizedMap& map, ColorMap colormap,
                     double alpha) {
    ENGINE_CHECK(baseline.height == map.height && baseline.width == map.width && image.height == map.height &&
                     image.width == map.width,
                 "ig_panel: the baseline (", baseline.height, "x", baseline.width, "), image (", image.height, "x",
                 image.width, ") and map (", map.height, "x", map.width, ") sizes differ");
    const int64_t factor = std::max<int64_t>(
        1, (128 + std::min(map.height, map.width) - 1) / std::max<int64_t>(1, std::min(map.height, map.width)));
    auto cell = [&](const data::Image& picture, const std::string& caption) {
        return captioned(data::upscale(data::to_rgb(picture), factor), caption);
    };
    const std::string sign = sign_name(map.sign);
    return data::make_grid({{cell(baseline, "baseline"), cell(image, "image")},
                            {cell(heat_map(map, colormap), "attribution (" + sign + ")"),
                             cell(blended_heat_map(map, image, colormap, alpha), "overlay")}},
                           4, kWhite);
}

// ---------------------------------------------------------------- activations

data::Image activation_grid(const Tensor& activation, const ActivationGridOptions& options) {
    ENGINE_CHECK(activation.defined(), "activation_grid: undefined activation");
    Tensor a = activation;
    if (a.dim() == 4) {
        ENGINE_CHECK(a.size(0) == 1, "activation_grid: expected one image's activation, got ", shape_str(a.shape()));
        a = a.select(0, 0);
    }
    ENGINE_CHECK(a.dim() == 3 && a.size(0) >= 1, "activation_grid: expected a (C, h, w) activation, got ",
                 shape_str(activation.shape()));
    ENGINE_CHECK(options.per_row >= 1 && options.min_tile >= 1 && options.max_tile >= options.min_tile &&
                     options.max_channels >= 1,
                 "activation_grid: need per_row, min_tile, max_channels >= 1 and max_tile >= min_tile");
    const int64_t channels = std::min(a.size(0), options.max_channels), h = a.size(1), w = a.size(2);
    const std::vector<double> v = a.to_vector<double>();
    // Small maps are enlarged by an integer factor (`up`), large ones shrunk by averaging down x down blocks.
    const int64_t up = std::max<int64_t>(1, (options.min_tile + std::min(h, w) - 1) / std::min(h, w));
    const int64_t down = std::max<int64_t>(1, (std::max(h, w) + options.max_tile - 1) / options.max_tile);
    const int64_t sh = (h + down - 1) / down, sw = (w + down - 1) / down;  // the (shrunk) map
    const int64_t th = sh * up, tw = sw * up, gap = 1;
    const int64_t cols = std::min(channels, options.per_row), rows = (channels + options.per_row - 1) / options.per_row;
    data::Image out(rows * th + (rows + 1) * gap, cols * tw + (cols + 1) * gap, 3, 255);
    std::vector<double> tile(static_cast<size_t>(sh * sw));
    for (int64_t c = 0; c < channels; ++c) {
        const double* p = v.data() + c * h * w;
        for (int64_t ty = 0; ty < sh; ++ty)
            for (int64_t tx = 0; tx < sw; ++tx) {
                double sum = 0;
                int64_t n = 0;
                for (int64_t y = ty * down; y < std::min(h, (ty + 1) * down); ++y)
                    for (int64_t x = tx * down; x < std::min(w, (tx + 1) * down); ++x)
                        if (std::isfinite(p[y * w + x])) {
                            sum += p[y * w + x];
                            ++n;
                        }
                tile[static_cast<size_t>(ty * sw + tx)] = n ? sum / static_cast<double>(n) : NAN;
            }
        double lo = INFINITY, hi = -INFINITY;
        for (double t : tile)
            if (std::isfinite(t)) {
                lo = std::min(lo, t);
                hi = std::max(hi, t);
            }
        const int64_t top = gap + (c / options.per_row) * (th + gap), left = gap + (c % options.per_row) * (tw + gap);
        for (int64_t y = 0; y < th; ++y)
            for (int64_t x = 0; x < tw; ++x) {
                const double value = tile[static_cast<size_t>((y / up) * sw + x / up)];
                const double t = !std::isfinite(value) ? NAN : hi > lo ? (value - lo) / (hi - lo) : 0.5;
                const data::Rgb col = colormap_color(options.colormap, t);
                uint8_t* q = out.pixel(top + y, left + x);
                q[0] = col.r;
                q[1] = col.g;
                q[2] = col.b;
            }
    }
    return out;
}

// ---------------------------------------------------------------- superpixels and LIME

data::Image segment_boundaries(const data::Image& image, const Tensor& segments, data::Rgb color) {
    check_segments(image, segments, "segment_boundaries");
    const std::vector<int64_t> ids = segments.to_vector<int64_t>();
    data::Image out = data::to_rgb(image);
    const int64_t h = image.height, w = image.width;
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            const int64_t id = ids[static_cast<size_t>(y * w + x)];
            const bool edge = (x + 1 < w && ids[static_cast<size_t>(y * w + x + 1)] != id) ||
                              (y + 1 < h && ids[static_cast<size_t>((y + 1) * w + x)] != id);
            if (edge) data::fill_rect(out, y, x, 1, 1, color);
        }
    return out;
}

data::Image lime_overlay(const data::Image& image, const Tensor& segments, const std::vector<int64_t>& positive,
                         const std::vector<int64_t>& negative, double tint, double dim) {
    check_segments(image, segments, "lime_overlay");
    ENGINE_CHECK(tint >= 0 && tint <= 1 && dim >= 0 && dim <= 1, "lime_overlay: tint and dim must be in [0, 1]");
    const std::vector<int64_t> ids = segments.to_vector<int64_t>();
    std::map<int64_t, int> role;  // +1 positive, -1 negative
    for (int64_t id : negative) role[id] = -1;
    for (int64_t id : positive) role[id] = 1;
    const data::Rgb green{0, 170, 0}, red{220, 0, 0};
    const data::Image rgb = data::to_rgb(image);
    data::Image out(rgb.height, rgb.width, 3);
    const int64_t h = image.height, w = image.width;
    auto role_at = [&](int64_t y, int64_t x) {
        const auto it = role.find(ids[static_cast<size_t>(y * w + x)]);
        return it == role.end() ? 0 : it->second;
    };
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            const int r = role_at(y, x);
            const uint8_t* p = rgb.pixel(y, x);
            uint8_t* q = out.pixel(y, x);
            for (int c = 0; c < 3; ++c) {
                const double base = p[c];
                if (r == 0) {
                    q[c] = to_byte(base * (1.0 - dim));
                } else {
                    const data::Rgb t = r > 0 ? green : red;
                    const double target = c == 0 ? t.r : c == 1 ? t.g : t.b;
                    q[c] = to_byte(base * (1.0 - tint) + target * tint);
                }
            }
        }
    // Outlines: a pixel of a chosen segment next to a pixel of another segment (4-neighbourhood).
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            const int r = role_at(y, x);
            if (r == 0) continue;
            const int64_t id = ids[static_cast<size_t>(y * w + x)];
            bool edge = false;
            const int64_t dy[4] = {1, -1, 0, 0}, dx[4] = {0, 0, 1, -1};
            for (int i = 0; i < 4 && !edge; ++i) {
                const int64_t yy = y + dy[i], xx = x + dx[i];
                edge = yy < 0 || yy >= h || xx < 0 || xx >= w ? false : ids[static_cast<size_t>(yy * w + xx)] != id;
            }
            if (edge) data::fill_rect(out, y, x, 1, 1, r > 0 ? green : red);
        }
    return out;
}

}  // namespace engine::explain::render
