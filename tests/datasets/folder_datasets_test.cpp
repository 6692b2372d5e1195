// Segmentation folders, image folders and multi-label CSV lists built from small synthetic files.
#include <gtest/gtest.h>
#include <zlib.h>

#include "common/test_util.h"
#include "datasets/data_test_util.h"
#include "models/data/datasets.h"

namespace engine::data {
namespace {

using test::TempDir;

Image gray_label(int64_t h, int64_t w, const std::vector<uint8_t>& values) {
    Image label(h, w, 1);
    for (size_t i = 0; i < label.pixels.size(); ++i) label.pixels[i] = values[i % values.size()];
    return label;
}

TEST(IndexRangesTest, ParsesRangesAndNamesBadSpecs) {
    EXPECT_EQ(parse_index_ranges("0-3", 30), (std::vector<int64_t>{0, 1, 2, 3}));
    EXPECT_EQ(parse_index_ranges("25-29", 30).size(), 5u);
    EXPECT_EQ(parse_index_ranges(" 5, 1-2 ,9", 10), (std::vector<int64_t>{5, 1, 2, 9}));
    EXPECT_ENGINE_ERROR(parse_index_ranges("0-30", 30), "index 30 out of range for 30");
    EXPECT_ENGINE_ERROR(parse_index_ranges("3-1", 30), "cannot read \"3-1\"");
    EXPECT_ENGINE_ERROR(parse_index_ranges("a", 30), "\"a\"");
    EXPECT_ENGINE_ERROR(parse_index_ranges("", 30), "index ranges");
    EXPECT_ENGINE_ERROR(parse_index_ranges("1,,2", 30), "cannot read");
}

TEST(IndexRangesTest, NaturalOrder) {
    std::vector<std::string> names = {"10.png", "2.png", "1.png", "b.png", "a10.png", "a9.png", "01.png", "100.png"};
    std::sort(names.begin(), names.end(), natural_less);
    EXPECT_EQ(names, (std::vector<std::string>{"1.png", "01.png", "2.png", "10.png", "100.png", "a9.png", "a10.png",
                                               "b.png"}));
    EXPECT_TRUE(is_image_file("x.JPEG"));
    EXPECT_FALSE(is_image_file("x.gif"));
}

TEST(SegmentationFolderTest, IndexedMasksInNaturalOrder) {
    TempDir dir;
    const std::vector<std::string> names = {"10.png", "1.png", "2.png"};
    for (size_t i = 0; i < names.size(); ++i) {
        test::save_png(dir.file("image/" + names[i]), test::pattern_image(6, 8, 1, static_cast<uint32_t>(i)));
        test::save_png(dir.file("label/" + names[i]), gray_label(6, 8, {0, 1, 2, 255, static_cast<uint8_t>(i)}));
    }
    SegmentationFolderOptions options;
    options.class_names = {"a", "b", "c"};
    const SegmentationFolder set(dir.path(), options);
    ASSERT_EQ(set.size(), 3);
    EXPECT_EQ(set.target_kind(), TargetKind::Mask);
    EXPECT_EQ(set.ignore_index(), 255);
    EXPECT_EQ(set.num_classes(), 3);
    EXPECT_NE(set.source(0).find("image/1.png"), std::string::npos);
    EXPECT_NE(set.source(2).find("image/10.png"), std::string::npos);
    const Sample s = set.get(2);  // 10.png, written as i = 0
    EXPECT_EQ(s.image.shape(), (Shape{1, 6, 8}));
    EXPECT_EQ(s.target.shape(), (Shape{6, 8}));
    EXPECT_EQ(s.target.dtype(), DType::Int64);
    const std::vector<int64_t> t = s.target.to_vector<int64_t>();
    EXPECT_EQ((std::vector<int64_t>(t.begin(), t.begin() + 6)), (std::vector<int64_t>{0, 1, 2, 255, 0, 0}));
    EXPECT_TRUE(test::all_close(s.image, image_to_tensor(read_image(dir.path() + "/image/10.png")), 0, 0));

    options.indices = {2, 0};
    options.preload = true;
    const SegmentationFolder picked(dir.path(), options);
    ASSERT_EQ(picked.size(), 2);
    EXPECT_TRUE(test::all_close(picked.get(0).target, s.target, 0, 0));
    options.indices = {3};
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options), "index 3 out of range for 3 images");
}

