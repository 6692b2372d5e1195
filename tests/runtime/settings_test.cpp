// The settings reader (runtime/settings.h): every type's parsing, the one error policy, ScopedSetting, the
// explicit re-read of the environment, the README's table of the variables, and that no other file reads them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "runtime/settings.h"

using namespace engine;

namespace {

TEST(SettingsTest, NothingSetGivesTheDefaults) {
    const Settings s = Settings::parse({});
    EXPECT_FALSE(s.cpu_cache_mb.has_value());
    EXPECT_EQ(s.conv_weight_cache_mb, 1024u);
    EXPECT_FALSE(s.conv_layout.has_value());
    EXPECT_FALSE(s.conv_algo.has_value());
    EXPECT_EQ(s.cuda_gemm, cuda::GemmImpl::Cublas);
    EXPECT_EQ(s.cuda_conv, cuda::ConvImpl::Cudnn);
    EXPECT_FALSE(s.cuda_allow_tf32);
    EXPECT_FALSE(s.cuda_no_caching);
    EXPECT_EQ(s.emu_schedule, EmuSchedule::Forward);
    EXPECT_EQ(s.emu_seed, 0u);
    EXPECT_FALSE(s.emu_check);
    EXPECT_FALSE(s.emu_guard.has_value());
    EXPECT_EQ(s.emu_threads, 0);
    EXPECT_EQ(s.bench_python, "");
}

TEST(SettingsTest, AnEmptyValueCountsAsUnset) {
    const Settings s = Settings::parse(
        {{"ENGINE_CPU_CACHE_MB", ""}, {"ENGINE_CONV_WEIGHT_CACHE_MB", ""}, {"ENGINE_CUDA_GEMM", ""}});
    EXPECT_FALSE(s.cpu_cache_mb.has_value());
    EXPECT_EQ(s.conv_weight_cache_mb, 1024u);
    EXPECT_EQ(s.cuda_gemm, cuda::GemmImpl::Cublas);
}

TEST(SettingsTest, ParsesSizesChoicesNumbersAndStrings) {
    const Settings s = Settings::parse({{"ENGINE_CPU_CACHE_MB", "0"},
                                        {"ENGINE_CONV_WEIGHT_CACHE_MB", "256"},
                                        {"ENGINE_CONV_LAYOUT", "nhwc"},
                                        {"ENGINE_CONV_ALGO", "winograd"},
                                        {"ENGINE_CUDA_GEMM", "own"},
                                        {"ENGINE_CUDA_CONV", "own"},
                                        {"ENGINE_EMU_SCHEDULE", "random:20250101"},
                                        {"ENGINE_EMU_THREADS", "3"},
                                        {"ENGINE_BENCH_PYTHON", "/opt/venv/bin/python"}});
    EXPECT_EQ(s.cpu_cache_mb, std::optional<size_t>(0));
    EXPECT_EQ(s.conv_weight_cache_mb, 256u);
    EXPECT_EQ(s.conv_layout, ConvLayout::ChannelsLast);
    EXPECT_EQ(s.conv_algo, ConvAlgo::Winograd);
    EXPECT_EQ(s.cuda_gemm, cuda::GemmImpl::Own);
    EXPECT_EQ(s.cuda_conv, cuda::ConvImpl::Own);
    EXPECT_EQ(s.emu_schedule, EmuSchedule::Random);
    EXPECT_EQ(s.emu_seed, 20250101u);
    EXPECT_EQ(s.emu_threads, 3);
    EXPECT_EQ(s.bench_python, "/opt/venv/bin/python");

    EXPECT_EQ(Settings::parse({{"ENGINE_CONV_LAYOUT", "plain"}}).conv_layout, ConvLayout::Plain);
    EXPECT_EQ(Settings::parse({{"ENGINE_CONV_LAYOUT", "any"}}).conv_layout, ConvLayout::Any);
    EXPECT_EQ(Settings::parse({{"ENGINE_CONV_ALGO", "direct"}}).conv_algo, ConvAlgo::Direct);
    const Settings plain_random = Settings::parse({{"ENGINE_EMU_SCHEDULE", "random"}});
    EXPECT_EQ(plain_random.emu_schedule, EmuSchedule::Random);
    EXPECT_EQ(plain_random.emu_seed, 1u);
    EXPECT_EQ(Settings::parse({{"ENGINE_EMU_SCHEDULE", "reverse"}}).emu_schedule, EmuSchedule::Reverse);
    // The largest size that still fits size_t in bytes, and the largest seed.
    EXPECT_EQ(Settings::parse({{"ENGINE_CPU_CACHE_MB", std::to_string(SIZE_MAX >> 20)}}).cpu_cache_mb, SIZE_MAX >> 20);
    EXPECT_EQ(Settings::parse({{"ENGINE_EMU_SCHEDULE", "random:18446744073709551615"}}).emu_seed, UINT64_MAX);
}

TEST(SettingsTest, BooleansAcceptOneZeroOnOffTrueFalse) {
    struct Boolean {
        const char* name;
        bool (*read)(const Settings&);
    };
    const Boolean booleans[] = {
        {"ENGINE_CUDA_ALLOW_TF32", [](const Settings& s) { return s.cuda_allow_tf32; }},
        {"ENGINE_CUDA_NO_CACHING", [](const Settings& s) { return s.cuda_no_caching; }},
        {"ENGINE_EMU_CHECK", [](const Settings& s) { return s.emu_check; }},
        {"ENGINE_EMU_GUARD", [](const Settings& s) { return s.emu_guard.value(); }},  // throws when unset
    };
    for (const Boolean& b : booleans) {
        for (const char* on : {"1", "on", "true"}) EXPECT_TRUE(b.read(Settings::parse({{b.name, on}}))) << b.name << on;
        for (const char* off : {"0", "off", "false"})
            EXPECT_FALSE(b.read(Settings::parse({{b.name, off}}))) << b.name << off;
    }
}

TEST(SettingsTest, ABadValueIsAnErrorListingTheAcceptedValues) {
    struct Case {
        const char* name;
        const char* value;
        const char* accepted;
    };
    const Case cases[] = {
        {"ENGINE_CPU_CACHE_MB", "12MB", "a whole number of MiB (0 disables)"},
        {"ENGINE_CPU_CACHE_MB", "-1", "a whole number of MiB (0 disables)"},
        {"ENGINE_CONV_WEIGHT_CACHE_MB", " 64", "a whole number of MiB (0 disables)"},
        {"ENGINE_CONV_LAYOUT", "NHWC", "any, plain, nhwc"},
        {"ENGINE_CONV_ALGO", "fft", "direct, winograd"},
        {"ENGINE_CUDA_GEMM", "cutlass", "cublas, own"},
        {"ENGINE_CUDA_CONV", "own ", "cudnn, own"},
        {"ENGINE_CUDA_ALLOW_TF32", "yes", "1, 0, on, off, true, false"},
        {"ENGINE_CUDA_NO_CACHING", "2", "1, 0, on, off, true, false"},
        {"ENGINE_EMU_CHECK", "TRUE", "1, 0, on, off, true, false"},
        {"ENGINE_EMU_GUARD", "enabled", "1, 0, on, off, true, false"},
        {"ENGINE_EMU_SCHEDULE", "backwards", "forward, reverse, random, random:SEED (SEED a whole number)"},
        {"ENGINE_EMU_SCHEDULE", "random:", "forward, reverse, random, random:SEED (SEED a whole number)"},
        {"ENGINE_EMU_SCHEDULE", "random:0x2a", "forward, reverse, random, random:SEED (SEED a whole number)"},
        {"ENGINE_EMU_SCHEDULE", "randomly", "forward, reverse, random, random:SEED (SEED a whole number)"},
        {"ENGINE_EMU_THREADS", "-2", "a whole number of threads (0: OpenMP's default)"},
        {"ENGINE_EMU_THREADS", "4294967296", "a whole number of threads (0: OpenMP's default)"},
    };
    for (const Case& c : cases) {
        EXPECT_ENGINE_ERROR(Settings::parse({{c.name, c.value}}),
                            std::string(c.name) + "='" + c.value + "' is not valid; accepted: " + c.accepted);
    }
    // A size whose bytes would not fit size_t.
    const std::string overflow = std::to_string((SIZE_MAX >> 20) + 1);
    EXPECT_ENGINE_ERROR(Settings::parse({{"ENGINE_CONV_WEIGHT_CACHE_MB", overflow}}),
                        "ENGINE_CONV_WEIGHT_CACHE_MB='" + overflow + "' is not valid");
    EXPECT_ENGINE_ERROR(Settings::parse({{"ENGINE_CUDA_GEM", "own"}}), "settings: unknown variable ENGINE_CUDA_GEM");
}

// Sets an environment variable for its lifetime, restoring the previous value (or its absence) after.
class ScopedEnvironmentVariable {
public:
    ScopedEnvironmentVariable(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) previous_ = old;
        setenv(name, value, 1);
    }
    ~ScopedEnvironmentVariable() {
        if (previous_) {
            setenv(name_, previous_->c_str(), 1);
        } else {
            unsetenv(name_);
        }
    }

private:
    const char* name_;
    std::optional<std::string> previous_;
};

