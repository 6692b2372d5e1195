// Kernel launches: configuration checks, the options, blocks spread over OpenMP threads (one OS thread in check
// mode; a block never changes OS thread), the dynamic shared memory arena, and the SIGSEGV/SIGBUS handler that
// turns a fault inside a launch (guard page of an allocation, of shared memory or of a fiber stack) into an
// EmulationError for that launch.
#undef _FORTIFY_SOURCE  // a fortified longjmp refuses to leave a fiber or signal stack

#include <omp.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "runtime/cuda/emu/emu_fiber.h"
#include "runtime/cuda/emu/emu_internal.h"
#include "runtime/settings.h"

namespace emu {
namespace {

std::mutex options_mutex;

Options& current_options() {
    static Options options = Options::from_settings(engine::settings());
    return options;
}

std::atomic<uint64_t> stat_launches{0}, stat_blocks{0}, stat_promoted{0}, stat_switches{0};

}  // namespace

Options Options::from_settings(const engine::Settings& s) {
    Options o;
    o.schedule = s.emu_schedule;
    o.seed = s.emu_seed;
    o.check = s.emu_check;
    o.guard_memory = s.emu_guard.value_or(s.emu_check);
    o.threads = s.emu_threads;
    return o;
}

std::string Options::str() const {
    std::string s = schedule == Schedule::Forward   ? "forward"
                    : schedule == Schedule::Reverse ? "reverse"
                                                    : "random:" + std::to_string(seed);
    return "schedule " + s + (check ? ", check" : "") + (guard_memory ? ", guarded memory" : "");
}

Options options() {
    std::lock_guard<std::mutex> lock(options_mutex);
    return current_options();
}

void set_options(const Options& o) {
    std::lock_guard<std::mutex> lock(options_mutex);
    current_options() = o;
}

Stats stats() { return Stats{stat_launches.load(), stat_blocks.load(), stat_promoted.load(), stat_switches.load()}; }

void reset_stats() {
    stat_launches = 0;
    stat_blocks = 0;
    stat_promoted = 0;
    stat_switches = 0;
}

namespace detail {
namespace {

constexpr size_t kMaxSharedBytes = 48 * 1024;
constexpr size_t kMaxSharedOptinBytes = 227 * 1024;
constexpr size_t kArenaBytes = 256 * 1024;
constexpr size_t kAltStackBytes = 64 * 1024;

size_t page_size() {
    static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

// Dynamic shared memory: the launch's bytes end right at a PROT_NONE page, so overruns fault.
struct SharedArena {
    char* base = nullptr;  // kArenaBytes usable, then one guard page
    SharedArena() {
        void* p = mmap(nullptr, kArenaBytes + page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        base = static_cast<char*>(p);
        mprotect(base + kArenaBytes, page_size(), PROT_NONE);
    }
    ~SharedArena() { munmap(base, kArenaBytes + page_size()); }
    char* guard() const { return base + kArenaBytes; }
};

std::mutex arena_mutex;
std::vector<std::unique_ptr<SharedArena>> idle_arenas;

struct ArenaHolder {
    std::unique_ptr<SharedArena> arena;
    ~ArenaHolder() {
        if (!arena) return;
        std::lock_guard<std::mutex> lock(arena_mutex);
        idle_arenas.push_back(std::move(arena));
    }
};

SharedArena& thread_arena() {
    thread_local ArenaHolder holder;
    if (!holder.arena) {
        std::lock_guard<std::mutex> lock(arena_mutex);
        if (!idle_arenas.empty()) {
            holder.arena = std::move(idle_arenas.back());
            idle_arenas.pop_back();
        }
    }
    if (!holder.arena) holder.arena = std::make_unique<SharedArena>();
    return *holder.arena;
}
__thread char* tls_arena_guard __attribute__((tls_model("initial-exec"))) = nullptr;
__thread size_t tls_arena_bytes __attribute__((tls_model("initial-exec"))) = 0;

// ---- faults
struct FaultJump {
    sigjmp_buf buf;
    void* volatile addr;
    volatile int sig;
};
__thread FaultJump* tls_fault_jump __attribute__((tls_model("initial-exec"))) = nullptr;
struct sigaction previous_segv, previous_bus;

void fault_handler(int sig, siginfo_t* info, void*) {
    FaultJump* jump = tls_fault_jump;
    if (jump) {
        tls_fault_jump = nullptr;
        jump->addr = info->si_addr;
        jump->sig = sig;
        siglongjmp(jump->buf, 1);
    }
    // Not a kernel's fault: restore the previous disposition; returning re-executes the access under it.
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
}

void install_fault_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = &fault_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &previous_segv);
        sigaction(SIGBUS, &sa, &previous_bus);
    });
    // A fiber stack overflow faults with no stack left: the handler needs an alternate one on each OS thread.
    struct AltStack {
        std::unique_ptr<char[]> memory;
        AltStack() {
            stack_t current;
            if (sigaltstack(nullptr, &current) != 0 || !(current.ss_flags & SS_DISABLE)) return;
            memory.reset(new char[kAltStackBytes]);
            stack_t ss;
            ss.ss_sp = memory.get();
            ss.ss_size = kAltStackBytes;
            ss.ss_flags = 0;
            sigaltstack(&ss, nullptr);
        }
        ~AltStack() {
            if (!memory) return;
            stack_t ss;
            std::memset(&ss, 0, sizeof ss);
            ss.ss_flags = SS_DISABLE;
            sigaltstack(&ss, nullptr);
        }
    };
    thread_local AltStack altstack;
    (void)altstack;
}

std::string describe_fault(const void* addr, int sig) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", addr);
    const auto a = reinterpret_cast<uintptr_t>(addr);
    const auto guard = reinterpret_cast<uintptr_t>(tls_arena_guard);
    if (guard && a >= guard && a < guard + page_size()) {
        return "out-of-bounds dynamic shared memory access at " + std::string(buf) + ", " +
               std::to_string(a - guard) + " bytes past the end of the launch's " +
               std::to_string(tls_arena_bytes) + " bytes";
    }
    const int slot = thread_stack_pool().guard_slot(addr);
    if (slot >= 0) return "stack overflow: a thread used more than its 64 KiB fiber stack";
    const std::string device = describe_device_address(addr);
    if (!device.empty()) return "invalid global memory access at " + std::string(buf) + ": " + device;
    return std::string(sig == SIGBUS ? "bus error" : "invalid memory access") + " at " + buf +
           " (not in or near any device allocation)";
}

