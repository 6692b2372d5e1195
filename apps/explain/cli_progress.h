// Progress for long attribution methods: on a terminal, a line redrawn every quarter second with the elapsed
// time while the method runs (the attribution library has no progress callback); otherwise nothing until the
// summary line.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace engine::explain::cli {

class Ticker {
public:
    // Starts drawing `label` with the elapsed time when `out` is a terminal.
    explicit Ticker(std::string label, FILE* out = stderr);
    ~Ticker();
    Ticker(const Ticker&) = delete;
    Ticker& operator=(const Ticker&) = delete;
    // Stops and clears the line.
    void stop();

private:
    void loop();
    std::string label_;
    FILE* out_;
    bool active_ = false;
    std::chrono::steady_clock::time_point start_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace engine::explain::cli
