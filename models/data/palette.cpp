// Cityscapes label colours and class sets, display palettes, and the nearest-colour ColorMapper.
#include "models/data/palette.h"

#include <cmath>
#include <limits>

namespace engine::data {
namespace {

constexpr int16_t kBeyond = -1;     // every colour of the cell is farther than max_distance from the palette
constexpr int16_t kAmbiguous = -2;  // the cell straddles a decision boundary: use the exact search

// cityscapesScripts labels.py: every label with its trainId (255 = not trained), its category id and colour.
// Labels sharing a colour (the void ones, polegroup = pole, license plate = car) appear once.
struct CityscapesLabel {
    const char* name;
    int train_id;
    int category;
    Rgb color;
};
constexpr CityscapesLabel kCityscapesLabels[] = {
    {"unlabeled", 255, 0, {0, 0, 0}},
    {"dynamic", 255, 0, {111, 74, 0}},
    {"ground", 255, 0, {81, 0, 81}},
    {"road", 0, 1, {128, 64, 128}},
    {"sidewalk", 1, 1, {244, 35, 232}},
    {"parking", 255, 1, {250, 170, 160}},
    {"rail track", 255, 1, {230, 150, 140}},
    {"building", 2, 2, {70, 70, 70}},
    {"wall", 3, 2, {102, 102, 156}},
    {"fence", 4, 2, {190, 153, 153}},
    {"guard rail", 255, 2, {180, 165, 180}},
    {"bridge", 255, 2, {150, 100, 100}},
    {"tunnel", 255, 2, {150, 120, 90}},
    {"pole", 5, 3, {153, 153, 153}},
    {"traffic light", 6, 3, {250, 170, 30}},
    {"traffic sign", 7, 3, {220, 220, 0}},
    {"vegetation", 8, 4, {107, 142, 35}},
    {"terrain", 9, 4, {152, 251, 152}},
    {"sky", 10, 5, {70, 130, 180}},
    {"person", 11, 6, {220, 20, 60}},
    {"rider", 12, 6, {255, 0, 0}},
    {"car", 13, 7, {0, 0, 142}},
    {"truck", 14, 7, {0, 0, 70}},
    {"bus", 15, 7, {0, 60, 100}},
    {"caravan", 255, 7, {0, 0, 90}},
    {"trailer", 255, 7, {0, 0, 110}},
    {"train", 16, 7, {0, 80, 100}},
    {"motorcycle", 17, 7, {0, 0, 230}},
    {"bicycle", 18, 7, {119, 11, 32}},
};
const char* const kCategoryNames[] = {"void", "flat", "construction", "object", "nature", "sky", "human", "vehicle"};
constexpr Rgb kCategoryColors[] = {{0, 0, 0},      {128, 64, 128}, {70, 70, 70},  {153, 153, 153},
                                   {107, 142, 35}, {70, 130, 180}, {220, 20, 60}, {0, 0, 142}};

int64_t squared_distance(Rgb a, Rgb b) {
    const int64_t dr = int64_t{a.r} - b.r, dg = int64_t{a.g} - b.g, db = int64_t{a.b} - b.b;
    return dr * dr + dg * dg + db * db;
}

}  // namespace

ColorMapper::ColorMapper(std::vector<PaletteEntry> palette, double max_distance, int64_t ignore_index)
    : max_distance_(max_distance), ignore_index_(ignore_index) {
    ENGINE_CHECK(!palette.empty(), "ColorMapper: empty palette");
    ENGINE_CHECK(max_distance >= 0, "ColorMapper: max_distance must be >= 0, got ", max_distance);
    // A repeated colour can never win (the first one takes its ties), so it is dropped: that keeps the
    // nearest and second-nearest distances apart for the cube's test.
    for (const PaletteEntry& e : palette) {
        bool seen = false;
        for (const PaletteEntry& kept : palette_) seen = seen || kept.color == e.color;
        if (!seen) palette_.push_back(e);
    }
    ENGINE_CHECK(palette_.size() < 32768, "ColorMapper: too many palette colours (", palette_.size(), ")");
    // A cell holds 8x8x8 colours; every one lies within `radius` of the cell's centre, so by the triangle
    // inequality the cell has a single answer when the runner-up is more than 2 radii farther than the
    // nearest colour and the nearest is clearly inside (or the whole cell clearly outside) max_distance.
    const double radius = std::sqrt(3.0) * 3.5;
    cube_.resize(32 * 32 * 32);
    for (int i = 0; i < 32 * 32 * 32; ++i) {
        const double cr = (i >> 10) * 8 + 3.5, cg = ((i >> 5) & 31) * 8 + 3.5, cb = (i & 31) * 8 + 3.5;
        double d1 = std::numeric_limits<double>::infinity(), d2 = d1;
        int16_t best = 0;
        for (size_t k = 0; k < palette_.size(); ++k) {
            const Rgb c = palette_[k].color;
            const double d = std::sqrt((cr - c.r) * (cr - c.r) + (cg - c.g) * (cg - c.g) + (cb - c.b) * (cb - c.b));
            if (d < d1) {
                d2 = d1;
                d1 = d;
                best = static_cast<int16_t>(k);
            } else if (d < d2) {
                d2 = d;
            }
        }
        if (d1 - radius > max_distance_)
            cube_[i] = kBeyond;
        else if (d1 + radius <= max_distance_ && d2 - d1 > 2 * radius)
            cube_[i] = best;
        else
            cube_[i] = kAmbiguous;
    }
}

int64_t ColorMapper::map_exact(Rgb color) const {
    int64_t best = std::numeric_limits<int64_t>::max();
    size_t best_k = 0;
    for (size_t k = 0; k < palette_.size(); ++k) {
        const int64_t d = squared_distance(color, palette_[k].color);
        if (d < best) {
            best = d;
            best_k = k;
        }
    }
    return static_cast<double>(best) <= max_distance_ * max_distance_ ? palette_[best_k].class_id : ignore_index_;
}

int64_t ColorMapper::map(Rgb color) const {
    const int16_t cell = cube_[(color.r >> 3) << 10 | (color.g >> 3) << 5 | (color.b >> 3)];
    if (cell >= 0) return palette_[static_cast<size_t>(cell)].class_id;
    if (cell == kBeyond) return ignore_index_;
    return map_exact(color);
}

Tensor ColorMapper::map_image(const Image& image) const { return map_region(image, 0, 0, image.height, image.width); }

Tensor ColorMapper::map_region(const Image& image, int64_t y0, int64_t x0, int64_t height, int64_t width) const {
    ENGINE_CHECK(image.channels == 3 || image.channels == 4, "ColorMapper: expected an RGB image, got ", image.channels,
                 " channels");
    ENGINE_CHECK(
        y0 >= 0 && x0 >= 0 && height >= 0 && width >= 0 && y0 + height <= image.height && x0 + width <= image.width,
        "ColorMapper: region ", height, "x", width, " at (", y0, ", ", x0, ") outside a ", image.height, "x",
        image.width, " image");
    Tensor out = empty({height, width}, DType::Int64);
    int64_t* dst = out.data<int64_t>();
    for (int64_t y = 0; y < height; ++y) {
        const uint8_t* p = image.pixel(y0 + y, x0);
        for (int64_t x = 0; x < width; ++x, p += image.channels) dst[y * width + x] = map(Rgb{p[0], p[1], p[2]});
    }
    return out;
}

std::vector<PaletteEntry> cityscapes_label_palette(CityscapesClasses classes, int64_t ignore_index) {
    std::vector<PaletteEntry> out;
    for (const CityscapesLabel& label : kCityscapesLabels) {
        int64_t id = ignore_index;
        switch (classes) {
            case CityscapesClasses::Categories:
                id = label.category;
                break;
            case CityscapesClasses::CategoriesNoVoid:
                id = label.category == 0 ? ignore_index : label.category - 1;
                break;
            case CityscapesClasses::TrainIds:
                id = label.train_id == 255 ? ignore_index : label.train_id;
                break;
        }
        out.push_back({label.color, id});
    }
    return out;
}

std::vector<std::string> cityscapes_class_names(CityscapesClasses classes) {
    std::vector<std::string> names;
    if (classes == CityscapesClasses::TrainIds) {
        names.resize(19);
        for (const CityscapesLabel& label : kCityscapesLabels)
            if (label.train_id != 255) names[static_cast<size_t>(label.train_id)] = label.name;
        return names;
    }
    names.assign(std::begin(kCategoryNames), std::end(kCategoryNames));
    if (classes == CityscapesClasses::CategoriesNoVoid) names.erase(names.begin());
    return names;
}

std::vector<Rgb> cityscapes_class_colors(CityscapesClasses classes) {
    std::vector<Rgb> colors;
    if (classes == CityscapesClasses::TrainIds) {
        colors.resize(19);
        for (const CityscapesLabel& label : kCityscapesLabels)
            if (label.train_id != 255) colors[static_cast<size_t>(label.train_id)] = label.color;
        return colors;
    }
    colors.assign(std::begin(kCategoryColors), std::end(kCategoryColors));
    if (classes == CityscapesClasses::CategoriesNoVoid) colors.erase(colors.begin());
    return colors;
}

std::vector<Rgb> voc_colors(int64_t n) {
    ENGINE_CHECK(n >= 0 && n <= 256, "voc_colors: n must be in [0, 256], got ", n);
    std::vector<Rgb> colors(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        int64_t c = i;
        uint8_t r = 0, g = 0, b = 0;
        for (int j = 0; j < 8; ++j) {
            r = static_cast<uint8_t>(r | ((c & 1) << (7 - j)));
            g = static_cast<uint8_t>(g | (((c >> 1) & 1) << (7 - j)));
            b = static_cast<uint8_t>(b | (((c >> 2) & 1) << (7 - j)));
            c >>= 3;
        }
        colors[static_cast<size_t>(i)] = {r, g, b};
    }
    return colors;
}

std::vector<Rgb> gray_colors(int64_t n) {
    ENGINE_CHECK(n >= 1 && n <= 256, "gray_colors: n must be in [1, 256], got ", n);
    std::vector<Rgb> colors;
    for (int64_t i = 0; i < n; ++i) {
        const auto v = static_cast<uint8_t>(n == 1 ? 255 : std::lround(255.0 * static_cast<double>(i) / (n - 1)));
        colors.push_back({v, v, v});
    }
    return colors;
}

const std::vector<Rgb>& series_colors() {
    static const std::vector<Rgb> colors = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                            {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                            {188, 189, 34},  {23, 190, 207}};
    return colors;
}

}  // namespace engine::data
