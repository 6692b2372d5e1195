// The explain app's HTML report: one self-contained page per run (pictures embedded as base64 PNG data URIs,
// inline CSS, no script and no external resource), with a card per input image: the image, the prediction
// (top classes with probabilities, or the decoded segmentation map with its legend), and every requested
// method side by side (its pictures, target, parameters, timing, fidelity metrics and notes). Every piece of
// text is HTML-escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/data/image.h"

namespace engine::explain::render {

// A picture in the report; `png` holds the PNG bytes (encode_png), `file` the name it was also written under
// in the output folder (shown as a link when not empty).
struct ReportPicture {
    std::string caption;
    std::string png;
    std::string file;
    int64_t width = 0, height = 0;  // of the PNG
    int64_t display_width = 0;      // CSS pixels; 0: the picture's width, under 140 enlarged (pixelated)
};
ReportPicture make_picture(const data::Image& image, const std::string& caption, const std::string& file = "");

struct ReportMetric {
    std::string name;  // "deletion AUC"
    double value = 0;  // NaN shows as "n/a"
    std::string hint;  // "lower is better"
};

struct ReportMethod {
    std::string name;    // "Grad-CAM"
    std::string detail;  // "layer conv.3"
    std::string target;  // "class 3 (Dress), logit 4.21"
    double seconds = 0;
    std::vector<std::pair<std::string, std::string>> parameters;
    std::vector<ReportPicture> pictures;
    std::vector<ReportMetric> metrics;
    std::vector<std::string> notes;
};

struct ReportClassScore {
    int64_t cls = 0;
    std::string name;
    double probability = 0;
    double logit = 0;
};

struct ReportLegendEntry {
    std::string name;
    data::Rgb color;
    double fraction = 0;
};

struct ReportEntry {
    std::string name;                                        // the input (file name, "t10k-images[12]")
    std::vector<std::pair<std::string, std::string>> facts;  // e.g. ("size", "28x28"), ("label", "Dress")
    ReportPicture image;
    bool segmentation = false;
    std::vector<ReportClassScore> top;  // classifiers: the top classes, best first
    std::optional<ReportPicture> segmentation_map;
    std::vector<ReportLegendEntry> legend;  // segmentation: classes present, most pixels first
    std::vector<ReportMethod> methods;
    std::vector<std::string> notes;
};

struct Report {
    std::string title = "explain report";
    std::vector<std::pair<std::string, std::string>> summary;  // model, weights, device, settings ...
    std::vector<std::string> class_names;
    std::vector<ReportEntry> entries;
    std::vector<std::string> notes;
    std::string footer;
};

// The complete HTML document.
std::string render_html(const Report& report);
// render_html written atomically.
void write_report(const std::string& path, const Report& report);

// & < > " ' as entities; other bytes unchanged (the page is UTF-8).
std::string html_escape(const std::string& text);
// Standard base64 with padding (RFC 4648).
std::string base64_encode(const std::string& bytes);
// A number for people: up to `digits` significant digits, "n/a" for NaN, "inf"/"-inf".
std::string format_value(double value, int digits = 4);
// "0.8 ms", "12.3 ms", "4.56 s", "2 min 5 s".
std::string format_seconds(double seconds);

}  // namespace engine::explain::render
