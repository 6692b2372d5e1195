// Every op of the backend op table (kernels/backend_ops.def) is defined in its family's files of both backends:
// CpuBackend::<op> in kernels/cpu/<family>.cpp (or kernels/cpu/<family>_*.cpp) and CudaBackend::<op> in
// kernels/cuda/<family>.cu (or a .cpp, or <family>_*.cu / .cpp), as README's "Adding an op" says. Reads the sources,
// so it also holds for the CUDA backend in a build without one.
#include "common/backend_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace engine::test {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(ENGINE_TEST_DATA_DIR) / ".." / "..";

// The text of the files of `folder` that belong to `family`: <family>.cpp / .cu or <family>_*.cpp / .cu.
std::string family_sources(const std::string& folder, const std::string& family) {
    std::string text;
    for (const fs::directory_entry& entry : fs::directory_iterator(kSourceDir / folder)) {
        const fs::path& path = entry.path();
        const std::string stem = path.stem().string(), ext = path.extension().string();
        if (ext != ".cpp" && ext != ".cu") continue;
        if (stem != family && stem.rfind(family + "_", 0) != 0) continue;
        std::ifstream in(path);
        text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return text;
}

TEST(BackendOpTable, EveryOpIsDefinedInItsFamilysFilesOfBothBackends) {
    ASSERT_TRUE(fs::exists(kSourceDir / "kernels" / "backend_ops.def")) << kSourceDir;
    std::ostringstream missing;
    for (const BackendOpEntry& op : backend_op_table()) {
        const std::string name = op.name, family = op.family;
        if (family_sources("kernels/cpu", family).find("CpuBackend::" + name + "(") == std::string::npos)
            missing << "\n  " << name << ": no CpuBackend::" << name << " in kernels/cpu/" << family << "[_*].cpp";
        if (family_sources("kernels/cuda", family).find("CudaBackend::" + name + "(") == std::string::npos)
            missing << "\n  " << name << ": no CudaBackend::" << name << " in kernels/cuda/" << family
                    << "[_*].{cu,cpp}";
    }
    EXPECT_TRUE(missing.str().empty()) << "ops of kernels/backend_ops.def outside their family's files:"
                                       << missing.str();
}

TEST(BackendOpTable, NamesAreUnique) {
    std::vector<std::string> names;
    for (const BackendOpEntry& op : backend_op_table()) names.push_back(op.name);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace engine::test
