// The Python reference subprocesses of the benches (POSIX pipes + fork/exec, popen for one-shot scripts) and the
// small JSON readers their answers need.
#include "bench/reference.h"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

namespace engine::bench {

std::optional<double> json_number(const std::string& line, const std::string& key) {
    const std::string pattern = "\"" + key + "\":";
    size_t pos = line.find(pattern);
    if (pos == std::string::npos) return std::nullopt;
    pos += pattern.size();
    while (pos < line.size() && line[pos] == ' ') ++pos;
    const char* begin = line.c_str() + pos;
    char* end = nullptr;
    const double value = std::strtod(begin, &end);
    if (end == begin) return std::nullopt;
    return value;
}

std::optional<std::string> json_string(const std::string& line, const std::string& key) {
    const std::string pattern = "\"" + key + "\":";
    size_t pos = line.find(pattern);
    if (pos == std::string::npos) return std::nullopt;
    pos = line.find('"', pos + pattern.size());
    if (pos == std::string::npos) return std::nullopt;
    std::string out;
    for (size_t i = pos + 1; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            const char c = line[++i];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else if (line[i] == '"') {
            return out;
        } else {
            out += line[i];
        }
    }
    return std::nullopt;
}

TorchReference::~TorchReference() { stop(); }

bool TorchReference::start(const std::string& python, const std::string& script, int threads) {
    std::signal(SIGPIPE, SIG_IGN);  // a reference that died must not kill the bench
    int to_fds[2], from_fds[2];
    if (pipe(to_fds) != 0 || pipe(from_fds) != 0) {
        reason_ = "could not create pipes";
        return false;
    }
    child_ = fork();
    if (child_ < 0) {
        reason_ = "fork failed";
        return false;
    }
    if (child_ == 0) {
        dup2(to_fds[0], STDIN_FILENO);
        dup2(from_fds[1], STDOUT_FILENO);
        close(to_fds[0]), close(to_fds[1]), close(from_fds[0]), close(from_fds[1]);
        execlp(python.c_str(), python.c_str(), "-u", script.c_str(), static_cast<char*>(nullptr));
        const std::string msg = "{\"error\": \"cannot run " + python + ": " + std::strerror(errno) + "\"}\n";
        if (write(STDOUT_FILENO, msg.data(), msg.size()) < 0) _exit(127);
        _exit(127);
    }
    close(to_fds[0]);
    close(from_fds[1]);
    to_child_ = fdopen(to_fds[1], "w");
    from_child_ = fdopen(from_fds[0], "r");
    const auto reply = request("{\"kind\": \"init\", \"threads\": " + std::to_string(threads) + "}");
    if (!reply) {
        reason_ = last_error_;
        stop();
        return false;
    }
    version_ = json_string(*reply, "torch").value_or("?");
    return true;
}

std::optional<std::string> TorchReference::request(const std::string& line) {
    if (!to_child_ || !from_child_) {
        last_error_ = "the reference is not running";
        return std::nullopt;
    }
    // A failed write still reads: a child that could not start wrote why before exiting.
    const bool sent = std::fprintf(to_child_, "%s\n", line.c_str()) >= 0 && std::fflush(to_child_) == 0;
    char* buffer = nullptr;
    size_t capacity = 0;
    const ssize_t n = getline(&buffer, &capacity, from_child_);
    std::string reply = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
    std::free(buffer);
    if (n <= 0) {
        last_error_ = sent ? "the reference process exited without answering" : "the reference process stopped reading";
        return std::nullopt;
    }
    if (auto error = json_string(reply, "error")) {
        last_error_ = *error;
        return std::nullopt;
    }
    return reply;
}

std::optional<double> TorchReference::time_ms(const std::string& case_json) {
    const auto reply = request(case_json);
    if (!reply) return std::nullopt;
    auto ms = json_number(*reply, "ms");
    if (!ms) last_error_ = "no \"ms\" in the answer: " + *reply;
    return ms;
}

void TorchReference::stop() {
    if (to_child_) {
        std::fprintf(to_child_, "{\"kind\": \"quit\"}\n");
        std::fclose(to_child_);
        to_child_ = nullptr;
    }
    if (from_child_) {
        std::fclose(from_child_);
        from_child_ = nullptr;
    }
    if (child_ > 0) {
        int status = 0;
        waitpid(child_, &status, 0);
        child_ = -1;
    }
}

bool start_reported(TorchReference& ref, const std::string& python, const std::string& script, int threads,
                    int rounds) {
    const bool started = ref.start(python, script, threads);
    if (started) {
        std::printf("PyTorch %s reference (%s), %d threads on both sides, %d rounds\n", ref.torch_version().c_str(),
                    python.c_str(), threads, rounds);
    } else {
        std::printf("PyTorch not available: %s; skipping the reference comparison\n", ref.reason().c_str());
        std::printf("%d threads, %d rounds\n", threads, rounds);
    }
    return started;
}

bool time_reference(TorchReference& ref, const std::string& case_json, const std::string& what,
                    std::vector<double>& into) {
    if (!ref.available()) return false;
    const auto ms = ref.time_ms(case_json);
    if (!ms) {
        std::fprintf(stderr, "PyTorch reference failed on %s: %s\n", what.c_str(), ref.last_error().c_str());
        return false;
    }
    into.push_back(*ms);
    return true;
}

std::string torch_version_json(const TorchReference& ref) {
    return ref.available() ? "\"" + ref.torch_version() + "\"" : std::string("null");
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::optional<std::string> run_script(const std::string& python, const std::string& script,
                                      const std::vector<std::string>& args) {
    std::string command = shell_quote(python) + " " + shell_quote(script);
    for (const std::string& a : args) command += " " + shell_quote(a);
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return std::nullopt;
    std::string output;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
    const int status = pclose(pipe);
    const size_t start = output.rfind('{');
    if (status != 0 || start == std::string::npos) {
        std::fprintf(stderr, "bench: %s failed (status %d): %s\n", script.c_str(), status, output.c_str());
        return std::nullopt;
    }
    return output.substr(start);
}

}  // namespace engine::bench
