// A writer killed (SIGKILL) in the middle of overwriting a large checkpoint leaves the previous one loadable: the
// partial PATH.tmp is never taken for the checkpoint.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/test_util.h"
#include "models/models.h"
#include "runtime/safetensors.h"

namespace engine::models {
namespace {

// One large parameter whose every element equals the epoch it was saved at.
class Blob : public nn::Module {
public:
    explicit Blob(int64_t n) { data_ = register_parameter("data", zeros({n})); }
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Blob"; }
    void set(double value) {
        NoGradGuard no_grad;
        data_.fill_(value);
    }
    std::pair<double, double> range() const { return {min(data_).item<double>(), max(data_).item<double>()}; }

private:
    Tensor data_;
};

int64_t file_size(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

TEST(CheckpointKillTest, KilledWriterLeavesThePreviousCheckpoint) {
    constexpr int64_t kElements = 8 << 20;  // a 32 MB checkpoint
    const std::string path = testing::TempDir() + "checkpoint_kill_test.safetensors", tmp = path + ".tmp";
    std::filesystem::remove(tmp);
    Blob model(kElements);
    model.set(1.0);
    checkpoint::Info info;
    info.epoch = 1;
    checkpoint::save(path, model, nullptr, info);
    const int64_t full_size = file_size(path);
    ASSERT_GT(full_size, kElements * 4);

    int killed_mid_write = 0;
    for (int attempt = 0; attempt < 6 && killed_mid_write < 1; ++attempt) {
        model.set(2.0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            // Overwrite the checkpoint again and again (epochs 2, 3, ...) until killed.
            checkpoint::Info next;
            for (next.epoch = 2;; ++next.epoch) {
                try {
                    checkpoint::save(path, model, nullptr, next);
                } catch (...) {
                    ::_exit(3);
                }
            }
        }
        // Kill it the moment PATH.tmp is partly written.
        bool mid_write = false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            const int64_t size = file_size(tmp);
            if (size > 0 && size < full_size) {
                mid_write = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        ::kill(child, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer exited by itself";
        const int64_t tmp_size = file_size(tmp);
        if (mid_write && tmp_size >= 0 && tmp_size < full_size) {
            ++killed_mid_write;
            // What was left behind is incomplete and unloadable; the checkpoint itself is not touched by it.
            EXPECT_ENGINE_ERROR(safetensors::load(tmp), "safetensors: " + tmp);
        }

        // The checkpoint is the original (epoch 1) or one the child finished (epoch >= 2), never a partial one.
        Blob loaded(kElements);
        const checkpoint::Info read = checkpoint::load(path, loaded);
        const double expected = read.epoch == 1 ? 1.0 : 2.0;
        EXPECT_EQ(loaded.range(), std::make_pair(expected, expected)) << "epoch " << read.epoch;
        EXPECT_EQ(file_size(path), full_size);
    }
    EXPECT_GE(killed_mid_write, 1) << "no kill landed while PATH.tmp was partly written";

    // The next save replaces the stale PATH.tmp and succeeds.
    info.epoch = 9;
    checkpoint::save(path, model, nullptr, info);
    EXPECT_EQ(checkpoint::read_info(path).epoch, 9);
    EXPECT_FALSE(std::filesystem::exists(tmp));
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace engine::models
