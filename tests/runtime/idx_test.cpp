#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "common/test_util.h"
#include "runtime/idx.h"

using namespace engine;

namespace {

std::string idx_bytes(const std::vector<uint32_t>& dims, size_t payload, unsigned char type = 0x08) {
    std::string out = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (uint32_t d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((d >> shift) & 0xff));
    }
    for (size_t i = 0; i < payload; ++i) out.push_back(static_cast<char>(i % 251));
    return out;
}

std::string write_raw(const std::string& name, const std::string& bytes) {
    const std::string path = ::testing::TempDir() + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string write_gz(const std::string& name, const std::string& bytes) {
    const std::string path = ::testing::TempDir() + "/" + name;
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path;
}

}  // namespace

TEST(IdxTest, ReadsRawAndGzipFiles) {
    const std::string bytes = idx_bytes({3, 2, 4}, 24);
    for (const std::string& path : {write_raw("ok.idx", bytes), write_gz("ok.idx.gz", bytes)}) {
        Tensor t = idx::read_images(path);
        EXPECT_EQ(t.shape(), (Shape{3, 2, 4}));
        EXPECT_EQ(t.dtype(), DType::UInt8);
        EXPECT_EQ(t.to_vector<uint8_t>()[23], 23);
    }
    Tensor labels = idx::read_labels(write_raw("labels.idx", idx_bytes({5}, 5)));
    EXPECT_EQ(labels.dtype(), DType::Int64);
    EXPECT_EQ(labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(IdxTest, RejectsBadFilesWithAClearReason) {
    EXPECT_ENGINE_ERROR(idx::read_bytes(::testing::TempDir() + "/missing.idx"), "cannot open");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("short.idx", "\0\0")), "file too short");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("magic.idx", "\x12\x34\x08\x01\0\0\0\x01x")), "bad magic");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("type.idx", idx_bytes({1}, 4, 0x0d))), "unsupported element type");
    const std::string full = idx_bytes({10, 3}, 30);
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("trunc.idx", full.substr(0, full.size() - 1))), "truncated data");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_gz("trunc.idx.gz", full.substr(0, 14))), "truncated data");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("trail.idx", full + "x")), "trailing bytes");
    EXPECT_ENGINE_ERROR(idx::read_bytes(write_raw("huge.idx", idx_bytes({0xffffffff, 0xffffffff}, 0))),
                        "dimensions too large");
    EXPECT_ENGINE_ERROR(idx::read_images(write_raw("rank.idx", idx_bytes({4}, 4))), "expected an images file");
    std::string gz = std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + "garbage-garbage";
    EXPECT_FALSE(test::error_message([&] { idx::read_bytes(write_raw("corrupt.gz", gz)); }).empty());
}

TEST(IdxTest, AHeaderClaimingGigabytesAllocatesNothingBeyondTheFile) {
    // .ci/fuzz's finding: 4 GiB declared in a 30-byte file. With 1 GiB of address space to spare, the reader must
    // stop at the file's end with its own error, not allocate what the header claims.
    const std::string path = write_raw("claims_4gib.idx", idx_bytes({0xffffffff}, 20));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // The process's current address space (OpenMP stacks, libraries) plus 1 GiB.
        unsigned long pages = 0;
        std::ifstream("/proc/self/statm") >> pages;
        const rlim_t bytes = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (1ull << 30);
        const rlimit limit{bytes, bytes};
        setrlimit(RLIMIT_AS, &limit);
        const std::string message = test::error_message([&] { idx::read_bytes(path); });
        _exit(message.find("truncated data: expected 4294967295 bytes") != std::string::npos ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST(IdxTest, ReadsTheRealFashionMnistWhenInstalled) {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    std::ifstream probe(dir + "/t10k-labels-idx1-ubyte.gz");
    if (!probe.good()) GTEST_SKIP() << dir << " not installed (apt-get install dataset-fashion-mnist): skipped";
    Tensor images = idx::read_images(dir + "/t10k-images-idx3-ubyte.gz");
    Tensor labels = idx::read_labels(dir + "/t10k-labels-idx1-ubyte.gz");
    EXPECT_EQ(images.shape(), (Shape{10000, 28, 28}));
    EXPECT_EQ(labels.shape(), (Shape{10000}));
    std::vector<int64_t> counts(10, 0);
    for (int64_t l : labels.to_vector<int64_t>()) {
        ASSERT_GE(l, 0);
        ASSERT_LT(l, 10);
        ++counts[l];
    }
    for (int64_t c : counts) EXPECT_EQ(c, 1000);  // the test split is balanced
}
