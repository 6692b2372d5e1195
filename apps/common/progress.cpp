// Progress bar and plain progress lines for the training apps.
#include "apps/common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace engine::apps {

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const int64_t s = static_cast<int64_t>(std::llround(seconds));
    char buffer[32];
    if (s >= 3600)
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    else
        std::snprintf(buffer, sizeof buffer, "%lld:%02lld", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    return buffer;
}

Progress::Progress(std::string label, int64_t total, int64_t plain_every, FILE* out, int interactive)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      plain_every_(plain_every > 0 ? plain_every : std::max<int64_t>(1, (total + 9) / 10)),
      out_(out),
      interactive_(interactive < 0 ? isatty(fileno(out)) != 0 : interactive != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double Progress::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::images_per_second() const {
    const double t = elapsed_seconds();
    return t > 0 ? static_cast<double>(images_) / t : 0.0;
}

std::string Progress::line(int64_t done, double loss) const {
    const double t = elapsed_seconds();
    const int64_t run = done - offset_;
    const double eta = run > 0 ? t / static_cast<double>(run) * static_cast<double>(total_ - done) : NAN;
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, "%s %lld/%lld loss %.4f (mean %.4f) %.1f img/s ETA %s", label_.c_str(),
                  static_cast<long long>(done), static_cast<long long>(total_), loss, mean_loss(),
                  images_per_second(), format_duration(eta).c_str());
    return buffer;
}

void Progress::update(int64_t done, double loss, int64_t images) {
    ++steps_;
    images_ += images;
    loss_sum_ += loss;
    if (interactive_) {
        const auto now = std::chrono::steady_clock::now();
        // Redrawing more than ~10 times a second only costs time on small models.
        if (drawn_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        constexpr int kWidth = 24;
        const int filled = static_cast<int>(kWidth * std::min<int64_t>(done, total_) / total_);
        std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
        std::fprintf(out_, "\r%s%s\x1b[K", bar.c_str(), line(done, loss).c_str());
        std::fflush(out_);
        drawn_ = true;
    } else if (done % plain_every_ == 0 || done == total_) {
        std::fprintf(out_, "%s\n", line(done, loss).c_str());
        std::fflush(out_);
    }
}

void Progress::finish(const std::string& summary) {
    if (interactive_ && drawn_) std::fputc('\n', out_);
    drawn_ = false;
    if (!summary.empty()) std::fprintf(out_, "%s\n", summary.c_str());
    std::fflush(out_);
}

}  // namespace engine::apps