TEST(SegmentationFolderTest, BadLabelsAreNamed) {
    TempDir dir;
    test::save_png(dir.file("image/0.png"), test::pattern_image(6, 8, 1));
    test::save_png(dir.file("label/0.png"), gray_label(6, 8, {0, 1, 7}));
    SegmentationFolderOptions options;
    options.class_names = {"a", "b"};
    const SegmentationFolder set(dir.path(), options);
    const std::string message = test::error_message([&] { set.get(0); });
    EXPECT_NE(message.find("label/0.png: class id 7 at pixel 2,0 outside [0, 2)"), std::string::npos) << message;

    test::save_png(dir.file("label/0.png"), gray_label(5, 8, {0}));
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options).get(0), "label is 5x8 but its image");

    Image colour(6, 8, 3, 0);
    colour.pixels[3] = 200;
    test::save_png(dir.file("label/0.png"), colour);
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options).get(0), "MaskEncoding::Color");

    test::save_png(dir.file("image/1.png"), test::pattern_image(6, 8, 1));
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options), "image/1.png: no label");

    TempDir empty;
    test::write_bytes(empty.file("image/readme.txt"), "x");
    std::filesystem::create_directories(empty.path() + "/label");
    EXPECT_ENGINE_ERROR(SegmentationFolder(empty.path(), options), "image: no image files");
    EXPECT_ENGINE_ERROR(SegmentationFolder(empty.path() + "/nope", options), "nope: no such folder");
    options.class_names.clear();
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options), "class_names are required");
    options.class_names = {"a", "b"};
    options.ignore_index = 1;
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options), "ignore_index 1 is one of the 2 classes");
}

// A gray PNG with 16-bit samples (stb_image_write only writes 8 bits): IHDR, one zlib-compressed IDAT, IEND.
std::string png16(uint32_t width, uint32_t height, uint16_t value) {
    auto be32 = [](std::string& s, uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
    };
    auto chunk = [&](std::string& out, const std::string& type, const std::string& body) {
        be32(out, static_cast<uint32_t>(body.size()));
        const std::string typed = type + body;
        out += typed;
        be32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()), typed.size())));
    };
    std::string ihdr;
    be32(ihdr, width);
    be32(ihdr, height);
    ihdr += std::string{16, 0, 0, 0, 0};  // 16 bits, gray
    std::string raw;
    for (uint32_t y = 0; y < height; ++y) {
        raw.push_back(0);  // filter: none
        for (uint32_t x = 0; x < width; ++x)
            raw += std::string{static_cast<char>(value >> 8), static_cast<char>(value)};
    }
    std::string packed(compressBound(raw.size()), '\0');
    uLongf packed_size = packed.size();
    compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
             raw.size());
    packed.resize(packed_size);
    std::string png("\x89PNG\r\n\x1a\n", 8);
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", packed);
    chunk(png, "IEND", "");
    return png;
}

TEST(SegmentationFolderTest, SixteenBitLabelsAreRefused) {
    TempDir dir;
    test::save_png(dir.file("image/0.png"), test::pattern_image(3, 4, 1));
    test::write_bytes(dir.file("label/0.png"), png16(4, 3, 0x0102));
    const Image decoded = read_image(dir.path() + "/label/0.png");  // as an image it decodes, to 8 bits
    EXPECT_EQ(decoded.pixels, std::vector<uint8_t>(12, 1));
    EXPECT_TRUE(probe_image(png16(4, 3, 0), "x").is_16bit);
    SegmentationFolderOptions options;
    options.class_names = {"a", "b"};
    EXPECT_ENGINE_ERROR(SegmentationFolder(dir.path(), options).get(0), "label/0.png: 16-bit label");
}

TEST(SegmentationFolderTest, BinaryAndColourMasks) {
    TempDir dir;
    test::write_bytes(dir.file("image/a.jpg"), test::jpeg_bytes(test::smooth_image(4, 4, 3)));
    test::save_png(dir.file("label/a.png"), gray_label(4, 4, {0, 100, 128, 255}));  // same stem, .png
    SegmentationFolderOptions options;
    options.encoding = MaskEncoding::Binary;
    options.channels = 3;
    const SegmentationFolder plain(dir.path(), options);
    EXPECT_EQ(plain.class_names(), (std::vector<std::string>{"background", "foreground"}));
    EXPECT_EQ(plain.ignore_index(), -1);
    EXPECT_EQ(plain.get(0).image.shape(), (Shape{3, 4, 4}));
    EXPECT_EQ(plain.get(0).target.to_vector<int64_t>()[0], 0);
    EXPECT_EQ((plain.get(0).target.to_vector<int64_t>()[1]), 0);
    EXPECT_EQ((plain.get(0).target.to_vector<int64_t>()[2]), 1);
    options.invert_binary = true;
    EXPECT_EQ(SegmentationFolder(dir.path(), options).get(0).target.to_vector<int64_t>()[3], 0);

    // VOC-style colour labels: exact palette colours, the boundary colour (224,224,192) ignored.
    Image colour(2, 2, 3);
    colour.pixels = {0, 0, 0, 128, 0, 0, 0, 128, 0, 224, 224, 192};
    test::save_png(dir.file("label/a.png"), resize_nearest(colour, 4, 4));
    std::vector<PaletteEntry> palette;
    const std::vector<Rgb> voc = voc_colors(3);
    for (size_t i = 0; i < voc.size(); ++i) palette.push_back({voc[i], static_cast<int64_t>(i)});
    options.encoding = MaskEncoding::Color;
    options.class_names = {"background", "aeroplane", "bicycle"};
    options.color_map = std::make_shared<ColorMapper>(palette, 0.0, 255);
    const Tensor mask = SegmentationFolder(dir.path(), options).get(0).target;
    EXPECT_EQ(mask.to_vector<int64_t>(),
              (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 255, 255, 2, 2, 255, 255}));
}