TEST(SettingsTest, FromEnvironmentRereadsTheEnvironmentButLeavesTheSettingsInEffect) {
    const std::optional<ConvAlgo> in_effect = setting(&Settings::conv_algo);
    {
        ScopedEnvironmentVariable algo("ENGINE_CONV_ALGO", "direct");
        ScopedEnvironmentVariable threads("ENGINE_EMU_THREADS", "5");
        const Settings s = Settings::from_environment();
        EXPECT_EQ(s.conv_algo, ConvAlgo::Direct);
        EXPECT_EQ(s.emu_threads, 5);
        EXPECT_EQ(setting(&Settings::conv_algo), in_effect);  // read once, at the first use
    }
    ScopedEnvironmentVariable bad("ENGINE_CONV_ALGO", "fastest");
    EXPECT_ENGINE_ERROR(Settings::from_environment(),
                        "ENGINE_CONV_ALGO='fastest' is not valid; accepted: direct, winograd");
}

TEST(SettingsTest, ScopedSettingOverridesForItsScopeAndRestores) {
    const Settings before = settings();
    {
        ScopedSetting algo(&Settings::conv_algo, ConvAlgo::Winograd);
        ScopedSetting cache(&Settings::cpu_cache_mb, 0);  // the value converts to the field's type
        EXPECT_EQ(setting(&Settings::conv_algo), ConvAlgo::Winograd);
        EXPECT_EQ(setting(&Settings::cpu_cache_mb), std::optional<size_t>(0));
        {
            ScopedSetting inner(&Settings::conv_algo, ConvAlgo::Direct);
            EXPECT_EQ(setting(&Settings::conv_algo), ConvAlgo::Direct);
            EXPECT_EQ(settings().conv_algo, ConvAlgo::Direct);
            // Process-wide, like the environment: another thread sees it too.
            std::optional<ConvAlgo> other;
            std::thread([&] { other = setting(&Settings::conv_algo); }).join();
            EXPECT_EQ(other, ConvAlgo::Direct);
        }
        EXPECT_EQ(setting(&Settings::conv_algo), ConvAlgo::Winograd);
        EXPECT_EQ(setting(&Settings::cpu_cache_mb), std::optional<size_t>(0));
        EXPECT_EQ(setting(&Settings::conv_weight_cache_mb), before.conv_weight_cache_mb);  // untouched fields
    }
    EXPECT_EQ(setting(&Settings::conv_algo), before.conv_algo);
    EXPECT_EQ(setting(&Settings::cpu_cache_mb), before.cpu_cache_mb);
    {
        ScopedSetting python(&Settings::bench_python, std::string("/usr/bin/python3"));
        EXPECT_EQ(setting(&Settings::bench_python), "/usr/bin/python3");
    }
    EXPECT_EQ(setting(&Settings::bench_python), before.bench_python);
}

