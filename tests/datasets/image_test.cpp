// Image IO: decoding PNG/JPEG/BMP, forced channels, corrupt and truncated files, size limits, atomic PNG
// writing, tensor conversions.
#include "models/data/image.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "common/test_util.h"
#include "datasets/data_test_util.h"

namespace engine::data {
namespace {

using test::TempDir;

bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

// The error message of decode_image, or "" when it decoded.
std::string decode_error(const std::string& bytes, const std::string& source, Image* out = nullptr) {
    try {
        Image image = decode_image(bytes, source);
        if (out) *out = image;
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

void put_be32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// A well-formed PNG (correct CRCs) declaring the given size, with an empty IDAT: no pixel data at all.
std::string png_header(uint32_t width, uint32_t height, uint8_t color_type) {
    std::string s("\x89PNG\r\n\x1a\n", 8);
    auto chunk = [&](const std::string& type, const std::string& body) {
        put_be32(s, static_cast<uint32_t>(body.size()));
        const std::string typed = type + body;
        s += typed;
        put_be32(s, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(typed.data()), typed.size())));
    };
    std::string ihdr;
    put_be32(ihdr, width);
    put_be32(ihdr, height);
    ihdr += std::string{'\x08', static_cast<char>(color_type), '\0', '\0', '\0'};
    chunk("IHDR", ihdr);
    chunk("IDAT", "");
    chunk("IEND", "");
    return s;
}

TEST(ImageDecodeTest, PngRoundTripsEveryChannelCount) {
    for (int64_t channels = 1; channels <= 4; ++channels) {
        const Image image = test::pattern_image(13, 29, channels, static_cast<uint32_t>(channels));
        const Image back = decode_image(encode_png(image), "mem.png");
        EXPECT_EQ(back.height, 13);
        EXPECT_EQ(back.width, 29);
        EXPECT_EQ(back.channels, channels);
        EXPECT_EQ(back.pixels, image.pixels) << channels << " channels";
        const ImageInfo info = probe_image(encode_png(image), "mem.png");
        EXPECT_EQ(info.height, 13);
        EXPECT_EQ(info.width, 29);
        EXPECT_EQ(info.channels, channels);
    }
}

TEST(ImageDecodeTest, ForcedChannelsFollowStbRules) {
    const Image rgb = test::pattern_image(5, 7, 3);
    const Image gray = decode_image(encode_png(rgb), "rgb.png", 1);
    ASSERT_EQ(gray.channels, 1);
    for (int64_t i = 0; i < 35; ++i) {
        const uint8_t* p = &rgb.pixels[static_cast<size_t>(3 * i)];
        EXPECT_EQ(gray.pixels[static_cast<size_t>(i)], (p[0] * 77 + p[1] * 150 + p[2] * 29) >> 8);
    }
    EXPECT_EQ(convert_channels(rgb, 1).pixels, gray.pixels);
    const Image rgba = decode_image(encode_png(rgb), "rgb.png", 4);
    for (int64_t i = 0; i < 35; ++i) {
        for (int c = 0; c < 3; ++c)
            EXPECT_EQ(rgba.pixels[static_cast<size_t>(4 * i + c)], rgb.pixels[static_cast<size_t>(3 * i + c)]);
        EXPECT_EQ(rgba.pixels[static_cast<size_t>(4 * i + 3)], 255);
    }
    const Image g = test::pattern_image(4, 6, 1);
    const Image g3 = decode_image(encode_png(g), "gray.png", 3);
    for (int64_t i = 0; i < 24; ++i)
        for (int c = 0; c < 3; ++c)
            EXPECT_EQ(g3.pixels[static_cast<size_t>(3 * i + c)], g.pixels[static_cast<size_t>(i)]);
    EXPECT_EQ(convert_channels(g, 3).pixels, g3.pixels);
    EXPECT_ENGINE_ERROR(decode_image(encode_png(g), "gray.png", 5), "channels");
}

TEST(ImageDecodeTest, JpegAndBmp) {
    const Image smooth = test::smooth_image(40, 56, 3);
    const Image jpeg = decode_image(test::jpeg_bytes(smooth, 95), "smooth.jpg");
    ASSERT_EQ(jpeg.height, 40);
    ASSERT_EQ(jpeg.width, 56);
    ASSERT_EQ(jpeg.channels, 3);
    double diff = 0;
    for (size_t i = 0; i < jpeg.pixels.size(); ++i) diff += std::abs(jpeg.pixels[i] - smooth.pixels[i]);
    EXPECT_LT(diff / static_cast<double>(jpeg.pixels.size()), 3.0);
    const Image gray = decode_image(test::jpeg_bytes(test::smooth_image(16, 16, 3)), "gray.jpg", 1);
    EXPECT_EQ(gray.channels, 1);
    EXPECT_EQ(gray.pixels.size(), 256u);
    const Image rgb = test::pattern_image(9, 11, 3);
    EXPECT_EQ(decode_image(test::bmp_bytes(rgb), "x.bmp").pixels, rgb.pixels);
}

TEST(ImageDecodeTest, FilesAndTheirErrors) {
    TempDir dir;
    const Image image = test::pattern_image(6, 8, 3);
    const std::string path = dir.file("a.png");
    test::write_bytes(path, encode_png(image));
    EXPECT_EQ(read_image(path).pixels, image.pixels);
    EXPECT_ENGINE_ERROR(read_image(dir.file("missing.png")), "missing.png: cannot open");
    EXPECT_ENGINE_ERROR(read_image(dir.path()), "not a regular file");
    EXPECT_ENGINE_ERROR(read_file(path, 10), "exceeds the limit of 10");
    test::write_bytes(dir.file("empty.png"), "");
    EXPECT_ENGINE_ERROR(read_image(dir.file("empty.png")), "empty.png: empty file");
    test::write_bytes(dir.file("text.png"), "hello, this is not an image at all");
    const std::string message = test::error_message([&] { read_image(dir.file("text.png")); });
    EXPECT_NE(message.find("text.png: cannot decode"), std::string::npos) << message;
    EXPECT_TRUE(one_line(message)) << message;
}

TEST(ImageCorruptTest, TruncatedPngFailsCleanlyAtEveryOffset) {
    const Image image = test::pattern_image(37, 53, 3);
    const std::string png = encode_png(image);
    const size_t iend = png.rfind("IEND");
    ASSERT_NE(iend, std::string::npos);
    for (size_t cut = 0; cut < png.size(); ++cut) {
        Image out;
        const std::string message = decode_error(png.substr(0, cut), "cut.png", &out);
        if (cut < iend - 4) {  // pixel data missing: must fail
            ASSERT_FALSE(message.empty()) << "truncated at " << cut << " of " << png.size() << " decoded";
        }
        if (message.empty()) {
            EXPECT_EQ(out.pixels, image.pixels) << "cut at " << cut;  // only the end marker was cut
        } else {
            EXPECT_TRUE(one_line(message)) << message;
            EXPECT_EQ(message.rfind("image: cut.png: ", 0), 0u) << message;
        }
    }
}

TEST(ImageCorruptTest, PngStructureIsCheckedFirst) {
    const std::string png = encode_png(test::pattern_image(8, 8, 3));
    std::string unknown = png;
    const size_t idat = unknown.find("IDAT");
    ASSERT_NE(idat, std::string::npos);
    unknown.replace(idat, 4, "QDAT");  // an unknown critical chunk
    EXPECT_ENGINE_ERROR(decode_image(unknown, "q.png"), "q.png: corrupt PNG (unknown critical chunk QDAT)");
    EXPECT_ENGINE_ERROR(decode_image(png.substr(0, png.size() - 12), "t.png"), "t.png: truncated PNG (no IEND chunk)");
    std::string ancillary = png;
    ancillary.insert(33, std::string("\0\0\0\x02teXtab\0\0\0\0", 14));  // unknown ancillary chunks are skipped
    EXPECT_EQ(decode_image(ancillary, "a.png").pixels, test::pattern_image(8, 8, 3).pixels);
}

TEST(ImageCorruptTest, TruncatedJpegFailsAtEveryOffset) {
    const std::string jpeg = test::jpeg_bytes(test::pattern_image(37, 53, 3), 90);
    for (size_t cut = 0; cut < jpeg.size(); ++cut) {
        const std::string message = decode_error(jpeg.substr(0, cut), "cut.jpg");
        ASSERT_FALSE(message.empty()) << "truncated at " << cut << " of " << jpeg.size() << " decoded";
        EXPECT_TRUE(one_line(message)) << message;
        EXPECT_EQ(message.rfind("image: cut.jpg: ", 0), 0u) << message;
    }
    EXPECT_EQ(decode_error(jpeg, "whole.jpg"), "");
}

TEST(ImageCorruptTest, MutatedFilesDecodeOrFailWithOneLine) {
    std::vector<std::string> seeds;
    for (int64_t channels : {1, 3, 4}) {
        const Image image = test::pattern_image(19, 23, channels, static_cast<uint32_t>(channels));
        seeds.push_back(encode_png(image));
        seeds.push_back(test::jpeg_bytes(image, 80));
        seeds.push_back(test::bmp_bytes(image));
    }
    uint64_t state = 42;
    auto next = [&] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<size_t>(state >> 33);
    };
    int decoded = 0, failed = 0;
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::string bytes = seeds[next() % seeds.size()];
        for (size_t m = 0, count = 1 + next() % 4; m < count; ++m) {
            const size_t pos = next() % bytes.size();
            switch (next() % 3) {
                case 0:
                    bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (next() % 8)));
                    break;
                case 1:
                    bytes[pos] = static_cast<char>(next());
                    break;
                default:
                    bytes.resize(pos + 1);
                    break;
            }
        }
        Image out;
        const std::string message = decode_error(bytes, "fuzz", &out);
        if (message.empty()) {
            ++decoded;
            EXPECT_EQ(out.pixels.size(), static_cast<size_t>(out.height * out.width * out.channels));
        } else {
            ++failed;
            ASSERT_TRUE(one_line(message)) << message;
        }
    }
    EXPECT_GT(failed, 0);
    EXPECT_GT(decoded, 0);
}

