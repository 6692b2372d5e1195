// The Python references of the benches: one persistent subprocess (torch_reference.py, torch_model_reference.py,
// captum_reference.py) spoken to with one JSON line per request and per answer over pipes, and one-shot scripts
// (bench_train's) that print one JSON line.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

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

// ref.start(), then one line on stdout: which PyTorch runs with how many threads and rounds, or why none does.
bool start_reported(TorchReference& ref, const std::string& python, const std::string& script, int threads, int rounds);

// When the reference runs: times one case, appends its milliseconds to `into` and returns true, or says on stderr
// that it failed on `what` and returns false.
bool time_reference(TorchReference& ref, const std::string& case_json, const std::string& what,
                    std::vector<double>& into);

// The reference's torch version as a JSON string, or null when it does not run.
std::string torch_version_json(const TorchReference& ref);

// Runs `python script args...` to the end and returns its last JSON object line, or nullopt (with the reason on
// stderr) when it fails or prints none.
std::optional<std::string> run_script(const std::string& python, const std::string& script,
                                      const std::vector<std::string>& args);

// `s` as one single-quoted shell word.
std::string shell_quote(const std::string& s);

// The value of "key" in a flat JSON object line: a number or a string (unescaped), or nullopt.
std::optional<double> json_number(const std::string& line, const std::string& key);
std::optional<std::string> json_string(const std::string& line, const std::string& key);

}  // namespace engine::bench
