// The elapsed-time ticker.
#include "apps/explain/cli_progress.h"

#include <unistd.h>

namespace engine::explain::cli {

Ticker::Ticker(std::string label, FILE* out) : label_(std::move(label)), out_(out) {
    active_ = out_ != nullptr && isatty(fileno(out_)) != 0;
    start_ = std::chrono::steady_clock::now();
    if (active_) thread_ = std::thread([this] { loop(); });
}

Ticker::~Ticker() { stop(); }

void Ticker::stop() {
    if (!active_) return;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
    active_ = false;
}

void Ticker::loop() {
    static const char* const kSpin = "|/-\\";
    int turn = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::fprintf(out_, "\r\033[K  %c %s  %.1f s", kSpin[turn++ % 4], label_.c_str(), seconds);
        std::fflush(out_);
        wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    }
}

}  // namespace engine::explain::cli