// nothings/stb#1289: a Huffman table with more than 256 symbols overruns stb_image 2.27's tables. It must be
// refused before stb parses it (stbi_info already does).
TEST(ImageCorruptTest, OversizedJpegHuffmanTableIsRefused) {
    std::string jpeg = test::jpeg_bytes(test::pattern_image(16, 16, 3), 90);
    const size_t dht = jpeg.find("\xFF\xC4");
    ASSERT_NE(dht, std::string::npos);
    for (size_t i = 0; i < 16; ++i) jpeg[dht + 5 + i] = static_cast<char>(99);  // counts after length and class
    EXPECT_ENGINE_ERROR(decode_image(jpeg, "evil.jpg"), "evil.jpg: corrupt JPEG (Huffman table of 1584 symbols");
    EXPECT_ENGINE_ERROR(probe_image(jpeg, "evil.jpg"), "Huffman table");
}

// A scan that selects a Huffman table no DHT segment defined makes stb_image 2.27 decode with uninitialised
// tables and read outside its symbol array (found by the image fuzz target: corpus/image/crash-jpeg-undefined-
// huffman-table). It must be refused before stb sees it.
TEST(ImageCorruptTest, JpegScanWithUndefinedHuffmanTableIsRefused) {
    std::string jpeg = test::jpeg_bytes(test::pattern_image(16, 16, 3), 90);
    const size_t sos = jpeg.find("\xFF\xDA");
    ASSERT_NE(sos, std::string::npos);
    ASSERT_EQ(jpeg[sos + 6], 0x00);  // first component: DC table 0, AC table 0 (both defined by stb's writer)
    ASSERT_NO_THROW(decode_image(jpeg, "ok.jpg"));
    jpeg[sos + 6] = 0x02;  // AC table 2: never defined
    EXPECT_ENGINE_ERROR(decode_image(jpeg, "evil.jpg"),
                        "evil.jpg: corrupt JPEG (a scan uses Huffman table AC 2, which no DHT segment defines)");
    jpeg[sos + 6] = 0x30;  // DC table 3
    EXPECT_ENGINE_ERROR(decode_image(jpeg, "evil.jpg"), "Huffman table DC 3");
}

