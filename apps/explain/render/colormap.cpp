// Colour-map names and lookups (the tables are in colormap_tables.cpp).
#include "apps/explain/render/colormap.h"

#include <algorithm>
#include <cmath>

#include "apps/common/enum_names.h"
#include "runtime/error.h"

namespace engine::explain::render {

namespace {

constexpr apps::EnumName<ColorMap> kColorMapRows[] = {
    {ColorMap::Jet, "jet"},         {ColorMap::Bwr, "bwr"},       {ColorMap::Inferno, "inferno"},
    {ColorMap::Viridis, "viridis"}, {ColorMap::Greens, "greens"}, {ColorMap::Reds, "reds"},
    {ColorMap::Blues, "blues"},     {ColorMap::RdWhGn, "rdwhgn"}, {ColorMap::Gray, "gray"}};
constexpr apps::EnumNames<ColorMap> kColorMapNames{"colour map", kColorMapRows, apps::NameCase::Insensitive};

// matplotlib's 256-entry tables.
const uint8_t (*table_of(ColorMap map))[3] {
    switch (map) {
        case ColorMap::Jet:
            return detail::kJetTable;
        case ColorMap::Bwr:
            return detail::kBwrTable;
        case ColorMap::Inferno:
            return detail::kInfernoTable;
        case ColorMap::Viridis:
            return detail::kViridisTable;
        case ColorMap::Greens:
            return detail::kGreensTable;
        case ColorMap::Reds:
            return detail::kRedsTable;
        case ColorMap::Blues:
            return detail::kBluesTable;
        case ColorMap::RdWhGn:
            return detail::kRdwhgnTable;
        case ColorMap::Gray:
            return detail::kGrayTable;
    }
    throw Error("colormap: unknown colour map");
}

}  // namespace

const char* colormap_name(ColorMap map) { return kColorMapNames.name(map); }

const std::vector<std::string>& colormap_names() {
    static const std::vector<std::string> names = kColorMapNames.names();
    return names;
}

ColorMap parse_colormap(const std::string& name) { return kColorMapNames.parse(name); }

data::Rgb colormap_color(ColorMap map, double t) {
    if (std::isnan(t)) return {0, 0, 0};
    // matplotlib: xa = t * N; xa[xa == N] = N - 1; negative -> under (entry 0), >= N -> over (entry N - 1).
    int64_t index = 0;
    if (t >= 1.0)
        index = 255;
    else if (t > 0.0)
        index = std::min<int64_t>(255, static_cast<int64_t>(t * 256.0));
    const uint8_t* c = table_of(map)[index];
    return {c[0], c[1], c[2]};
}

}  // namespace engine::explain::render