// ---- one launch
struct LaunchState {
    std::atomic<uint64_t> next_block{0};
    std::atomic<bool> stop{false};
    uint64_t total_blocks = 0;
    uint64_t chunk = 1;
    std::mutex mutex;
    std::exception_ptr error;
    uint64_t switches = 0, promoted = 0;

    void record(std::exception_ptr e) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = e;
        stop = true;
    }
};

void run_blocks(const LaunchInfo& launch, LaunchState& state) {
    FaultJump jump;
    try {
        install_fault_handler();
        SharedArena& arena = thread_arena();
        prepare_thread_for_launch(launch);
        const size_t shared_rounded = (launch.shared_bytes + 15) & ~size_t{15};
        char* shared = arena.guard() - shared_rounded;
        tls_builtins.dynamic_shared = shared;
        tls_arena_guard = arena.guard();
        tls_arena_bytes = launch.shared_bytes;
        const dim3 g = launch.grid;
        const bool poison = launch.options.check;
        if (sigsetjmp(jump.buf, 0) != 0) {
            const std::string where = current_thread_description();
            state.record(std::make_exception_ptr(
                EmulationError("CUDA emulator: " + describe_fault(jump.addr, jump.sig) + " (" + where + ")")));
        } else {
            tls_fault_jump = &jump;
            while (!state.stop.load(std::memory_order_relaxed)) {
                const uint64_t first = state.next_block.fetch_add(state.chunk, std::memory_order_relaxed);
                if (first >= state.total_blocks) break;
                const uint64_t last = std::min(first + state.chunk, state.total_blocks);
                for (uint64_t linear = first; linear < last; ++linear) {
                    const uint3 idx{static_cast<unsigned>(linear % g.x), static_cast<unsigned>((linear / g.x) % g.y),
                                    static_cast<unsigned>(linear / (static_cast<uint64_t>(g.x) * g.y))};
                    if (poison) std::memset(shared, 0xff, shared_rounded);
                    run_block(launch, idx);
                }
            }
            tls_fault_jump = nullptr;
        }
    } catch (...) {
        tls_fault_jump = nullptr;
        state.record(std::current_exception());
    }
    const ThreadLaunchStats s = finish_thread_launch();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.switches += s.switches;
    state.promoted += s.promoted_blocks;
}

cudaError_t validate(dim3 grid, dim3 block, size_t shared_bytes, const void* kernel) {
    const uint64_t threads = static_cast<uint64_t>(block.x) * block.y * block.z;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0) return cudaErrorInvalidConfiguration;
    if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) return cudaErrorInvalidConfiguration;
    if (block.x > 1024 || block.y > 1024 || block.z > 64 || threads > 1024) return cudaErrorInvalidConfiguration;
    if (shared_bytes > std::max(kMaxSharedBytes, std::min(kMaxSharedOptinBytes, max_dynamic_shared(kernel))))
        return cudaErrorInvalidValue;
    return cudaSuccess;
}

}  // namespace

[[noreturn]] void throw_error(const std::string& message) { throw EmulationError(message); }

void launch_kernel(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t, const KernelThunk& thunk) {
    const cudaError_t config = validate(grid, block, shared_bytes, thunk.kernel);
    if (config != cudaSuccess) {
        set_last_error(config);
        return;
    }
    const LaunchInfo launch{grid, block, shared_bytes, &thunk, options()};
    LaunchState state;
    state.total_blocks = static_cast<uint64_t>(grid.x) * grid.y * grid.z;
    int threads = launch.options.threads > 0 ? launch.options.threads : omp_get_max_threads();
    if (launch.options.check || omp_in_parallel()) threads = 1;
    threads = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(std::max(threads, 1)), state.total_blocks));
    state.chunk = std::max<uint64_t>(1, state.total_blocks / (static_cast<uint64_t>(threads) * 8));
    if (launch.options.check) {
        // A fresh OS thread per launch: its __shared__ variables (thread-local) start zeroed instead of holding
        // what an earlier launch left there, which would hide reads of shared memory no thread of this block
        // wrote (a missing barrier, a schedule-dependent race).
        std::thread worker([&] { run_blocks(launch, state); });
        worker.join();
    } else if (threads == 1) {
        run_blocks(launch, state);
    } else {
#pragma omp parallel num_threads(threads)
        run_blocks(launch, state);
    }
    ++stat_launches;
    stat_blocks += state.total_blocks;
    stat_promoted += state.promoted;
    stat_switches += state.switches;
    if (state.error) std::rethrow_exception(state.error);
    const std::string red_zone = check_red_zones();
    if (!red_zone.empty()) throw EmulationError(red_zone);
}

}  // namespace detail
}  // namespace emu
