// The one reader of the ENGINE_* environment variables (settings.h): a table of the variables, each with the
// parser of its type, and the settings in effect with their scoped overrides.
#include "runtime/settings.h"

#include <atomic>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>

#include "runtime/error.h"

namespace engine {
namespace {

// Every parser reports a bad value the same way.
[[noreturn]] void reject(const char* name, const std::string& value, const std::string& accepted) {
    throw Error(detail::concat(name, "='", value, "' is not valid; accepted: ", accepted));
}

constexpr const char* kBooleans = "1, 0, on, off, true, false";

bool parse_bool(const char* name, const std::string& value) {
    if (value == "1" || value == "on" || value == "true") return true;
    if (value == "0" || value == "off" || value == "false") return false;
    reject(name, value, kBooleans);
}

// The number `text` writes in decimal digits only (no sign, no spaces, no suffix), or none when it is not one or
// exceeds `max`. std::atoll would read "12MB" as 12 and "-1" as a huge size.
std::optional<uint64_t> whole_number(const std::string& text, uint64_t max) {
    if (text.empty()) return std::nullopt;
    uint64_t result = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (result > (max - digit) / 10) return std::nullopt;
        result = result * 10 + digit;
    }
    return result;
}

// A size in MiB that still fits size_t once converted to bytes.
size_t parse_megabytes(const char* name, const std::string& value) {
    if (const auto mb = whole_number(value, std::numeric_limits<size_t>::max() >> 20)) return static_cast<size_t>(*mb);
    reject(name, value, "a whole number of MiB (0 disables)");
}

int parse_thread_count(const char* name, const std::string& value) {
    if (const auto count = whole_number(value, std::numeric_limits<int>::max())) return static_cast<int>(*count);
    reject(name, value, "a whole number of threads (0: OpenMP's default)");
}

template <class E>
E parse_choice(const char* name, const std::string& value, std::initializer_list<std::pair<const char*, E>> choices) {
    std::string accepted;
    for (const auto& [text, choice] : choices) {
        if (value == text) return choice;
        accepted += (accepted.empty() ? "" : ", ") + std::string(text);
    }
    reject(name, value, accepted);
}

// forward, reverse, random (seed 1) or random:SEED.
void parse_emu_schedule(const char* name, const std::string& value, Settings& s) {
    const std::string accepted = "forward, reverse, random, random:SEED (SEED a whole number)";
    const std::string random_prefix = "random:";
    if (value.compare(0, random_prefix.size(), random_prefix) == 0) {
        const auto seed = whole_number(value.substr(random_prefix.size()), std::numeric_limits<uint64_t>::max());
        if (!seed) reject(name, value, accepted);
        s.emu_schedule = EmuSchedule::Random;
        s.emu_seed = *seed;
        return;
    }
    // Not parse_choice: its list of accepted values would leave out random:SEED.
    const std::pair<const char*, EmuSchedule> choices[] = {
        {"forward", EmuSchedule::Forward}, {"reverse", EmuSchedule::Reverse}, {"random", EmuSchedule::Random}};
    for (const auto& [text, schedule] : choices) {
        if (value != text) continue;
        s.emu_schedule = schedule;
        s.emu_seed = schedule == EmuSchedule::Random ? 1 : 0;
        return;
    }
    reject(name, value, accepted);
}

// One environment variable: its name and how a (non-empty) value sets the settings.
struct Variable {
    const char* name;
    void (*apply)(const char* name, const std::string& value, Settings& s);
};

// The README's "Environment variables" table lists the same variables in the same order.
const Variable kVariables[] = {
    {"ENGINE_CPU_CACHE_MB",
     [](const char* n, const std::string& v, Settings& s) { s.cpu_cache_mb = parse_megabytes(n, v); }},
    {"ENGINE_CONV_WEIGHT_CACHE_MB",
     [](const char* n, const std::string& v, Settings& s) { s.conv_weight_cache_mb = parse_megabytes(n, v); }},
    {"ENGINE_CONV_LAYOUT",
     [](const char* n, const std::string& v, Settings& s) {
         s.conv_layout = parse_choice<ConvLayout>(
             n, v, {{"any", ConvLayout::Any}, {"plain", ConvLayout::Plain}, {"nhwc", ConvLayout::ChannelsLast}});
     }},
    {"ENGINE_CONV_ALGO",
     [](const char* n, const std::string& v, Settings& s) {
         s.conv_algo = parse_choice<ConvAlgo>(n, v, {{"direct", ConvAlgo::Direct}, {"winograd", ConvAlgo::Winograd}});
     }},
    {"ENGINE_CUDA_GEMM",
     [](const char* n, const std::string& v, Settings& s) {
         s.cuda_gemm =
             parse_choice<cuda::GemmImpl>(n, v, {{"cublas", cuda::GemmImpl::Cublas}, {"own", cuda::GemmImpl::Own}});
     }},
    {"ENGINE_CUDA_CONV",
     [](const char* n, const std::string& v, Settings& s) {
         s.cuda_conv =
             parse_choice<cuda::ConvImpl>(n, v, {{"cudnn", cuda::ConvImpl::Cudnn}, {"own", cuda::ConvImpl::Own}});
     }},
    {"ENGINE_CUDA_ALLOW_TF32",
     [](const char* n, const std::string& v, Settings& s) { s.cuda_allow_tf32 = parse_bool(n, v); }},
    {"ENGINE_CUDA_NO_CACHING",
     [](const char* n, const std::string& v, Settings& s) { s.cuda_no_caching = parse_bool(n, v); }},
    {"ENGINE_EMU_SCHEDULE", &parse_emu_schedule},
    {"ENGINE_EMU_CHECK", [](const char* n, const std::string& v, Settings& s) { s.emu_check = parse_bool(n, v); }},
    {"ENGINE_EMU_GUARD", [](const char* n, const std::string& v, Settings& s) { s.emu_guard = parse_bool(n, v); }},
    {"ENGINE_EMU_THREADS",
     [](const char* n, const std::string& v, Settings& s) { s.emu_threads = parse_thread_count(n, v); }},
    {"ENGINE_BENCH_PYTHON", [](const char*, const std::string& v, Settings& s) { s.bench_python = v; }},
};

const Variable* find_variable(const std::string& name) {
    for (const Variable& variable : kVariables)
        if (name == variable.name) return &variable;
    return nullptr;
}

// The environment's settings, read at the first call. A bad value throws from here, and since a function-local
// static whose initialisation throws is not initialised, every later call reports it again.
const Settings& environment_settings() {
    static const Settings settings = Settings::from_environment();
    return settings;
}

// The settings with the live ScopedSettings applied, valid while live_overrides > 0. Readers skip the lock
// while there are none, which is always outside tests.
std::mutex overrides_mutex;
std::atomic<int> live_overrides{0};

Settings& overridden_settings() {
    static Settings settings;
    return settings;
}

}  // namespace

