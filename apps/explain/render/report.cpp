// HTML rendering of the explain report: escaping, base64 data URIs, inline CSS.
#include "apps/explain/render/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "runtime/error.h"
#include "runtime/safetensors.h"

namespace engine::explain::render {

namespace {

const char* const kCss = R"css(
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --card: #ffffff; --page: #f3f5f7; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 24px 32px; background: var(--page); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 0 0 12px; word-break: break-all; }
h3 { font-size: 15px; margin: 0; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; font-size: 13px; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; word-break: break-word; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 0 0 18px; }
.input-row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; margin-bottom: 14px; }
figure { margin: 0; display: inline-flex; flex-direction: column; align-items: center; gap: 4px; }
figure img { display: block; border: 1px solid var(--line); background: #fff; }
figcaption { font-size: 12px; color: var(--muted); text-align: center; max-width: 260px; }
figcaption a { color: var(--accent); text-decoration: none; }
img.pixelated { image-rendering: pixelated; }
.prediction h4, .facts h4 { margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: 600; }
table { border-collapse: collapse; font-size: 13px; }
table.top td { padding: 2px 8px 2px 0; vertical-align: middle; }
table.top td.name { max-width: 220px; overflow-wrap: anywhere; }
table.top tr.best td.name { font-weight: 600; }
.bar { width: 140px; height: 10px; background: #e6eaef; border-radius: 5px; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--accent); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.legend { list-style: none; margin: 8px 0 0; padding: 0; font-size: 13px; display: grid;
            grid-template-columns: repeat(2, max-content); gap: 2px 18px; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid rgba(0,0,0,.35); border-radius: 2px;
          flex: none; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 10px; margin: 0; font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.methods { display: flex; flex-wrap: wrap; gap: 14px; }
.method { border: 1px solid var(--line); border-radius: 6px; padding: 12px; background: #fbfcfd;
          width: min-content; min-width: 300px; max-width: 100%; }
.method header { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; margin: 0 0 4px; }
.method .detail { color: var(--muted); font-size: 13px; }
.method .time { margin-left: auto; color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.method .target { margin: 0 0 8px; font-size: 13px; }
.pictures { display: flex; gap: 10px; margin-bottom: 8px; overflow-x: auto; }
.tables { display: flex; flex-direction: column; align-items: flex-start; gap: 8px; }
.tables table td, .tables table th { padding: 1px 10px 1px 0; text-align: left; font-weight: normal; }
.tables table th { white-space: nowrap; }
.tables table th { color: var(--muted); }
.tables table caption { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); padding-bottom: 2px; }
.hint { color: var(--muted); font-size: 12px; }
ul.notes { margin: 8px 0 0; padding-left: 18px; font-size: 12px; color: #7a4b00; }
footer { color: var(--muted); font-size: 12px; margin-top: 8px; }
)css";

class Html {
public:
    Html& raw(const std::string& s) {
        out_ += s;
        return *this;
    }
    Html& text(const std::string& s) {
        out_ += html_escape(s);
        return *this;
    }
    std::string str() const { return out_; }

private:
    std::string out_;
};

std::string hex_color(data::Rgb c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

void picture(Html& h, const ReportPicture& p) {
    int64_t width = p.display_width;
    if (width <= 0) {
        width = p.width;
        if (width > 0 && width < 140) width *= (140 + width - 1) / width;  // small maps: integer upscaling
    }
    const bool pixelated = p.width > 0 && width >= 2 * p.width;
    h.raw("<figure><img");
    if (pixelated) h.raw(" class=\"pixelated\"");
    h.raw(" alt=\"").text(p.caption).raw("\"");
    if (width > 0) {
        h.raw(" width=\"" + std::to_string(width) + "\"");
        if (p.height > 0 && p.width > 0) h.raw(" height=\"" + std::to_string(width * p.height / p.width) + "\"");
    }
    h.raw(" src=\"data:image/png;base64,").raw(base64_encode(p.png)).raw("\"><figcaption>");
    if (!p.file.empty())
        h.raw("<a href=\"").text(p.file).raw("\">").text(p.caption.empty() ? p.file : p.caption).raw("</a>");
    else
        h.text(p.caption);
    h.raw("</figcaption></figure>");
}

void pairs_table(Html& h, const std::string& caption, const std::vector<std::pair<std::string, std::string>>& rows) {
    if (rows.empty()) return;
    h.raw("<table><caption>").text(caption).raw("</caption>");
    for (const auto& [k, v] : rows) h.raw("<tr><th>").text(k).raw("</th><td>").text(v).raw("</td></tr>");
    h.raw("</table>");
}

void notes(Html& h, const std::vector<std::string>& items) {
    if (items.empty()) return;
    h.raw("<ul class=\"notes\">");
    for (const std::string& n : items) h.raw("<li>").text(n).raw("</li>");
    h.raw("</ul>");
}

void method(Html& h, const ReportMethod& m) {
    h.raw("<article class=\"method\"><header><h3>").text(m.name).raw("</h3>");
    if (!m.detail.empty()) h.raw("<span class=\"detail\">").text(m.detail).raw("</span>");
    h.raw("<span class=\"time\">").text(format_seconds(m.seconds)).raw("</span></header>");
    if (!m.target.empty()) h.raw("<p class=\"target\">target: ").text(m.target).raw("</p>");
    if (!m.pictures.empty()) {
        h.raw("<div class=\"pictures\">");
        for (const ReportPicture& p : m.pictures) picture(h, p);
        h.raw("</div>");
    }
    h.raw("<div class=\"tables\">");
    if (!m.metrics.empty()) {
        h.raw("<table class=\"metrics\"><caption>fidelity</caption>");
        for (const ReportMetric& metric : m.metrics) {
            h.raw("<tr><th>").text(metric.name).raw("</th><td class=\"num\">").text(format_value(metric.value));
            h.raw("</td><td class=\"hint\">").text(metric.hint).raw("</td></tr>");
        }
        h.raw("</table>");
    }
    pairs_table(h, "parameters", m.parameters);
    h.raw("</div>");
    notes(h, m.notes);
    h.raw("</article>");
}

void prediction(Html& h, const ReportEntry& e) {
    h.raw("<div class=\"prediction\">");
    if (e.segmentation) {
        h.raw("<h4>predicted segmentation</h4>");
        if (e.segmentation_map) picture(h, *e.segmentation_map);
        if (!e.legend.empty()) {
            h.raw("<ul class=\"legend\">");
            for (const ReportLegendEntry& l : e.legend) {
                h.raw("<li><span class=\"swatch\" style=\"background:").raw(hex_color(l.color)).raw("\"></span>");
                h.text(l.name).raw(" <span class=\"hint\">").text(format_value(100.0 * l.fraction, 3) + "%");
                h.raw("</span></li>");
            }
            h.raw("</ul>");
        }
    } else if (!e.top.empty()) {
        h.raw("<h4>prediction</h4><table class=\"top\">");
        bool first = true;
        for (const ReportClassScore& s : e.top) {
            const double pct = std::clamp(s.probability, 0.0, 1.0) * 100.0;
            h.raw(first ? "<tr class=\"best\">" : "<tr>");
            h.raw("<td class=\"name\">").text(s.name).raw("</td>");
            h.raw("<td><div class=\"bar\"><span style=\"width:")
                .raw(format_value(pct, 4))
                .raw("%\"></span></div></td>");
            h.raw("<td class=\"num\">").text(format_value(pct, 3) + "%").raw("</td>");
            h.raw("<td class=\"num hint\">logit ").text(format_value(s.logit, 4)).raw("</td></tr>");
            first = false;
        }
        h.raw("</table>");
    }
    h.raw("</div>");
}

}  // namespace

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string base64_encode(const std::string& bytes) {
    static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                           uint32_t(uint8_t(bytes[i + 2]));
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string format_value(double value, int digits) {
    if (std::isnan(value)) return "n/a";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", std::max(1, digits), value);
    return buf;
}

std::string format_seconds(double seconds) {
    char buf[64];
    if (!std::isfinite(seconds) || seconds < 0) return "n/a";
    if (seconds < 1.0)
        std::snprintf(buf, sizeof buf, "%.1f ms", seconds * 1000.0);
    else if (seconds < 60.0)
        std::snprintf(buf, sizeof buf, "%.2f s", seconds);
    else
        std::snprintf(buf, sizeof buf, "%d min %d s", static_cast<int>(seconds / 60),
                      static_cast<int>(std::fmod(seconds, 60.0)));
    return buf;
}

ReportPicture make_picture(const data::Image& image, const std::string& caption, const std::string& file) {
    ReportPicture p;
    p.caption = caption;
    p.file = file;
    p.png = data::encode_png(image);
    p.width = image.width;
    p.height = image.height;
    return p;
}

std::string render_html(const Report& report) {
    Html h;
    h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>").text(report.title);
    h.raw("</title>\n<style>")
        .raw(kCss)
        .raw("</style>\n</head>\n<body>\n<header>\n<h1>")
        .text(report.title)
        .raw("</h1>\n");
    if (!report.summary.empty()) {
        h.raw("<dl class=\"summary\">");
        for (const auto& [k, v] : report.summary) h.raw("<dt>").text(k).raw("</dt><dd>").text(v).raw("</dd>");
        h.raw("</dl>\n");
    }
    if (!report.class_names.empty()) {
        h.raw("<p class=\"hint\">classes: ");
        for (size_t c = 0; c < report.class_names.size(); ++c)
            h.raw(c ? " &middot; " : "").text(std::to_string(c) + " " + report.class_names[c]);
        h.raw("</p>\n");
    }
    notes(h, report.notes);
    h.raw("</header>\n<main>\n");
    for (size_t i = 0; i < report.entries.size(); ++i) {
        const ReportEntry& e = report.entries[i];
        h.raw("<section class=\"card\" id=\"input-" + std::to_string(i) + "\">\n<h2>").text(e.name).raw("</h2>\n");
        h.raw("<div class=\"input-row\">");
        picture(h, e.image);
        prediction(h, e);
        if (!e.facts.empty()) {
            h.raw("<div class=\"facts\"><h4>input</h4><dl class=\"facts\">");
            for (const auto& [k, v] : e.facts) h.raw("<dt>").text(k).raw("</dt><dd>").text(v).raw("</dd>");
            h.raw("</dl></div>");
        }
        h.raw("</div>\n");
        notes(h, e.notes);
        h.raw("<div class=\"methods\">\n");
        for (const ReportMethod& m : e.methods) {
            method(h, m);
            h.raw("\n");
        }
        h.raw("</div>\n</section>\n");
    }
    h.raw("</main>\n");
    if (!report.footer.empty()) h.raw("<footer>").text(report.footer).raw("</footer>\n");
    h.raw("</body>\n</html>\n");
    return h.str();
}

void write_report(const std::string& path, const Report& report) {
    safetensors::write_file_atomically(path, render_html(report));
}

}  // namespace engine::explain::render
