// Composite pictures for the explain app: segmentation maps in a class palette (VOC, Cityscapes) with a legend,
// the integrated-gradients 2x2 panel, grids of a layer's activation channels, LIME's top segments and
// superpixel boundaries, and captions under pictures. Everything draws with apps/common/draw.h into RGB
// images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "apps/explain/render/colormap.h"
#include "apps/explain/render/visualize.h"
#include "apps/common/draw.h"
#include "models/data/image.h"
#include "runtime/tensor.h"

namespace engine::explain::render {

// ---------------------------------------------------------------- segmentation maps
enum class Palette {
    Voc,                   // PASCAL VOC's bit-interleaved colours (0 black, 1 (128, 0, 0), ...)
    CityscapesCategories,  // the 8 Cityscapes categories (void, flat, construction, ...), gtFine colours
    CityscapesTrainIds,    // the 19 Cityscapes training classes (road .. bicycle)
};
const char* palette_name(Palette palette);  // "voc", "cityscapes", "cityscapes19"
// By the class count: 8 -> Cityscapes categories, 19 -> Cityscapes train ids, anything else -> VOC.
Palette default_palette(int64_t num_classes);
// "voc" | "cityscapes" (categories) | "cityscapes19" (train ids), or "auto": default_palette(num_classes).
Palette parse_palette(const std::string& name, int64_t num_classes);
// num_classes colours (VOC's palette extends to 256 classes; the Cityscapes ones repeat VOC's beyond theirs).
std::vector<data::Rgb> palette_colors(Palette palette, int64_t num_classes);
// Class names a palette implies (Cityscapes) or "class K" (VOC: its 21 names when num_classes is 21).
std::vector<std::string> palette_class_names(Palette palette, int64_t num_classes);

// int64 (H, W) class ids -> colours (ids outside [0, colors.size()) black).
data::Image segmentation_image(const Tensor& class_map, const std::vector<data::Rgb>& colors);

struct LegendEntry {
    int64_t cls = 0;
    std::string name;
    data::Rgb color;
    int64_t pixels = 0;
    double fraction = 0.0;
};
// The classes present in a class map, most pixels first (ties: lower id), with their colours and shares.
std::vector<LegendEntry> segmentation_legend(const Tensor& class_map, const std::vector<data::Rgb>& colors,
                                             const std::vector<std::string>& class_names);

// ---------------------------------------------------------------- captions and layout
// The picture with a white strip below holding `caption` (the 5x7 font of draw.h, scale 1; cut to fit).
data::Image captioned(const data::Image& picture, const std::string& caption);
// Pictures smaller than min_side (either side) upscaled by an integer factor (nearest) so that they are seen.
data::Image enlarged(const data::Image& picture, int64_t min_side = 128);

// ---------------------------------------------------------------- integrated gradients
// Captum's IG tutorial figure as one image: baseline | image on top, attribution heat map | blended overlay
// below, each captioned. baseline and image: display images of the map's size.
data::Image ig_panel(const data::Image& baseline, const data::Image& image, const NormalizedMap& map, ColorMap colormap,
                     double alpha = 0.5);

// ---------------------------------------------------------------- activations
// The channels of one layer output (C, h, w) or (1, C, h, w) as a grid, `per_row` to a row, each channel
// min-max normalised on its own (a constant channel is drawn at the middle of the map) and coloured with
// `colormap`; small maps are enlarged by an integer factor so that their smaller side reaches min_tile pixels,
// large ones shrunk by averaging blocks so that their larger side fits max_tile; 1-pixel gaps. At most
// max_channels channels are drawn (the first ones).
struct ActivationGridOptions {
    int64_t per_row = 16;
    ColorMap colormap = ColorMap::Viridis;
    int64_t min_tile = 32;
    int64_t max_tile = 64;
    int64_t max_channels = 256;
};
data::Image activation_grid(const Tensor& activation, const ActivationGridOptions& options = {});

// ---------------------------------------------------------------- superpixels and LIME
// Pixels whose right or lower neighbour lies in another segment, painted `color` over the image.
data::Image segment_boundaries(const data::Image& image, const Tensor& segments, data::Rgb color = {255, 255, 0});
// LIME's top segments: positive ones tinted green and outlined in green, negative ones tinted red and outlined
// in red (tint alpha `tint`), the rest of the image unchanged but dimmed by `dim` (0: not dimmed).
data::Image lime_overlay(const data::Image& image, const Tensor& segments, const std::vector<int64_t>& positive,
                         const std::vector<int64_t>& negative, double tint = 0.35, double dim = 0.3);

}  // namespace engine::explain::render
