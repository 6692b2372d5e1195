// Colours and classes: the Cityscapes label colours and the class sets built from them, the PASCAL VOC and
// gray display palettes, and ColorMapper, which turns (noisy) label colours into class ids by nearest colour.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/data/image.h"
#include "runtime/tensor.h"

namespace engine::data {

// One label colour and the class id it stands for (or the mapper's ignore index).
struct PaletteEntry {
    Rgb color;
    int64_t class_id = 0;
};

// Maps RGB label colours to class ids: the nearest palette colour by Euclidean RGB distance (ties: the first
// entry), or ignore_index when even the nearest is farther than max_distance. A 32x32x32 cube built in a few
// ms answers every colour whose cell provably has one answer; the cells near a decision boundary fall back
// to the exact search, so results equal the exact rule for every colour. Read-only after construction.
class ColorMapper {
public:
    ColorMapper(std::vector<PaletteEntry> palette, double max_distance, int64_t ignore_index = 255);
    int64_t map(Rgb color) const;
    int64_t map_exact(Rgb color) const;  // the rule itself, without the cube
    // An RGB image (channels 3 or 4) or a rectangle of it -> int64 (H,W) class ids.
    Tensor map_image(const Image& image) const;
    Tensor map_region(const Image& image, int64_t y0, int64_t x0, int64_t height, int64_t width) const;
    const std::vector<PaletteEntry>& palette() const { return palette_; }
    double max_distance() const { return max_distance_; }
    int64_t ignore_index() const { return ignore_index_; }

private:
    std::vector<PaletteEntry> palette_;
    double max_distance_;
    int64_t ignore_index_;
    std::vector<int16_t> cube_;  // per cell: a palette index, or a negative code (all ignored / ambiguous)
};

// --- Cityscapes (gtFine colours, the label half of the cityscapes-image-pairs files)
// The class set a Cityscapes label colour maps to:
//   Categories      8 classes, the official categories (catId): 0 void, 1 flat, 2 construction, 3 object,
//                   4 nature, 5 sky, 6 human, 7 vehicle. void (black: ego vehicle, unlabelled, borders; about
//                   11% of pixels) is a class the model learns.
//   CategoriesNoVoid  7 classes: flat .. vehicle as ids 0..6; void colours are ignored.
//   TrainIds        the 19 training classes of the benchmark (road 0 .. bicycle 18); every other label
//                   (void, parking, rail track, guard rail, bridge, tunnel, caravan, trailer) is ignored.
enum class CityscapesClasses { Categories, CategoriesNoVoid, TrainIds };

// Every gtFine label colour (29 distinct ones) with its class in `classes` (ignore_index for ignored ones).
std::vector<PaletteEntry> cityscapes_label_palette(CityscapesClasses classes, int64_t ignore_index = 255);
std::vector<std::string> cityscapes_class_names(CityscapesClasses classes);
// A display colour per class: the gtFine colour of the class (of its main label for a category).
std::vector<Rgb> cityscapes_class_colors(CityscapesClasses classes);

// --- display palettes
// PASCAL VOC's palette (bit-interleaved class ids: 0 black, 1 (128,0,0), 2 (0,128,0), ...).
std::vector<Rgb> voc_colors(int64_t n = 256);
// n evenly spaced grays from black to white (n = 2: black and white, for binary masks).
std::vector<Rgb> gray_colors(int64_t n = 2);
// Ten distinct colours for chart lines (matplotlib's "tab10").
const std::vector<Rgb>& series_colors();

}  // namespace engine::data
