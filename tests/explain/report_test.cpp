// Tests of the explain HTML report (apps/explain/render/report): escaping, base64, a well-formed self-contained
// page holding every method, and how it looks in headless Chromium.
#include "apps/explain/render/report.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "models/data/image.h"
#include "tests/common/test_util.h"

namespace engine::explain::render {
namespace {

namespace fs = std::filesystem;

data::Image solid(int64_t h, int64_t w, data::Rgb c) {
    data::Image image(h, w, 3);
    for (int64_t i = 0; i < h * w; ++i) {
        image.pixels[3 * i] = c.r;
        image.pixels[3 * i + 1] = c.g;
        image.pixels[3 * i + 2] = c.b;
    }
    return image;
}

std::string base64_decode(const std::string& text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        const int v = value(c);
        if (v < 0) continue;
        buffer = (buffer << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

// Every element closed in order (void elements excepted), the <style> body skipped. Returns "" or the problem.
std::string tag_problem(const std::string& html) {
    static const std::set<std::string> kVoid = {"meta", "img", "br", "hr", "link", "input", "col", "source"};
    std::vector<std::string> stack;
    size_t i = 0;
    while ((i = html.find('<', i)) != std::string::npos) {
        if (html.compare(i, 2, "<!") == 0) {
            i = html.find('>', i);
            continue;
        }
        const size_t end = html.find('>', i);
        if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
        const bool closing = html[i + 1] == '/';
        size_t name_start = i + (closing ? 2 : 1), name_end = name_start;
        while (name_end < end && std::isalnum(static_cast<unsigned char>(html[name_end]))) ++name_end;
        const std::string name = html.substr(name_start, name_end - name_start);
        if (name.empty()) return "empty tag name at " + std::to_string(i);
        const std::string inside = html.substr(i, end - i);
        if (inside.find('<', 1) != std::string::npos) return "'<' inside tag at " + std::to_string(i);
        if (closing) {
            if (stack.empty() || stack.back() != name)
                return "</" + name + "> closes <" + (stack.empty() ? std::string("nothing") : stack.back()) + ">";
            stack.pop_back();
        } else if (!kVoid.count(name)) {
            stack.push_back(name);
            if (name == "style") {
                const size_t close = html.find("</style>", end);
                if (close == std::string::npos) return "unclosed <style>";
                i = close;
                continue;
            }
        }
        i = end + 1;
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    return "";
}

size_t count(const std::string& haystack, const std::string& needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}

// A report with a classifier card (two methods, every field filled) and a segmentation card.
Report sample_report() {
    Report r;
    r.title = "explain: lenet <test> & co";
    r.summary = {{"model", "lenet (0.044M parameters)"}, {"weights", "/tmp/\"quoted\"/w.safetensors"}};
    r.class_names = {"T-shirt/top", "<script>alert(1)</script>", "Bag"};
    r.notes = {"a run-level note"};
    ReportEntry e;
    e.name = "0-dress.png";
    e.facts = {{"file size", "28x28x1"}, {"label", "class 1 (<script>)"}};
    e.image = make_picture(solid(28, 28, {90, 90, 90}), "input", "0-dress_input.png");
    e.top = {{1, "<script>alert(1)</script>", 0.875, 4.2}, {0, "T-shirt/top", 0.1, 2.1}, {2, "Bag", 0.025, 0.7}};
    ReportMethod gradcam;
    gradcam.name = "Grad-CAM";
    gradcam.detail = "layer conv.3";
    gradcam.target = "class 1, p = 0.875";
    gradcam.seconds = 0.0123;
    gradcam.parameters = {{"relu", "off"}, {"upsampling", "bilinear"}};
    gradcam.pictures = {make_picture(solid(32, 32, {255, 0, 255}), "map (all)", "0_c1_gradcam_map.png"),
                        make_picture(solid(32, 32, {0, 200, 200}), "overlay", "0_c1_gradcam_overlay.png")};
    gradcam.metrics = {{"deletion AUC", 0.21, "lower is better"}, {"insertion AUC", NAN, "higher is better"}};
    gradcam.notes = {"note with <angle> & ampersand"};
    ReportMethod ig;
    ig.name = "Integrated Gradients";
    ig.target = "class 1";
    ig.seconds = 2.5;
    ig.pictures = {make_picture(solid(28, 28, {255, 128, 0}), "map (all)")};
    ig.metrics = {{"completeness gap", -1.5e-4, "near 0"}};
    e.methods = {gradcam, ig};
    r.entries.push_back(e);

    ReportEntry s;
    s.name = "1-street.png";
    s.segmentation = true;
    s.image = make_picture(solid(64, 64, {120, 120, 120}), "input");
    s.segmentation_map = make_picture(solid(64, 64, {128, 64, 128}), "prediction");
    s.legend = {{"road", {128, 64, 128}, 0.75}, {"car", {0, 0, 142}, 0.25}};
    ReportMethod ablation;
    ablation.name = "Feature Ablation";
    ablation.pictures = {make_picture(solid(64, 64, {20, 20, 220}), "map")};
    s.methods = {ablation};
    r.entries.push_back(s);
    r.footer = "footer <b>text</b>";
    return r;
}

TEST(ReportTest, Base64AndEscaping) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
    EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    EXPECT_EQ(format_value(NAN), "n/a");
    EXPECT_EQ(format_value(0.123456), "0.1235");
    EXPECT_EQ(format_seconds(0.0123), "12.3 ms");
    EXPECT_EQ(format_seconds(2.5), "2.50 s");
    EXPECT_EQ(format_seconds(125), "2 min 5 s");
}

TEST(ReportTest, WellFormedSelfContainedAndEscaped) {
    const Report r = sample_report();
    const std::string html = render_html(r);
    EXPECT_EQ(tag_problem(html), "");
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    // Self-contained: no script, no external resource.
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("url("), std::string::npos);
    // Text is escaped wherever it appears.
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("lenet &lt;test&gt; &amp; co"), std::string::npos);
    EXPECT_NE(html.find("/tmp/&quot;quoted&quot;/w.safetensors"), std::string::npos);
    EXPECT_NE(html.find("note with &lt;angle&gt; &amp; ampersand"), std::string::npos);
    EXPECT_NE(html.find("footer &lt;b&gt;text&lt;/b&gt;"), std::string::npos);
    // Every method, metric and picture is there; every picture is an embedded PNG that decodes to our bytes.
    for (const char* text :
         {"Grad-CAM", "Integrated Gradients", "Feature Ablation", "deletion AUC", "n/a", "completeness gap", "-0.00015",
          "layer conv.3", "12.3 ms", "87.5%", "road", "75%", "#804080", "0-dress_input.png", "T-shirt/top"})
        EXPECT_NE(html.find(text), std::string::npos) << text;
    EXPECT_EQ(count(html, "<img"), 7u);  // input, 2 Grad-CAM, 1 IG; input, segmentation, 1 ablation
    EXPECT_EQ(count(html, "src=\"data:image/png;base64,"), 7u);
    const size_t at = html.find("src=\"data:image/png;base64,") + 27;
    const std::string png = base64_decode(html.substr(at, html.find('"', at) - at));
    EXPECT_EQ(png, r.entries[0].image.png);
    const data::Image decoded = data::decode_image(png, "report picture");
    EXPECT_EQ(decoded.width, 28);
    // Small pictures are enlarged for display with crisp pixels.
    EXPECT_NE(html.find("class=\"pixelated\""), std::string::npos);
    EXPECT_NE(html.find("width=\"140\""), std::string::npos);  // 28 px x 5
}

TEST(ReportTest, WriteReportIsAtomicAndComplete) {
    const fs::path dir = fs::temp_directory_path() / ("explain_report_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "report.html").string();
    write_report(path, sample_report());
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, render_html(sample_report()));
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    fs::remove_all(dir);
}

// ---------------------------------------------------------------- Chromium

std::string find_chromium() {
    if (const char* env = std::getenv("CHROMIUM")) return env;
    for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
        if (fs::exists(candidate)) return candidate;
    return "";
}

// The report rendered by headless Chromium at 1200x900 (empty when Chromium is missing: the caller skips).
data::Image screenshot(const Report& report, const std::string& name) {
    const std::string chromium = find_chromium();
    if (chromium.empty()) return {};
    const fs::path dir = fs::temp_directory_path() / ("explain_chromium_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir / "profile");
    const fs::path html = dir / "report.html", shot = dir / "shot.png";
    write_report(html.string(), report);
    const std::string command = "timeout 120 '" + chromium + "' --headless --no-sandbox --disable-gpu " +
                                "--hide-scrollbars --force-device-scale-factor=1 --user-data-dir='" +
                                (dir / "profile").string() + "' --screenshot='" + shot.string() +
                                "' --window-size=1200,900 'file://" + html.string() + "' > '" +
                                (dir / "chromium.log").string() + "' 2>&1";
    const int status = std::system(command.c_str());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\nstatus " << status;
    EXPECT_TRUE(fs::exists(shot)) << "no screenshot; see " << (dir / "chromium.log");
    if (!fs::exists(shot)) return {};
    data::Image image = data::read_image(shot.string(), 3);
    if (std::getenv("EXPLAIN_KEEP_SCREENSHOT"))
        std::printf("screenshot kept: %s\n", shot.c_str());
    else
        fs::remove_all(dir);
    return image;
}

int64_t count_color(const data::Image& image, data::Rgb c) {
    int64_t n = 0;
    for (int64_t i = 0; i < image.height * image.width; ++i) {
        const uint8_t* p = image.pixels.data() + 3 * i;
        n += p[0] == c.r && p[1] == c.g && p[2] == c.b;
    }
    return n;
}

size_t distinct_colors(const data::Image& image) {
    std::set<uint32_t> colours;
    for (int64_t i = 0; i < image.height * image.width; ++i) {
        const uint8_t* p = image.pixels.data() + 3 * i;
        colours.insert((uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2]);
    }
    return colours.size();
}

TEST(ReportChromiumTest, ClassifierCardShowsEveryPicture) {
    if (find_chromium().empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium): not rendered";
    const data::Image image = screenshot(sample_report(), "classifier");
    ASSERT_FALSE(image.empty());
    EXPECT_EQ(image.width, 1200);
    EXPECT_EQ(image.height, 900);
    // Not blank, and the sample pictures' colour blocks at their display size (32 px shown at 160, 28 at 140).
    EXPECT_GT(distinct_colors(image), 20u);
    EXPECT_GE(count_color(image, {255, 0, 255}), 150 * 150) << "the Grad-CAM map is missing";
    EXPECT_GE(count_color(image, {0, 200, 200}), 150 * 150) << "the Grad-CAM overlay is missing";
    EXPECT_GE(count_color(image, {255, 128, 0}), 130 * 130) << "the IG map is missing";
    EXPECT_GE(count_color(image, {90, 90, 90}), 130 * 130) << "the input picture is missing";
    EXPECT_GT(count_color(image, {0xf3, 0xf5, 0xf7}), 1200 * 10) << "the page background is missing";
    EXPECT_GT(count_color(image, {0x0b, 0x5c, 0xad}), 100) << "the probability bars are missing";
}

TEST(ReportChromiumTest, SegmentationCardShowsMapAndLegend) {
    if (find_chromium().empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium): not rendered";
    Report r = sample_report();
    r.entries.erase(r.entries.begin());
    const data::Image image = screenshot(r, "segmentation");
    ASSERT_FALSE(image.empty());
    // The 64-px map shown at 192 px, the legend swatches (12x12 inside their border) and the ablation map.
    EXPECT_GE(count_color(image, {128, 64, 128}), 180 * 180) << "the segmentation map is missing";
    EXPECT_GE(count_color(image, {0, 0, 142}), 100) << "the car swatch is missing";
    EXPECT_GE(count_color(image, {20, 20, 220}), 180 * 180) << "the ablation map is missing";
}

}  // namespace
}  // namespace engine::explain::render
