// Helpers of the app tests: temporary folders, running an app binary as a child process (to completion, or in
// the background to be signalled), checks on what a run printed and wrote, and tiny synthetic data sets
// (segmentation folders, Cityscapes-style pairs, IDX files, image folders, multi-label CSVs).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <string>
#include <vector>

#include "models/data/image.h"

namespace engine::apps::test {

// A fresh folder under the system temp dir, removed with everything in it at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct AppResult {
    int exit_code = -1;
    std::string out, err;
    // stderr split into lines (without the newlines).
    std::vector<std::string> err_lines() const;
};

// Runs `binary args...` with stdout and stderr captured (stdin from /dev/null).
AppResult run_app(const std::string& binary, const std::vector<std::string>& args);

// `binary args...` started in the background with stdout and stderr captured, for tests that signal it; killed
// (SIGKILL) and reaped at destruction if still running.
class RunningApp {
public:
    RunningApp(const std::string& binary, const std::vector<std::string>& args);
    ~RunningApp();
    RunningApp(const RunningApp&) = delete;
    RunningApp& operator=(const RunningApp&) = delete;

    // Waits until stdout contains `text` (true), or the app has exited or `seconds` have passed (false).
    bool wait_for_output(const std::string& text, double seconds);
    void send(int signal);
    // Waits for the exit; exit_code is 128 + N when signal N ended the app.
    AppResult wait();

private:
    TempDir capture_;
    pid_t pid_ = -1;
    int exit_status_ = 0;  // when wait_for_output saw the exit
};

// `args` followed by `more`.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more);
// Exactly one line on stderr, "error: ..." containing `what`, and the given exit code.
void expect_one_error_line(const AppResult& r, const std::string& what, int code = 1);
// The per-step training losses a run wrote to OUT/metrics.json.
std::vector<double> step_losses(const std::string& out_dir);

std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text);
nlohmann::json read_json(const std::string& path);
// Keeps the first `bytes` bytes of a file.
void truncate_file(const std::string& path, size_t bytes);

// A gray image of blobs and its binary label (dark = membrane-like class 1), `count` pairs of size x size in
// ROOT/image and ROOT/label, named 0.png ... (the ISBI layout).
void write_segmentation_folder(const std::string& root, int count, int64_t size, uint64_t seed = 1);
// Cityscapes-style composites (photo left, Cityscapes label colours right), 512x256, as PNG or JPEG.
void write_cityscapes_pairs(const std::string& dir, int count, bool jpeg, uint64_t seed = 1);
data::Image make_cityscapes_pair(uint64_t seed, int64_t width = 512, int64_t height = 256);
// JPEG bytes of an image (stb's writer, quality 90).
std::string encode_jpeg(const data::Image& image);
// IDX files (uncompressed) of `train` and `test` 28x28 images whose class is a simple function of the pixels.
void write_idx_set(const std::string& dir, int64_t train, int64_t test, int64_t classes = 4, uint64_t seed = 1);
// ROOT/<split>/<class>/<k>.png: RGB size x size images whose colour depends on the class.
void write_image_folder(const std::string& root, const std::vector<std::string>& splits, int classes,
                        int per_class, int64_t size);
// ROOT/images/<k>.png and ROOT/labels.csv with labels among {"red", "green", "blue"} (a colour is present in
// the image exactly when its label is).
void write_multilabel_csv(const std::string& root, int count, int64_t size);

}  // namespace engine::apps::test
