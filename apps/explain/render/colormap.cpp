// Colour-map names and lookups (the tables are in colormap_tables.cpp).
#include "apps/explain/render/colormap.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "runtime/error.h"

namespace engine::explain::render {

namespace {

struct Entry {
    ColorMap map;
    const char* name;
    const uint8_t (*table)[3];
};

const Entry kEntries[] = {
    {ColorMap::Jet, "jet", detail::kJetTable},
    {ColorMap::Bwr, "bwr", detail::kBwrTable},
    {ColorMap::Inferno, "inferno", detail::kInfernoTable},
    {ColorMap::Viridis, "viridis", detail::kViridisTable},
    {ColorMap::Greens, "greens", detail::kGreensTable},
    {ColorMap::Reds, "reds", detail::kRedsTable},
    {ColorMap::Blues, "blues", detail::kBluesTable},
    {ColorMap::RdWhGn, "rdwhgn", detail::kRdwhgnTable},
    {ColorMap::Gray, "gray", detail::kGrayTable},
};

const Entry& entry(ColorMap map) {
    for (const Entry& e : kEntries)
        if (e.map == map) return e;
    throw Error("colormap: unknown colour map");
}

}  // namespace

const char* colormap_name(ColorMap map) { return entry(map).name; }

const std::vector<std::string>& colormap_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Entry& e : kEntries) out.emplace_back(e.name);
        return out;
    }();
    return names;
}

ColorMap parse_colormap(const std::string& name) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const Entry& e : kEntries)
        if (lower == e.name) return e.map;
    std::string valid;
    for (const std::string& n : colormap_names()) valid += (valid.empty() ? "" : ", ") + n;
    throw Error("unknown colour map '" + name + "' (valid: " + valid + ")");
}

data::Rgb colormap_color(ColorMap map, double t) {
    if (std::isnan(t)) return {0, 0, 0};
    // matplotlib: xa = t * N; xa[xa == N] = N - 1; negative -> under (entry 0), >= N -> over (entry N - 1).
    int64_t index = 0;
    if (t >= 1.0)
        index = 255;
    else if (t > 0.0)
        index = std::min<int64_t>(255, static_cast<int64_t>(t * 256.0));
    const uint8_t* c = entry(map).table[index];
    return {c[0], c[1], c[2]};
}

}  // namespace engine::explain::render
