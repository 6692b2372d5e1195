// The engine's run-time settings: every ENGINE_* environment variable, read in one place (settings.cpp), once,
// on first use, with one policy. An empty variable counts as unset; any other value a variable does not accept
// throws engine::Error naming the variable, the value and the accepted values, and every variable is checked at
// that first read, even one the program never uses, so a typo fails at once instead of being ignored. The
// README's "Environment variables" table lists them all.
//
// Code reads one value with setting(&Settings::field); a test changes one for a scope with ScopedSetting. Both
// are process-wide, like the environment. Values read once when their object is created (the allocators' limits,
// the emulator's options) do not follow a later ScopedSetting: the emulator's have emu::ScopedOptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/function_ref.h"

namespace engine {

namespace cuda {
// Which implementation the CUDA backend uses for matmul and convolution (kernels/cuda/kernel_choice.h).
enum class GemmImpl { Cublas, Own };
enum class ConvImpl { Cudnn, Own };
}  // namespace cuda

// The layout and the algorithm of oneDNN's convolutions, when forced (kernels/cpu/conv_onednn.cpp).
enum class ConvLayout : int64_t { Any, Plain, ChannelsLast };
enum class ConvAlgo : int64_t { Direct, Winograd };

// Order in which the CUDA emulator runs the threads of a block (runtime/cuda/emu/emu_launch.h).
enum class EmuSchedule { Forward, Reverse, Random };

// One field per variable, holding its default until the environment says otherwise.
struct Settings {
    std::optional<size_t> cpu_cache_mb;                 // ENGINE_CPU_CACHE_MB; unset: a quarter of the RAM
    size_t conv_weight_cache_mb = 1024;                 // ENGINE_CONV_WEIGHT_CACHE_MB
    std::optional<ConvLayout> conv_layout;              // ENGINE_CONV_LAYOUT; unset: chosen per layer
    std::optional<ConvAlgo> conv_algo;                  // ENGINE_CONV_ALGO; unset: chosen per layer
    cuda::GemmImpl cuda_gemm = cuda::GemmImpl::Cublas;  // ENGINE_CUDA_GEMM
    cuda::ConvImpl cuda_conv = cuda::ConvImpl::Cudnn;   // ENGINE_CUDA_CONV
    bool cuda_allow_tf32 = false;                       // ENGINE_CUDA_ALLOW_TF32
    bool cuda_no_caching = false;                       // ENGINE_CUDA_NO_CACHING
    EmuSchedule emu_schedule = EmuSchedule::Forward;    // ENGINE_EMU_SCHEDULE
    uint64_t emu_seed = 0;                              // its random:SEED (plain "random": 1)
    bool emu_check = false;                             // ENGINE_EMU_CHECK
    std::optional<bool> emu_guard;                      // ENGINE_EMU_GUARD; unset: as emu_check
    int emu_threads = 0;                                // ENGINE_EMU_THREADS; 0: OpenMP's default
    std::string bench_python;                           // ENGINE_BENCH_PYTHON; empty: unset

    // The settings given by `values` (variable name -> value; absent or empty: unset). Throws Error for a bad
    // value, or for a name that is not one of setting_names() (a typo in a test).
    static Settings parse(const std::map<std::string, std::string>& values);
    // Reads the environment now. The settings in effect were read once and do not change: for tests of reading.
    static Settings from_environment();
};

// The names of all the variables, in the README table's order.
const std::vector<std::string>& setting_names();

namespace detail {
// Calls `read` with the settings in effect: the environment's, read at the first call (Error if a value is
// bad), or while a ScopedSetting is alive, under a lock, the overridden copy.
void read_settings(FunctionRef<void(const Settings&)> read);
// Calls `change` on the overridden copy under the lock and adds `delta` to the count of live overrides; the
// first override starts the copy from the environment's settings.
void change_settings(FunctionRef<void(Settings&)> change, int delta);

template <class T>
struct TypeIdentity {
    using type = T;
};
}  // namespace detail

// The settings in effect (a copy).
Settings settings();

// One value of the settings in effect: setting(&Settings::conv_algo). Cheap enough to call per op.
template <class T>
T setting(T Settings::*field) {
    T value{};
    detail::read_settings([&](const Settings& s) { value = s.*field; });
    return value;
}

// Sets one value for its lifetime and restores the previous one after (tests, and code that must pin a choice):
//   ScopedSetting algo(&Settings::conv_algo, ConvAlgo::Direct);
// Guards nest; they are process-wide, so guards on several threads at once must end in reverse order.
template <class T>
class ScopedSetting {
public:
    // The value's type follows the field's, so that ScopedSetting(&Settings::cpu_cache_mb, 0) compiles.
    ScopedSetting(T Settings::*field, typename detail::TypeIdentity<T>::type value) : field_(field) {
        detail::change_settings(
            [&](Settings& s) {
                previous_ = std::move(s.*field_);
                s.*field_ = std::move(value);
            },
            +1);
    }
    ~ScopedSetting() {
        detail::change_settings([&](Settings& s) { s.*field_ = std::move(previous_); }, -1);
    }
    ScopedSetting(const ScopedSetting&) = delete;
    ScopedSetting& operator=(const ScopedSetting&) = delete;

private:
    T Settings::*field_;
    T previous_{};
};

}  // namespace engine
