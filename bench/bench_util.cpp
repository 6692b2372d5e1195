// Clocks, medians, formatting and command-line reading shared by the bench/ programs.
#include "bench/bench_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/settings.h"

#ifndef ENGINE_BENCH_DIR
#define ENGINE_BENCH_DIR "bench"
#endif

namespace engine::bench {

double wall_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_ms() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-3;
}

double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

namespace {

Sample timed_medians(const std::function<void()>& fn, int warmup, int reps, bool with_cpu) {
    for (int i = 0; i < warmup; ++i) fn();
    std::vector<double> walls, cpus;
    for (int i = 0; i < reps; ++i) {
        const double w0 = wall_ms(), c0 = with_cpu ? cpu_ms() : 0.0;
        fn();
        walls.push_back(wall_ms() - w0);
        if (with_cpu) cpus.push_back(cpu_ms() - c0);
    }
    return {median(walls), median(cpus)};
}

}  // namespace

Sample measure(const std::function<void()>& fn, int warmup, int reps) { return timed_medians(fn, warmup, reps, true); }

double median_ms(const std::function<void()>& fn, int warmup, int reps) {
    return timed_medians(fn, warmup, reps, false).wall;
}

double load_average() {
    double load = -1.0;
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = -1.0;
        std::fclose(f);
    }
    return load;
}

double load_average_noted() {
    const double load = load_average();
    if (load > 0.5) std::printf("note: 1-minute load average %.2f before starting; time on a quiet machine\n", load);
    return load;
}

std::string fmt(double v, int precision) {
    if (!std::isfinite(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
    return buf;
}

std::string json_num(double v) { return std::isfinite(v) ? fmt(v, 4) : "null"; }

bool write_text_file(const std::string& path, const std::string& text, const char* program) {
    std::ofstream file(path);
    file << text;
    if (file.flush()) return true;
    std::fprintf(stderr, "%s: cannot write %s\n", program, path.c_str());
    return false;
}

namespace {

// Fail is a std::function, which cannot be [[noreturn]]: this keeps a caller from going on should one return.
[[noreturn]] void fail_and_exit(const Fail& fail, const std::string& message) {
    fail(message);
    std::exit(2);
}

}  // namespace

void exit_with_usage(const char* program, const std::string& message, int status, const char* usage) {
    std::fprintf(status ? stderr : stdout, "%s: %s\n%s", program, message.c_str(), usage);
    std::exit(status);
}

bool Args::next() {
    if (++index_ >= argc_) return false;
    arg_ = argv_[index_];
    return true;
}

std::string Args::value() {
    if (index_ + 1 >= argc_) fail_and_exit(fail_, "missing value after " + arg_);
    return argv_[++index_];
}

ReferenceOptions::ReferenceOptions(const std::string& script_file, std::string json_file)
    : python(default_python("python3")), script(bench_file(script_file)), json_path(std::move(json_file)) {}

bool ReferenceOptions::read(Args& args) {
    const std::string& arg = args.arg();
    if (arg == "--python") python = args.value();
    else if (arg == "--json") json_path = args.value();
    else if (arg == "--script") script = args.value();
    else if (arg == "--threads") threads = std::atoi(args.value().c_str());
    else if (arg == "--rounds") rounds = std::atoi(args.value().c_str());
    else if (arg == "--quick") quick = true;
    else return false;
    return true;
}

Flags::Flags(int argc, char** argv, int first, const std::vector<std::string>& switches, Fail fail)
    : fail_(std::move(fail)) {
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) fail_and_exit(fail_, "unexpected argument '" + arg + "'");
        const std::string name = arg.substr(2);
        if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
            values_[name] = "1";
            continue;
        }
        if (i + 1 >= argc) fail_and_exit(fail_, "--" + name + " needs a value");
        values_[name] = argv[++i];
    }
}

std::string Flags::get(const std::string& name, const std::string& fallback) const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

int64_t Flags::get_int(const std::string& name, int64_t fallback) const {
    const auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    try {
        return std::stoll(it->second);
    } catch (const std::exception&) {
        fail_and_exit(fail_, "--" + name + " expects an integer");
    }
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

std::string default_python(const std::string& fallback) {
    const std::string python = setting(&Settings::bench_python);  // ENGINE_BENCH_PYTHON
    return python.empty() ? fallback : python;
}

std::string bench_file(const std::string& name) { return std::string(ENGINE_BENCH_DIR) + "/" + name; }

}  // namespace engine::bench
