// Replays every fuzz target's corpus (tests/fuzz/corpus/NAME: seeds, and each input that once made it crash,
// named crash-*) through the target in the ordinary build, so that a fixed finding stays fixed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_targets.h"

namespace engine::fuzz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(FuzzCorpusTest, EveryTargetHasSeedsAndReplaysThemCleanly) {
    ASSERT_EQ(targets().size(), 4u);
    for (const Target& target : targets()) {
        const fs::path dir = fs::path(ENGINE_FUZZ_CORPUS_DIR) / target.name;
        ASSERT_TRUE(fs::is_directory(dir)) << dir;
        int files = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            const std::string bytes = slurp(entry.path());
            SCOPED_TRACE(entry.path().string());
            target.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
            ++files;
        }
        EXPECT_GE(files, 3) << target.name << ": a corpus of at least a few seeds";
    }
}

}  // namespace
}  // namespace engine::fuzz
