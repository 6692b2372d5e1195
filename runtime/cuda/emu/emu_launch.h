// Kernel launch for the emulator (emu::launch, what kernels/cuda/launch.cuh calls) and the run-time options
// that choose the schedule and the checks: they start from the ENGINE_EMU_* settings (runtime/settings.h),
// and a test changes them with emu::ScopedOptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "runtime/cuda/emu/emu_device.h"
#include "runtime/cuda/emu/emu_types.h"
#include "runtime/settings.h"

namespace emu {

// A bug the emulator detected in a kernel (divergent barrier, bad warp mask, deadlock, out-of-bounds access...).
// The message is one line naming the site, block and thread.
class EmulationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Order in which the threads of a block (and the lanes of a warp) run between synchronisation points.
using Schedule = engine::EmuSchedule;  // Forward, Reverse, Random

struct Options {
    Schedule schedule = Schedule::Forward;
    uint64_t seed = 0;          // for Schedule::Random
    // A fresh OS thread per launch running the blocks in order (static __shared__ starts zeroed each launch),
    // divergent-barrier and warp mask/site checks, dynamic shared memory poisoned with 0xFF at each block start.
    bool check = false;
    bool guard_memory = false;  // cudaMalloc places each allocation against a PROT_NONE guard page
    int threads = 0;            // OS threads running blocks; 0 = OpenMP's default (check mode always uses 1)

    // From ENGINE_EMU_SCHEDULE, ENGINE_EMU_CHECK, ENGINE_EMU_GUARD (default: as CHECK), ENGINE_EMU_THREADS;
    // the options in effect start from engine::settings() at the emulator's first use.
    static Options from_settings(const engine::Settings& settings);
    std::string str() const;
};

Options options();
void set_options(const Options& options);

// Sets the options for its lifetime (tests), restoring the previous ones after.
class ScopedOptions {
public:
    explicit ScopedOptions(const Options& options) : saved_(::emu::options()) { set_options(options); }
    ~ScopedOptions() { set_options(saved_); }
    ScopedOptions(const ScopedOptions&) = delete;
    ScopedOptions& operator=(const ScopedOptions&) = delete;

private:
    Options saved_;
};

// Counters for tests and benchmarks: how often blocks left direct mode and how many context switches ran.
struct Stats {
    uint64_t launches = 0;
    uint64_t blocks = 0;
    uint64_t promoted_blocks = 0;
    uint64_t switches = 0;
};
Stats stats();
void reset_stats();

namespace detail {

// The type-erased kernel a launch runs: run_direct executes threads of the current block one after another
// on the calling stack until one of them reaches a barrier (which promotes the block to fibers); run_one runs
// the current thread to completion (on its fiber).
struct DirectCursor {
    const uint32_t* order;  // linear thread ids in schedule order
    const uint3* index;     // threadIdx by linear id
    uint32_t pos;
    uint32_t count;
    bool promoted;
};
struct KernelThunk {
    void (*run_direct)(const void* ctx, DirectCursor* cursor);
    void (*run_one)(const void* ctx);
    const void* ctx;
    const void* kernel;
};

void launch_kernel(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, const KernelThunk& thunk);
inline void enter_direct_thread(DirectCursor* cursor) {
    const uint32_t tid = cursor->order[cursor->pos];
    tls_builtins.thread_idx = cursor->index[tid];
    tls_builtins.linear_tid = tid;
}

template <class Kernel, class Tuple>
struct LaunchContext {
    Kernel kernel;
    Tuple params;
};

template <class Ctx>
void run_one(const void* p) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    std::apply(c.kernel, c.params);
}

template <class Ctx>
void run_direct(const void* p, DirectCursor* cursor) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    while (cursor->pos < cursor->count) {
        enter_direct_thread(cursor);
        std::apply(c.kernel, c.params);
        ++cursor->pos;
        if (cursor->promoted) return;
    }
}

}  // namespace detail

// kernel<<<grid, block, shared_bytes, stream>>>(args...): the arguments are converted to the kernel's parameter
// types and copied once, like CUDA's by-value parameters; each thread gets its own copy of them. Configuration
// errors set the last error (cudaGetLastError); bugs found while running throw EmulationError.
template <class... Params, class... Args>
void launch(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream, void (*kernel)(Params...),
            Args&&... args) {
    static_assert(sizeof...(Params) == sizeof...(Args), "emu::launch: wrong number of kernel arguments");
    using Tuple = std::tuple<std::decay_t<Params>...>;
    using Ctx = detail::LaunchContext<void (*)(Params...), Tuple>;
    const Ctx ctx{kernel, Tuple(std::forward<Args>(args)...)};
    const detail::KernelThunk thunk{&detail::run_direct<Ctx>, &detail::run_one<Ctx>, &ctx,
                                    reinterpret_cast<const void*>(kernel)};
    detail::launch_kernel(grid, block, shared_bytes, stream, thunk);
}

namespace detail {

// kernel<<<cfg>>>(args) in a .cu file is rewritten for the emulated build (emulated_sources.cmake) into
// kernel * ::emu::detail::chevron(cfg)(args); a bug found while running sets cudaErrorLaunchFailure, whose
// cudaGetErrorString then carries the emulator's message.
void record_launch_failure(const char* message);

template <class... Args>
struct PendingLaunch {
    dim3 grid, block;
    size_t shared_bytes;
    cudaStream_t stream;
    std::tuple<Args...> args;
};

struct Chevron {
    dim3 grid, block;
    size_t shared_bytes;
    cudaStream_t stream;
    template <class... Args>
    PendingLaunch<std::decay_t<Args>...> operator()(Args&&... args) const {
        return {grid, block, shared_bytes, stream, std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)};
    }
};

inline Chevron chevron(dim3 grid, dim3 block, size_t shared_bytes = 0, cudaStream_t stream = nullptr) {
    return Chevron{grid, block, shared_bytes, stream};
}

template <class... Params, class... Args>
void operator*(void (*kernel)(Params...), PendingLaunch<Args...>&& pending) {
    try {
        std::apply([&](auto&... a) { ::emu::launch(pending.grid, pending.block, pending.shared_bytes,
                                                   pending.stream, kernel, a...); },
                   pending.args);
    } catch (const EmulationError& e) {
        record_launch_failure(e.what());
    }
}

}  // namespace detail
}  // namespace emu