TEST(ImageFolderTest, ClassesFromSubfolders) {
    TempDir dir;
    test::save_png(dir.file("dog/2.png"), test::pattern_image(5, 5, 3, 1));
    test::save_png(dir.file("dog/10.png"), test::pattern_image(5, 5, 3, 2));
    test::save_png(dir.file("cat/x.png"), test::pattern_image(5, 5, 1, 3));
    test::write_bytes(dir.file("Zebra/z.jpg"), test::jpeg_bytes(test::smooth_image(5, 5, 3)));
    test::write_bytes(dir.file("notes.txt"), "not a class");
    test::write_bytes(dir.file("dog/._2.png"), "macOS resource fork");
    test::save_png(dir.file(".ipynb_checkpoints/x.png"), test::pattern_image(5, 5, 3));
    const auto set = image_folder(dir.path());
    EXPECT_EQ(set->class_names(), (std::vector<std::string>{"Zebra", "cat", "dog"}));
    ASSERT_EQ(set->size(), 4);
    EXPECT_EQ(set->target_kind(), TargetKind::Class);
    EXPECT_EQ(set->get(0).target.item<int64_t>(), 0);
    EXPECT_EQ(set->get(1).image.shape(), (Shape{3, 5, 5}));  // gray forced to RGB
    EXPECT_EQ(set->get(3).target.dim(), 0);
    EXPECT_EQ(set->get(3).target.item<int64_t>(), 2);
    EXPECT_NE(set->source(2).find("dog/2.png"), std::string::npos);  // natural order within a class
    EXPECT_EQ(image_folder(dir.path(), 1)->get(0).image.size(0), 1);
    std::filesystem::create_directories(dir.path() + "/empty");
    EXPECT_ENGINE_ERROR(image_folder(dir.path()), "empty: no image files");
    TempDir flat;
    EXPECT_ENGINE_ERROR(image_folder(flat.path()), "no class sub-folders");
    EXPECT_ENGINE_ERROR(image_folder(flat.path() + "/missing"), "missing: no such folder");
}

TEST(MultiLabelCsvTest, MultiHotTargets) {
    TempDir dir;
    for (const char* name : {"a.png", "b c.png", "d.png"})
        test::save_png(dir.file(std::string("img/") + name), test::pattern_image(4, 4, 3));
    const std::string csv = dir.file("labels.csv");
    test::write_bytes(csv, "image,labels\r\nimg/a.png,sky tree\r\n\"img/b c.png\",\"tree\"\n\nimg/d.png,\n");
    const auto set = multilabel_csv(csv);
    EXPECT_EQ(set->class_names(), (std::vector<std::string>{"sky", "tree"}));
    ASSERT_EQ(set->size(), 3);
    EXPECT_EQ(set->target_kind(), TargetKind::MultiHot);
    EXPECT_EQ(set->get(0).target.to_vector<float>(), (std::vector<float>{1, 1}));
    EXPECT_EQ(set->get(1).target.to_vector<float>(), (std::vector<float>{0, 1}));
    EXPECT_EQ(set->get(2).target.to_vector<float>(), (std::vector<float>{0, 0}));
    EXPECT_EQ(set->get(1).image.shape(), (Shape{3, 4, 4}));

    MultiLabelCsvOptions options;
    options.class_names = {"tree", "sky", "car"};
    EXPECT_EQ(multilabel_csv(csv, options)->get(0).target.to_vector<float>(), (std::vector<float>{1, 1, 0}));
    options.class_names = {"tree"};
    EXPECT_ENGINE_ERROR(multilabel_csv(csv, options), "labels.csv:2: unknown label \"sky\"");
    test::write_bytes(csv, "img/a.png,sky\nimg/missing.png,sky\n");
    EXPECT_ENGINE_ERROR(multilabel_csv(csv), "labels.csv:2: image");
    test::write_bytes(csv, "img/a.png sky\n");
    EXPECT_ENGINE_ERROR(multilabel_csv(csv), "labels.csv:1: expected `image,labels`");
    test::write_bytes(csv, "image,labels\n");
    EXPECT_ENGINE_ERROR(multilabel_csv(csv), "no images listed");
    test::write_bytes(csv, "\"img/a.png,sky\n");
    EXPECT_ENGINE_ERROR(multilabel_csv(csv), "labels.csv:1");
    EXPECT_ENGINE_ERROR(multilabel_csv(dir.path() + "/none.csv"), "none.csv: cannot open");
}

}  // namespace
}  // namespace engine::data