Settings Settings::parse(const std::map<std::string, std::string>& values) {
    Settings s;
    for (const auto& [name, value] : values) {
        const Variable* variable = find_variable(name);
        ENGINE_CHECK(variable != nullptr, "settings: unknown variable ", name);
        if (!value.empty()) variable->apply(variable->name, value, s);
    }
    return s;
}

Settings Settings::from_environment() {
    std::map<std::string, std::string> values;
    for (const Variable& variable : kVariables)
        if (const char* value = std::getenv(variable.name)) values[variable.name] = value;
    return parse(values);
}

const std::vector<std::string>& setting_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> result;
        for (const Variable& variable : kVariables) result.emplace_back(variable.name);
        return result;
    }();
    return names;
}

namespace detail {

void read_settings(FunctionRef<void(const Settings&)> read) {
    if (live_overrides.load(std::memory_order_acquire) == 0) {
        read(environment_settings());
        return;
    }
    std::lock_guard<std::mutex> lock(overrides_mutex);
    read(overridden_settings());
}

void change_settings(FunctionRef<void(Settings&)> change, int delta) {
    const Settings& environment = environment_settings();  // may throw: before anything changes
    std::lock_guard<std::mutex> lock(overrides_mutex);
    if (live_overrides.load(std::memory_order_relaxed) == 0) overridden_settings() = environment;
    change(overridden_settings());
    live_overrides.fetch_add(delta, std::memory_order_release);
}

}  // namespace detail

Settings settings() {
    Settings copy;
    detail::read_settings([&](const Settings& s) { copy = s; });
    return copy;
}

}  // namespace engine
