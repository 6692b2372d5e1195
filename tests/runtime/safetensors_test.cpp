#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/test_util.h"
#include "runtime/safetensors.h"

using namespace engine;

namespace {
std::string sample_bytes() {
    return safetensors::serialize({{"a", from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                                   {"b", from_vector<int64_t>({7, -8}, {2})}},
                                  {{"epoch", "3"}});
}
}  // namespace

TEST(SafetensorsTest, RoundTrip) {
    const safetensors::Contents c = safetensors::parse(sample_bytes(), "mem");
    ASSERT_EQ(c.tensors.size(), 2u);
    EXPECT_EQ(c.at("a").shape(), (Shape{2, 3}));
    EXPECT_EQ(c.at("a").to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(c.at("b").to_vector<int64_t>(), (std::vector<int64_t>{7, -8}));
    EXPECT_EQ(c.metadata.at("epoch"), "3");
    EXPECT_ENGINE_ERROR(c.at("missing"), "no tensor named 'missing' (the file has: a, b)");
}

TEST(SafetensorsTest, RejectsMalformedFilesWithTheFirstProblem) {
    const std::string good = sample_bytes();
    EXPECT_ENGINE_ERROR(safetensors::parse(good.substr(0, 5), "f"), "safetensors: f: file too short");
    EXPECT_ENGINE_ERROR(safetensors::parse(good.substr(0, 20), "f"), "exceeds the file");
    EXPECT_ENGINE_ERROR(safetensors::parse(good.substr(0, good.size() - 4), "f"), "beyond the data section");
    EXPECT_ENGINE_ERROR(safetensors::parse(good + "xx", "f"), "2 trailing bytes");
    std::string huge = good;
    huge[7] = '\x7f';
    EXPECT_ENGINE_ERROR(safetensors::parse(huge, "f"), "exceeds the cap");
    auto with_header = [](const std::string& json, size_t data_bytes) {
        std::string out(8, '\0');
        for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
        return out + json + std::string(data_bytes, '\0');
    };
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header("{not json", 0), "f"), "header is not valid JSON");
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header(R"({"t":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}})", 2), "f"),
                        "unsupported dtype");
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "f"),
                        "negative or non-integer dimension");
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4), "f"),
                        "do not span 8 bytes");
    EXPECT_ENGINE_ERROR(
        safetensors::parse(with_header(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                       R"("u":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 6), "f"),
        "overlapping or missing data");
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header(R"({"t":{"dtype":"F32","shape":[1]}})", 4), "f"),
                        "lacks \"data_offsets\"");
    EXPECT_ENGINE_ERROR(safetensors::parse(with_header(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})", 4), "f"),
                        "huge shape");
}

TEST(SafetensorsTest, SaveIsAtomicAndLoadNamesMissingFiles) {
    const std::string path = ::testing::TempDir() + "/engine_safetensors_test.safetensors";
    safetensors::save(path, {{"w", ones({3})}});
    EXPECT_EQ(safetensors::load(path).at("w").to_vector<float>(), (std::vector<float>{1, 1, 1}));
    std::ifstream tmp(path + ".tmp");
    EXPECT_FALSE(tmp.good()) << "the temporary file must be renamed away";
    std::remove(path.c_str());
    EXPECT_ENGINE_ERROR(safetensors::load(path), "cannot open");
    EXPECT_ENGINE_ERROR(safetensors::save("/nonexistent-dir/x.safetensors", {{"w", ones({1})}}), "cannot write");
}
