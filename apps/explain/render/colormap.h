// Colour maps for attribution pictures: matplotlib's jet, bwr, inferno, viridis and gray, and the maps Captum's
// visualize_image_attr picks per sign (Greens for positive, Reds for negative, Blues for absolute values and
// RdWhGn, red - white - green, for signed maps), looked up exactly as matplotlib does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/data/image.h"

namespace engine::explain::render {

enum class ColorMap { Jet, Bwr, Inferno, Viridis, Greens, Reds, Blues, RdWhGn, Gray };

// "jet", "bwr", "inferno", "viridis", "greens", "reds", "blues", "rdwhgn", "gray".
const char* colormap_name(ColorMap map);
// The names above (any case); throws listing them.
ColorMap parse_colormap(const std::string& name);
const std::vector<std::string>& colormap_names();

// The colour of t in [0, 1] as matplotlib's Colormap.__call__ with its 256-entry table: entry int(t * 256),
// t = 1 -> the last entry, t < 0 -> the first, t > 1 -> the last; NaN -> black.
data::Rgb colormap_color(ColorMap map, double t);

namespace detail {
extern const uint8_t kJetTable[256][3];
extern const uint8_t kBwrTable[256][3];
extern const uint8_t kInfernoTable[256][3];
extern const uint8_t kViridisTable[256][3];
extern const uint8_t kGreensTable[256][3];
extern const uint8_t kRedsTable[256][3];
extern const uint8_t kBluesTable[256][3];
extern const uint8_t kGrayTable[256][3];
extern const uint8_t kRdwhgnTable[256][3];
}  // namespace detail

}  // namespace engine::explain::render
