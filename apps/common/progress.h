// Training progress: on a terminal one bar redrawn in place (step/total, loss, images/s, ETA); otherwise plain
// lines every N steps, so that logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace engine::apps {

class Progress {
public:
    // `label` starts every line ("epoch 3/10"); `total` steps in this pass; `plain_every` is the step interval of
    // plain lines (0 picks about ten lines per pass). `interactive` defaults to isatty(out).
    Progress(std::string label, int64_t total, int64_t plain_every = 0, FILE* out = stdout, int interactive = -1);

    // A pass resumed after `done` steps: the rate and ETA count only the steps of this run.
    void resume_at(int64_t done) { offset_ = done; }
    // After step `done` (1-based, within this pass) with its loss and the images it used.
    void update(int64_t done, double loss, int64_t images);
    // Ends the bar (a newline on a terminal) and prints `summary` on its own line.
    void finish(const std::string& summary);

    double mean_loss() const { return steps_ ? loss_sum_ / static_cast<double>(steps_) : 0.0; }
    double images_per_second() const;
    double elapsed_seconds() const;
    bool interactive() const { return interactive_; }

private:
    std::string line(int64_t done, double loss) const;

    std::string label_;
    int64_t total_;
    int64_t plain_every_;
    FILE* out_;
    bool interactive_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    int64_t steps_ = 0, images_ = 0, offset_ = 0;
    double loss_sum_ = 0;
    bool drawn_ = false;
};

// "1:05:03" or "4:07"
std::string format_duration(double seconds);

}  // namespace engine::apps
