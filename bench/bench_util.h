// Helpers shared by the bench/ programs: clocks, medians and timed repetitions, number formatting for the tables
// and JSON files, the machine's load, reading the command line, and where the Python references live.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace engine::bench {

// ------------------------------------------------------------------------------------------------ timing

double wall_ms();  // steady clock
double cpu_ms();   // user + system CPU time of this process (every thread)

class Stopwatch {
public:
    double ms() const { return wall_ms() - start_ms_; }
    double seconds() const { return ms() * 1e-3; }

private:
    double start_ms_ = wall_ms();
};

// NaN for an empty sample: "not measured" (shown as "-" in tables, null in JSON).
double median(std::vector<double> v);

struct Sample {
    double wall, cpu;
};

// Median wall and CPU time (ms) of `reps` calls after `warmup` untimed ones.
Sample measure(const std::function<void()>& fn, int warmup, int reps);

// The same, wall time only: calls of a few microseconds must not pay for reading the CPU time.
double median_ms(const std::function<void()>& fn, int warmup, int reps);

// The 1-minute load average, to tell a quiet machine from a busy one in the report (-1 when unknown).
double load_average();

// load_average(), with a note on stdout when the machine is not quiet.
double load_average_noted();

// ------------------------------------------------------------------------------------------------ formatting

std::string fmt(double v, int precision);  // "-" when not finite
std::string json_num(double v);            // 4 decimals; null when not finite

// Writes `text` to `path`; false, with "PROGRAM: cannot write PATH" on stderr, when that fails.
bool write_text_file(const std::string& path, const std::string& text, const char* program);

// ------------------------------------------------------------------------------------------------ command line

// Prints "PROGRAM: MESSAGE" and the usage text, on stdout for --help (status 0) or else on stderr, and exits.
[[noreturn]] void exit_with_usage(const char* program, const std::string& message, int status, const char* usage);

// Reports a command-line error and exits (a bench's usage()).
using Fail = std::function<void(const std::string& message)>;

// Walks argv[1..] for the benches with a fixed set of options:
//   while (args.next()) { if (args.arg() == "--json") o.json_path = args.value(); else ... }
class Args {
public:
    Args(int argc, char** argv, Fail fail) : argc_(argc), argv_(argv), fail_(std::move(fail)) {}
    bool next();
    const std::string& arg() const { return arg_; }
    // The argument after the current one; fail("missing value after ARG") when there is none.
    std::string value();

private:
    int argc_;
    char** argv_;
    Fail fail_;
    int index_ = 0;
    std::string arg_;
};

// The options of the benches that time against a persistent Python reference (bench_cpu, bench_model).
struct ReferenceOptions {
    ReferenceOptions(const std::string& script_file, std::string json_file);
    // Takes --python, --json, --script, --threads, --rounds and --quick; false for any other argument.
    bool read(Args& args);

    std::string python;     // $ENGINE_BENCH_PYTHON or python3 unless --python
    std::string script;     // the reference in bench/ unless --script
    std::string json_path;  // where the results go
    bool quick = false;
    int threads = 0;  // 0: the engine's default
    int rounds = 0;   // 0: the bench's default
};

// `--name value` pairs and bare `--switch`es (stored as "1") from argv[first..], keyed by the name without dashes,
// for the benches whose options differ per case.
class Flags {
public:
    Flags(int argc, char** argv, int first, const std::vector<std::string>& switches, Fail fail);
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::string get(const std::string& name, const std::string& fallback) const;
    // fail("--NAME expects an integer") when the value is not one.
    int64_t get_int(const std::string& name, int64_t fallback) const;
    const std::map<std::string, std::string>& values() const { return values_; }

private:
    std::map<std::string, std::string> values_;
    Fail fail_;
};

// "a,b,,c" -> {"a", "b", "c"}: the items of a comma-separated list, empty ones dropped.
std::vector<std::string> split_commas(const std::string& s);

// $ENGINE_BENCH_PYTHON when set and not empty, else `fallback`.
std::string default_python(const std::string& fallback);

// The path of a file in bench/ (the Python references), from the build's ENGINE_BENCH_DIR.
std::string bench_file(const std::string& name);

}  // namespace engine::bench
