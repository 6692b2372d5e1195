// Palettes and the nearest-colour ColorMapper (its lookup cube against the exact rule and a brute force).
#include "models/data/palette.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"

namespace engine::data {
namespace {

// Nearest palette colour (first on ties), or ignore when it is farther than max_distance.
int64_t brute_force(const std::vector<PaletteEntry>& palette, Rgb c, double max_distance, int64_t ignore) {
    double best = INFINITY;
    int64_t id = ignore;
    for (const PaletteEntry& e : palette) {
        const double d =
            std::sqrt(std::pow(c.r - e.color.r, 2) + std::pow(c.g - e.color.g, 2) + std::pow(c.b - e.color.b, 2));
        if (d < best) {
            best = d;
            id = e.class_id;
        }
    }
    return best <= max_distance ? id : ignore;
}

TEST(ColorMapperTest, CubeAgreesWithTheExactRule) {
    std::vector<PaletteEntry> noisy = cityscapes_label_palette(CityscapesClasses::TrainIds);
    noisy.push_back({{128, 64, 128}, 3});  // a repeated colour: the first entry keeps it
    noisy.push_back({{129, 64, 128}, 4});  // a near-duplicate: a boundary right through one cube cell
    struct Case {
        std::vector<PaletteEntry> palette;
        double max_distance;
    };
    std::vector<PaletteEntry> voc;
    const std::vector<Rgb> colors = voc_colors(21);
    for (size_t i = 0; i < colors.size(); ++i) voc.push_back({colors[i], static_cast<int64_t>(i)});
    const Case cases[] = {{cityscapes_label_palette(CityscapesClasses::Categories), 40},
                          {cityscapes_label_palette(CityscapesClasses::CategoriesNoVoid), 10},
                          {noisy, 25},
                          {voc, 0},
                          {voc, 1000}};
    uint64_t state = 7;
    for (const Case& k : cases) {
        const ColorMapper mapper(k.palette, k.max_distance, 255);
        for (int i = 0; i < 100000; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            Rgb c{static_cast<uint8_t>(state >> 40), static_cast<uint8_t>(state >> 48),
                  static_cast<uint8_t>(state >> 56)};
            if (i % 2 == 0) {  // half of them near a palette colour, where the boundaries are
                const Rgb base = k.palette[static_cast<size_t>(state >> 20) % k.palette.size()].color;
                auto jitter = [&](uint8_t v, int shift) {
                    return static_cast<uint8_t>(
                        std::clamp<int>(v + static_cast<int>((state >> shift) % 61) - 30, 0, 255));
                };
                c = {jitter(base.r, 8), jitter(base.g, 14), jitter(base.b, 26)};
            }
            const int64_t want = brute_force(k.palette, c, k.max_distance, 255);
            ASSERT_EQ(mapper.map_exact(c), want) << int(c.r) << "," << int(c.g) << "," << int(c.b);
            ASSERT_EQ(mapper.map(c), want) << int(c.r) << "," << int(c.g) << "," << int(c.b);
        }
    }
}

TEST(ColorMapperTest, NoisyLabelColours) {
    const ColorMapper mapper(cityscapes_label_palette(CityscapesClasses::Categories), 40, 255);
    EXPECT_EQ(mapper.map({128, 64, 128}), 1);     // road: flat
    EXPECT_EQ(mapper.map({128, 63, 127}), 1);     // road as the JPEGs store it
    EXPECT_EQ(mapper.map({0, 0, 150}), 7);        // near car: vehicle
    EXPECT_EQ(mapper.map({3, 2, 1}), 0);          // near black: void
    EXPECT_EQ(mapper.map({255, 255, 255}), 255);  // far from every label colour
    Image image(1, 3, 3);
    image.pixels = {70, 130, 180, 107, 142, 35, 255, 255, 255};
    EXPECT_EQ(mapper.map_image(image).to_vector<int64_t>(), (std::vector<int64_t>{5, 4, 255}));
    EXPECT_EQ(mapper.map_region(image, 0, 1, 1, 1).to_vector<int64_t>(), (std::vector<int64_t>{4}));
    EXPECT_ENGINE_ERROR(mapper.map_region(image, 0, 2, 1, 2), "outside a 1x3 image");
    EXPECT_ENGINE_ERROR(ColorMapper({}, 10), "empty palette");
}

TEST(PaletteTest, CityscapesClassSets) {
    const std::vector<std::string> cats = cityscapes_class_names(CityscapesClasses::Categories);
    ASSERT_EQ(cats.size(), 8u);
    EXPECT_EQ(cats[0], "void");
    EXPECT_EQ(cats[7], "vehicle");
    EXPECT_EQ(cityscapes_class_names(CityscapesClasses::CategoriesNoVoid).front(), "flat");
    const std::vector<std::string> train = cityscapes_class_names(CityscapesClasses::TrainIds);
    ASSERT_EQ(train.size(), 19u);
    EXPECT_EQ(train[0], "road");
    EXPECT_EQ(train[10], "sky");
    EXPECT_EQ(train[18], "bicycle");
    EXPECT_EQ(cityscapes_class_colors(CityscapesClasses::TrainIds)[13], (Rgb{0, 0, 142}));
    EXPECT_EQ(cityscapes_class_colors(CityscapesClasses::Categories).size(), 8u);
    for (CityscapesClasses set :
         {CityscapesClasses::Categories, CityscapesClasses::CategoriesNoVoid, CityscapesClasses::TrainIds}) {
        const auto n = static_cast<int64_t>(cityscapes_class_names(set).size());
        std::vector<int> seen(static_cast<size_t>(n), 0);
        for (const PaletteEntry& e : cityscapes_label_palette(set, 255)) {
            ASSERT_TRUE(e.class_id == 255 || (e.class_id >= 0 && e.class_id < n));
            if (e.class_id != 255) seen[static_cast<size_t>(e.class_id)] = 1;
        }
        for (int s : seen) EXPECT_EQ(s, 1);  // every class has a colour
    }
    // Parking is flat in the categories and ignored by the training ids.
    for (const PaletteEntry& e : cityscapes_label_palette(CityscapesClasses::TrainIds, 255)) {
        if (e.color == Rgb{250, 170, 160}) {
            EXPECT_EQ(e.class_id, 255);
        }
    }
}

TEST(PaletteTest, DisplayPalettes) {
    const std::vector<Rgb> voc = voc_colors();
    ASSERT_EQ(voc.size(), 256u);
    EXPECT_EQ(voc[0], (Rgb{0, 0, 0}));
    EXPECT_EQ(voc[1], (Rgb{128, 0, 0}));
    EXPECT_EQ(voc[2], (Rgb{0, 128, 0}));
    EXPECT_EQ(voc[3], (Rgb{128, 128, 0}));
    EXPECT_EQ(voc[15], (Rgb{192, 128, 128}));   // person
    EXPECT_EQ(voc[255], (Rgb{224, 224, 192}));  // the boundary colour
    const std::vector<Rgb> gray = gray_colors(2);
    EXPECT_EQ(gray[0], (Rgb{0, 0, 0}));
    EXPECT_EQ(gray[1], (Rgb{255, 255, 255}));
    EXPECT_EQ(gray_colors(3)[1], (Rgb{128, 128, 128}));
    EXPECT_EQ(series_colors().size(), 10u);
}

}  // namespace
}  // namespace engine::data