// The README's "Environment variables" table: one row per variable, in the reader's order.
TEST(SettingsTest, TheReadmeTableListsEveryVariable) {
    std::ifstream readme(std::string(ENGINE_TEST_DATA_DIR) + "/../../README.md");
    ASSERT_TRUE(readme) << "README.md not found";
    std::vector<std::string> rows;
    bool in_section = false;
    for (std::string line; std::getline(readme, line);) {
        if (line.rfind("## ", 0) == 0) in_section = line == "## Environment variables";
        const std::string row_start = "| `ENGINE_";
        if (!in_section || line.rfind(row_start, 0) != 0) continue;
        const size_t name_end = line.find('`', 3);
        rows.push_back(line.substr(3, name_end - 3));
    }
    EXPECT_EQ(rows, setting_names());
}

// "The environment variables are read in one file": elsewhere getenv may only name a variable that is not ours
// (TMPDIR, CHROMIUM, ...), in a string literal.
TEST(SettingsTest, OnlyTheSettingsReaderReadsTheEnvironmentForEngineVariables) {
    namespace fs = std::filesystem;
    const fs::path root = fs::path(ENGINE_TEST_DATA_DIR) / ".." / "..";
    const std::regex foreign_read(R"(getenv\(\s*"(?!ENGINE_)[A-Za-z0-9_]+"\s*\))");
    const std::vector<std::string> exempt = {"runtime/settings.cpp", "tests/runtime/settings_test.cpp"};
    std::vector<std::string> offenders;
    for (const char* folder : {"runtime", "kernels", "autograd", "layers", "models", "apps", "bench", "tests"}) {
        for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root / folder)) {
            const std::string extension = entry.path().extension().string();
            if (extension != ".cpp" && extension != ".h" && extension != ".cu" && extension != ".cuh") continue;
            const std::string file = entry.path().lexically_relative(root).generic_string();
            if (std::find(exempt.begin(), exempt.end(), file) != exempt.end()) continue;
            std::ifstream in(entry.path());
            int number = 0;
            for (std::string line; std::getline(in, line);) {
                ++number;
                if (std::regex_replace(line, foreign_read, "").find("getenv") != std::string::npos)
                    offenders.push_back(file + ":" + std::to_string(number) + ": " + line);
            }
        }
    }
    EXPECT_TRUE(offenders.empty()) << "read ENGINE_* variables through runtime/settings.h:\n"
                                   << ::testing::PrintToString(offenders);
}

}  // namespace