// Progressive JPEGs use DC tables in their first scans and AC tables in the rest, each defined just before
// the scans that need it: the table check above must follow that and still let them through.
TEST(ImageCorruptTest, ProgressiveJpegStillDecodes) {
    const std::string jpeg = read_file(std::string(ENGINE_TEST_DATA_DIR) + "/datasets/progressive.jpg");
    const Image image = decode_image(jpeg, "progressive.jpg");
    ASSERT_EQ(image.height, 16);
    ASSERT_EQ(image.width, 24);
    ASSERT_EQ(image.channels, 3);
    // Written by Pillow from R = 10x, G = 15y, B = 255 - 10x at quality 95; its own decoder is within 11 of it.
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 24; ++x) {
            const int expected[3] = {10 * x, 15 * y, 255 - 10 * x};
            for (int c = 0; c < 3; ++c)
                EXPECT_NEAR(image.pixels[(y * 24 + x) * 3 + c], expected[c], 16) << y << "," << x << "," << c;
        }
}

// Zero-length IDAT chunks are legal and carry nothing; stb_image 2.27 copies a first one through a null buffer
// (UBSan: "null pointer passed as argument 1" in stbi__getn). They are dropped before stb sees the file.
TEST(ImageDecodeTest, EmptyIdatChunksAreIgnored) {
    const Image image = test::pattern_image(7, 5, 3, 11);
    std::string png = encode_png(image);
    const size_t idat = png.find("IDAT");
    ASSERT_NE(idat, std::string::npos);
    const std::string empty_idat("\0\0\0\0IDAT\x35\xAF\x06\x1E", 12);  // length 0, type, CRC of "IDAT"
    png.insert(idat - 4, empty_idat);  // before the first data chunk
    png.insert(png.find("IEND") - 4, empty_idat);  // and after the last
    const Image back = decode_image(png, "empty_idat.png");
    EXPECT_EQ(back.pixels, image.pixels);
}

