// The PyTorch reference of bench_cpu: one persistent Python subprocess running torch_reference.py, spoken to
// with one JSON line per request and per answer over pipes.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <sys/types.h>

namespace engine::bench {

class TorchReference {
public:
    TorchReference() = default;
    ~TorchReference();
    TorchReference(const TorchReference&) = delete;
    TorchReference& operator=(const TorchReference&) = delete;

    // Starts `python -u script` and asks it to use `threads` threads. On failure returns false and sets
    // reason(); the bench then reports our numbers only.
    bool start(const std::string& python, const std::string& script, int threads);
    bool available() const { return child_ > 0 && reason_.empty(); }
    const std::string& reason() const { return reason_; }
    const std::string& torch_version() const { return version_; }

    // Sends one JSON case; returns the median milliseconds it answers, or nullopt with last_error() set.
    std::optional<double> time_ms(const std::string& case_json);
    const std::string& last_error() const { return last_error_; }

private:
    std::optional<std::string> request(const std::string& line);
    void stop();

    pid_t child_ = -1;
    FILE* to_child_ = nullptr;
    FILE* from_child_ = nullptr;
    std::string reason_, version_, last_error_;
};

// The value of "key" in a flat JSON object line: a number or a string (unescaped), or nullopt.
std::optional<double> json_number(const std::string& line, const std::string& key);
std::optional<std::string> json_string(const std::string& line, const std::string& key);

}  // namespace engine::bench
