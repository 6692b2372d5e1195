// The data sets the apps train on: IDX (synthetic files, and Fashion-MNIST when installed), the ISBI
// membranes and Cityscapes pairs from ../shared/data (skipped when absent; never copied), and synthetic
// composites in the exact Cityscapes-pairs format.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <set>

#include "common/test_util.h"
#include "datasets/data_test_util.h"
#include "models/data/datasets.h"

namespace engine::data {
namespace {

using test::TempDir;

const std::string kIsbi = std::string(ENGINE_SHARED_DATA_DIR) + "/isbi2012-membrane";
const std::string kCityscapesVal = std::string(ENGINE_SHARED_DATA_DIR) + "/cityscapes-pairs/val";
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

std::string idx_file(uint8_t dims, const std::vector<uint32_t>& sizes, const std::vector<uint8_t>& data) {
    std::string s = {'\0', '\0', '\x08', static_cast<char>(dims)};
    for (uint32_t v : sizes)
        for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
    s.append(data.begin(), data.end());
    return s;
}

TEST(IdxDatasetTest, SyntheticFiles) {
    TempDir dir;
    std::vector<uint8_t> pixels(3 * 2 * 4);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 10);
    test::write_bytes(dir.file("images"), idx_file(3, {3, 2, 4}, pixels));
    test::write_bytes(dir.file("labels"), idx_file(1, {3}, {2, 0, 9}));
    const IdxDataset set(dir.file("images"), dir.file("labels"));
    ASSERT_EQ(set.size(), 3);
    EXPECT_EQ(set.num_classes(), 10);
    const Sample s = set.get(1);
    EXPECT_EQ(s.image.shape(), (Shape{1, 2, 4}));
    EXPECT_FLOAT_EQ(s.image.to_vector<float>()[3], 110.0f / 255.0f);
    EXPECT_EQ(s.target.dim(), 0);
    EXPECT_EQ(s.target.item<int64_t>(), 0);
    EXPECT_NE(set.source(2).find("images[2]"), std::string::npos);
    EXPECT_ENGINE_ERROR(IdxDataset(dir.file("images"), dir.file("labels"), {"a", "b", "c"}),
                        "label 9 at 2 outside the class range [0, 3)");
    test::write_bytes(dir.file("labels2"), idx_file(1, {2}, {1, 1}));
    EXPECT_ENGINE_ERROR(IdxDataset(dir.file("images"), dir.file("labels2")), "holds 3 images but");
    EXPECT_ENGINE_ERROR(fashion_mnist(dir.path() + "/none", true), "none: no such folder");
}

TEST(IdxDatasetTest, FashionMnistWhenInstalled) {
    if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << kFashion << " not installed";
    const auto test_set = fashion_mnist(kFashion, false);
    ASSERT_EQ(test_set->size(), 10000);
    EXPECT_EQ(test_set->class_names().size(), 10u);
    EXPECT_EQ(test_set->class_names()[9], "Ankle boot");
    const Sample s = test_set->get(123);
    EXPECT_EQ(s.image.shape(), (Shape{1, 28, 28}));
    const std::vector<uint8_t> raw = test_set->images().select(0, 123).flatten().to_vector<uint8_t>();
    const std::vector<float> v = s.image.to_vector<float>();
    for (size_t i = 0; i < raw.size(); ++i) ASSERT_FLOAT_EQ(v[i], raw[i] / 255.0f);
    EXPECT_EQ(s.target.item<int64_t>(), test_set->labels().to_vector<int64_t>()[123]);
    EXPECT_EQ(fashion_mnist(kFashion, true)->size(), 60000);
}

TEST(IsbiTest, MembranesFromSharedData) {
    if (!std::filesystem::exists(kIsbi)) GTEST_SKIP() << kIsbi << " absent";
    const auto train = isbi_membranes(kIsbi, parse_index_ranges("0-24", 30));
    const auto val = isbi_membranes(kIsbi, parse_index_ranges("25-29", 30), false);
    ASSERT_EQ(train->size(), 25);
    ASSERT_EQ(val->size(), 5);
    EXPECT_EQ(train->class_names(), (std::vector<std::string>{"cell", "membrane"}));
    EXPECT_NE(train->source(10).find("image/10.png"), std::string::npos);  // numeric, not "1, 10, 11"
    EXPECT_NE(val->source(0).find("image/25.png"), std::string::npos);
    double membrane = 0, total = 0;
    for (int64_t i : {0, 7, 24}) {
        const Sample s = train->get(i);
        ASSERT_EQ(s.image.shape(), (Shape{1, 512, 512}));
        ASSERT_EQ(s.target.shape(), (Shape{512, 512}));
        const std::vector<int64_t> t = s.target.to_vector<int64_t>();
        const Image raw = read_image(kIsbi + "/label/" + std::to_string(i) + ".png");
        for (size_t k = 0; k < t.size(); ++k) {
            ASSERT_TRUE(t[k] == 0 || t[k] == 1);
            ASSERT_EQ(t[k], raw.pixels[k] == 0 ? kIsbiMembraneClass : 0);  // 0 = membrane, 255 = cell
            membrane += static_cast<double>(t[k] == kIsbiMembraneClass);
        }
        total += static_cast<double>(t.size());
        const std::vector<float> pixels = s.image.to_vector<float>();
        EXPECT_GE(*std::min_element(pixels.begin(), pixels.end()), 0.0f);
        EXPECT_LE(*std::max_element(pixels.begin(), pixels.end()), 1.0f);
    }
    EXPECT_NEAR(membrane / total, 0.22, 0.05);
    EXPECT_TRUE(test::all_close(val->get(0).target, isbi_membranes(kIsbi, {25}, false)->get(0).target, 0, 0));
}

// One composite in the Kaggle format: photo on the left, label colours on the right; `painted` receives the
// class each label pixel was painted with (as Cityscapes category ids).
struct Region {
    int64_t top, left, height, width;
    Rgb color;
    int64_t category, train_id;
};
const std::vector<Region> kRegions = {
    {0, 0, 64, 256, {70, 130, 180}, 5, 10},    // sky
    {64, 0, 64, 256, {70, 70, 70}, 2, 2},      // building
    {128, 0, 32, 256, {107, 142, 35}, 4, 8},   // vegetation
    {160, 0, 96, 256, {128, 64, 128}, 1, 0},   // road
    {170, 40, 50, 80, {0, 0, 142}, 7, 13},     // car
    {150, 180, 80, 20, {220, 20, 60}, 6, 11},  // person
    {236, 0, 20, 256, {0, 0, 0}, 0, 255},      // ego vehicle (void)
};
Image composite(std::vector<int64_t>& categories, std::vector<int64_t>& train_ids) {
    Image image = test::smooth_image(256, 512, 3);
    categories.assign(256 * 256, -1);
    train_ids.assign(256 * 256, -1);
    for (const Region& r : kRegions)
        for (int64_t y = r.top; y < r.top + r.height; ++y)
            for (int64_t x = r.left; x < r.left + r.width; ++x) {
                uint8_t* p = image.pixel(y, 256 + x);
                p[0] = r.color.r, p[1] = r.color.g, p[2] = r.color.b;
                categories[static_cast<size_t>(y * 256 + x)] = r.category;
                train_ids[static_cast<size_t>(y * 256 + x)] = r.train_id;
            }
    return image;
}

double agreement(const Tensor& mask, const std::vector<int64_t>& painted) {
    const std::vector<int64_t> m = mask.to_vector<int64_t>();
    int64_t same = 0;
    for (size_t i = 0; i < m.size(); ++i) same += m[i] == painted[i];
    return static_cast<double>(same) / static_cast<double>(m.size());
}

TEST(CityscapesPairsTest, SyntheticCompositesSplitAndMap) {
    TempDir dir;
    std::vector<int64_t> categories, train_ids;
    const Image image = composite(categories, train_ids);
    for (const char* name : {"1.jpg", "2.jpg", "10.jpg"})
        test::write_bytes(dir.file(name), test::jpeg_bytes(image, 75));
    const CityscapesPairs set(dir.path());
    ASSERT_EQ(set.size(), 3);
    EXPECT_EQ(set.num_classes(), 8);
    EXPECT_EQ(set.ignore_index(), 255);
    EXPECT_NE(set.source(2).find("10.jpg"), std::string::npos);
    const Sample s = set.get(0);
    ASSERT_EQ(s.image.shape(), (Shape{3, 256, 256}));
    ASSERT_EQ(s.target.shape(), (Shape{256, 256}));
    EXPECT_GT(agreement(s.target, categories), 0.95);
    // The photo is the left half of the decoded file.
    const Image decoded = read_image(set.source(0), 3);
    const std::vector<float> photo = s.image.to_vector<float>();
    for (int64_t y : {0, 100, 255})
        for (int64_t x : {0, 128, 255})
            for (int64_t c = 0; c < 3; ++c)
                EXPECT_FLOAT_EQ(photo[static_cast<size_t>((c * 256 + y) * 256 + x)], decoded.pixel(y, x)[c] / 255.0f);

    CityscapesPairsOptions options;
    options.classes = CityscapesClasses::TrainIds;
    options.indices = {1};
    options.preload = true;
    const CityscapesPairs train(dir.path(), options);
    ASSERT_EQ(train.size(), 1);
    EXPECT_EQ(train.num_classes(), 19);
    EXPECT_GT(agreement(train.get(0).target, train_ids), 0.95);

    // A class set of one's own: road and car, everything else ignored.
    CityscapesPairsOptions custom;
    custom.palette = {{{128, 64, 128}, 0}, {{0, 0, 142}, 1}, {{70, 130, 180}, 255}};
    custom.class_names = {"road", "car"};
    custom.max_color_distance = 60;
    const Tensor two = CityscapesPairs(dir.path(), custom).get(0).target;
    std::vector<int64_t> painted(categories.size());
    for (size_t i = 0; i < painted.size(); ++i) painted[i] = categories[i] == 1 ? 0 : categories[i] == 7 ? 1 : 255;
    const std::vector<int64_t> got = two.to_vector<int64_t>();
    int64_t same = 0, road_or_car = 0;
    for (size_t i = 0; i < got.size(); ++i)
        if (painted[i] != 255) ++road_or_car, same += got[i] == painted[i];
    EXPECT_GT(static_cast<double>(same) / static_cast<double>(road_or_car), 0.95);
    custom.palette.push_back({{1, 2, 3}, 5});
    EXPECT_ENGINE_ERROR(CityscapesPairs(dir.path(), custom), "palette class 5 outside [0, 2)");

    test::write_bytes(dir.file("3.jpg"), test::jpeg_bytes(test::smooth_image(256, 500, 3)));
    EXPECT_ENGINE_ERROR(CityscapesPairs(dir.path()).get(2),
                        "3.jpg: expected a 512x256 (width x height) photo | label pair, got 500x256");
    TempDir empty;
    EXPECT_ENGINE_ERROR(CityscapesPairs(empty.path()), "no image files");
}

TEST(CityscapesPairsTest, GrayscaleCompositesAreRefusedNotRemapped) {
    std::vector<int64_t> categories, train_ids;
    const Image gray = convert_channels(composite(categories, train_ids), 1);
    // A one-component JPEG (made by Pillow: stb's writer always writes three components) and a gray PNG.
    const std::string gray_jpeg = read_file(std::string(ENGINE_TEST_DATA_DIR) + "/datasets/grayscale_pair.jpg");
    ASSERT_EQ(probe_image(gray_jpeg, "grayscale_pair.jpg").channels, 1);
    for (const std::string name : {"1.jpg", "1.png"}) {
        TempDir dir;
        test::write_bytes(dir.file(name), name == "1.jpg" ? gray_jpeg : encode_png(gray));
        EXPECT_ENGINE_ERROR(CityscapesPairs(dir.path()).get(0),
                            name + ": expected an RGB image, got a grayscale one (1 channel)");
    }
}

TEST(CityscapesPairsTest, RealFilesSmoke) {
    if (!std::filesystem::exists(kCityscapesVal)) GTEST_SKIP() << kCityscapesVal << " absent";
    CityscapesPairsOptions options;
    options.indices = {0, 1};
    const CityscapesPairs set(kCityscapesVal, options);
    ASSERT_EQ(set.size(), 2);
    for (int64_t i = 0; i < 2; ++i) {
        const Sample s = set.get(i);
        ASSERT_EQ(s.image.shape(), (Shape{3, 256, 256}));
        ASSERT_EQ(s.target.shape(), (Shape{256, 256}));
        const std::vector<int64_t> t = s.target.to_vector<int64_t>();
        std::set<int64_t> classes;
        int64_t ignored = 0;
        for (int64_t v : t) {
            ASSERT_TRUE(v == 255 || (v >= 0 && v < 8)) << v;
            ignored += v == 255;
            if (v != 255) classes.insert(v);
        }
        EXPECT_LT(static_cast<double>(ignored) / static_cast<double>(t.size()), 0.2) << set.source(i);
        EXPECT_GE(classes.size(), 3u) << set.source(i);
        EXPECT_TRUE(classes.count(1)) << set.source(i) << " has no road/flat";
    }
}

}  // namespace
}  // namespace engine::data