TEST(ImageLimitsTest, HugeDeclaredSizesAreRejectedBeforeDecoding) {
    // Over stb's side limit: refused by the header probe.
    const std::string huge = png_header(100000, 100000, 2);
    const std::string message = test::error_message([&] { decode_image(huge, "huge.png"); });
    EXPECT_NE(message.find("huge.png"), std::string::npos) << message;
    EXPECT_NE(message.find("16384"), std::string::npos) << message;
    // Inside the side limit but over the decoding budget (16000 x 16000 RGBA = 1 GB): our own check, which
    // names the bytes; the file holds no pixel data, so only a check before decoding can give this message.
    EXPECT_ENGINE_ERROR(decode_image(png_header(16000, 16000, 6), "big.png"), "over the decoding limit");
    const ImageInfo info = probe_image(png_header(300, 200, 6), "ok.png");
    EXPECT_EQ(info.width, 300);
    EXPECT_EQ(info.height, 200);
    EXPECT_ENGINE_ERROR(decode_image(png_header(300, 200, 6), "ok.png"), "ok.png: cannot decode");  // no pixels
    // A JPEG whose frame header declares 60000 x 60000.
    std::string jpeg = test::jpeg_bytes(test::pattern_image(8, 8, 3), 90);
    const size_t sof = jpeg.find("\xFF\xC0");
    ASSERT_NE(sof, std::string::npos);
    jpeg[sof + 5] = jpeg[sof + 7] = static_cast<char>(0xEA);
    jpeg[sof + 6] = jpeg[sof + 8] = static_cast<char>(0x60);
    EXPECT_ENGINE_ERROR(decode_image(jpeg, "huge.jpg"), "16384");
}

TEST(ImageWriteTest, WritePngIsAtomicAndReadsBack) {
    TempDir dir;
    const std::string path = dir.file("out/picture.png");
    const Image first = test::pattern_image(10, 12, 3, 1), second = test::pattern_image(7, 5, 1, 2);
    write_png(path, first);
    EXPECT_EQ(read_image(path).pixels, first.pixels);
    write_png(path, second);  // replaces it
    const Image back = read_image(path);
    EXPECT_EQ(back.channels, 1);
    EXPECT_EQ(back.pixels, second.pixels);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    EXPECT_ENGINE_ERROR(write_png(dir.path() + "/no/such/dir/x.png", first), "no/such/dir/x.png");
    Image malformed = first;
    malformed.pixels.pop_back();
    EXPECT_ENGINE_ERROR(encode_png(malformed), "malformed image");
}

TEST(ImageConvertTest, TensorRoundTripAndNormalisation) {
    const Image image = test::pattern_image(4, 5, 3);
    const Tensor t = image_to_tensor(image);
    ASSERT_EQ(t.shape(), (Shape{3, 4, 5}));
    EXPECT_EQ(t.dtype(), DType::Float32);
    const std::vector<float> v = t.to_vector<float>();
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < 20; ++i)
            EXPECT_FLOAT_EQ(v[static_cast<size_t>(c * 20 + i)], image.pixels[static_cast<size_t>(i * 3 + c)] / 255.0f);
    EXPECT_EQ(tensor_to_image(t).pixels, image.pixels);
    EXPECT_EQ(image_to_tensor(image, 1).shape(), (Shape{1, 4, 5}));

    const std::vector<double> mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225};
    const Tensor n = normalize(t, mean, std);
    const std::vector<float> nv = n.to_vector<float>();
    for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < 20; ++i)
            EXPECT_NEAR(nv[static_cast<size_t>(c * 20 + i)], (v[static_cast<size_t>(c * 20 + i)] - mean[c]) / std[c],
                        1e-6);
    EXPECT_EQ(tensor_to_image(n, mean, std).pixels, image.pixels);
    EXPECT_ENGINE_ERROR(normalize(t, {0.5, 0.5}, {0.5, 0.5}), "2 means and 2 stds for 3 channels");
    EXPECT_ENGINE_ERROR(normalize(t, {0.5}, {0.0}), "std must be positive");
    EXPECT_ENGINE_ERROR(tensor_to_image(zeros({2, 3, 3})), "1 or 3 channels");
    // Out-of-range values clamp; NaN becomes 0.
    const Image clamped = tensor_to_image(from_vector<float>({-1.f, 2.f, NAN, 0.5f}, {2, 2}));
    EXPECT_EQ(clamped.pixels, (std::vector<uint8_t>{0, 255, 0, 128}));
}

}  // namespace
}  // namespace engine::data
