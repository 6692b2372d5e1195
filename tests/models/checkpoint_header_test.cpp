// checkpoint::read_info reads the safetensors header alone: the same metadata as load(), the same one-line errors
// for truncated, extended and malformed files, and only a few KiB read from a large checkpoint.
#include <filesystem>
#include <fstream>
#include <map>

#include "common/test_util.h"
#include "models/models.h"
#include "runtime/safetensors.h"

namespace engine::models {
namespace {

using namespace engine::test;

std::string temp_path(const std::string& name) { return testing::TempDir() + "checkpoint_header_test_" + name; }

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

uint64_t header_length(const std::string& bytes) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    return n;
}

// Bytes this process has read through read(2) so far (Linux), or -1.
int64_t bytes_read_so_far() {
    std::ifstream in("/proc/self/io");
    std::string key;
    int64_t value = 0;
    while (in >> key >> value)
        if (key == "rchar:") return value;
    return -1;
}

// One large parameter: a checkpoint of a few MiB.
class Blob : public nn::Module {
public:
    explicit Blob(int64_t n) { register_parameter("data", full({n}, 0.5)); }
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Blob"; }
};

TEST(CheckpointHeaderTest, ReadInfoMatchesLoadAndReadsOnlyTheHeader) {
    constexpr int64_t kElements = 4 << 20;  // 16 MiB of data
    Blob model(kElements);
    checkpoint::Info info;
    info.epoch = 4, info.step = 17, info.best_metric = 0.25;
    info.extra = {{"class_names", R"(["a","b"])"}, {"dataset_kind", "idx"}};
    const std::string path = temp_path("large.safetensors");
    checkpoint::save(path, model, nullptr, info);

    const int64_t before = bytes_read_so_far();
    const checkpoint::Info read = checkpoint::read_info(path);
    const int64_t after = bytes_read_so_far();
    EXPECT_EQ(read.epoch, 4);
    EXPECT_EQ(read.step, 17);
    EXPECT_EQ(read.best_metric, 0.25);
    EXPECT_EQ(read.extra, info.extra);
    if (before >= 0 && after >= 0) {
        EXPECT_LT(after - before, 1 << 20) << "read_info read the tensor data of a "
                                           << std::filesystem::file_size(path) << "-byte file";
    }
    Blob other(kElements);
    EXPECT_EQ(checkpoint::load(path, other).extra, read.extra);
    std::filesystem::remove(path);
}

// Every damage to the file's size or header is found from the header and the file size, with load()'s message.
TEST(CheckpointHeaderTest, DamagedFilesGiveLoadsErrors) {
    LeNet model;
    const std::string path = temp_path("damaged.safetensors");
    checkpoint::save(path, model, nullptr, {});
    const std::string good = read_bytes(path);
    const uint64_t header = header_length(good);
    ASSERT_LT(8 + header, good.size());

    auto expect_same_error = [&](const std::string& bytes, const std::string& phrase) {
        write_bytes(path, bytes);
        LeNet target;
        const std::string from_header = error_message([&] { checkpoint::read_info(path); });
        const std::string from_load = error_message([&] { checkpoint::load(path, target); });
        EXPECT_NE(from_header.find("safetensors: " + path + ": "), std::string::npos) << from_header;
        EXPECT_NE(from_header.find(phrase), std::string::npos) << from_header;
        EXPECT_EQ(from_header.find('\n'), std::string::npos) << from_header;
        EXPECT_EQ(from_header, from_load);
    };
    {
        SCOPED_TRACE("tensor data cut short");
        expect_same_error(good.substr(0, good.size() - 1), "beyond the data section");
    }
    {
        SCOPED_TRACE("tensor data cut off entirely");
        expect_same_error(good.substr(0, 8 + header), "beyond the data section");
    }
    {
        SCOPED_TRACE("header cut in the middle");
        expect_same_error(good.substr(0, 8 + header / 2), "exceeds the file");
    }
    {
        SCOPED_TRACE("length prefix cut");
        expect_same_error(good.substr(0, 5), "file too short (5 bytes)");
    }
    {
        SCOPED_TRACE("bytes appended");
        expect_same_error(good + "xyz", "3 trailing bytes");
    }
    {
        SCOPED_TRACE("header not JSON");
        std::string broken = good;
        broken[8 + header / 2] = '\x01';
        expect_same_error(broken, "header is not valid JSON");
    }
    {
        SCOPED_TRACE("header length beyond the cap");
        std::string huge = good;
        huge[7] = '\x7f';
        expect_same_error(huge, "exceeds the cap");
    }
    EXPECT_ENGINE_ERROR(checkpoint::read_info(temp_path("missing.safetensors")), "cannot open");

    // What the header cannot show, load() cannot either: data bytes changed in place are still valid floats.
    std::string changed = good;
    changed[8 + header] = static_cast<char>(changed[8 + header] ^ 0x55);
    write_bytes(path, changed);
    EXPECT_NO_THROW(checkpoint::read_info(path));
    LeNet target;
    EXPECT_NO_THROW(checkpoint::load(path, target));
    std::filesystem::remove(path);
}

TEST(CheckpointHeaderTest, PlainWeightFilesAreNotCheckpoints) {
    LeNet model;
    const std::string path = temp_path("plain.safetensors");
    checkpoint::save_weights(path, model);
    EXPECT_ENGINE_ERROR(checkpoint::read_info(path), "not an engine checkpoint");
    const safetensors::Header header = safetensors::read_header(path);
    ASSERT_EQ(header.tensors.size(), model.state_dict().size());
    EXPECT_EQ(header.file_bytes, std::filesystem::file_size(path));
    std::map<std::string, Tensor> state;
    for (const auto& [name, t] : model.state_dict()) state.emplace(name, t);
    for (const safetensors::TensorEntry& e : header.tensors) {
        ASSERT_EQ(state.count(e.name), 1u) << e.name;
        const Tensor& t = state.at(e.name);
        EXPECT_EQ(e.shape, t.shape()) << e.name;
        EXPECT_EQ(e.end - e.begin, static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype())) << e.name;
    }
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace engine::models
