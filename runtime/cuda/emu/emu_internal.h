// Internals shared by the emulator's .cpp files (not for kernels): the block scheduler's entry points, device
// memory bookkeeping, fault handling and the per-host-thread last error.
#pragma once

#include <cstddef>
#include <string>

#include "runtime/cuda/emu/emu_runtime.h"

namespace emu::detail {

// ---- scheduler (emu_scheduler.cpp)
struct LaunchInfo {
    dim3 grid;
    dim3 block;
    size_t shared_bytes;
    const KernelThunk* thunk;
    Options options;
};
// Per-OS-thread block runner. prepare() once per launch on each OS thread that runs blocks, then run_block()
// for each block; a bug throws EmulationError (the runner is ready for the next block after that).
void prepare_thread_for_launch(const LaunchInfo& launch);
void run_block(const LaunchInfo& launch, uint3 block_idx);
struct ThreadLaunchStats {
    uint64_t switches;
    uint64_t promoted_blocks;
};
ThreadLaunchStats finish_thread_launch();
// "block (x,y,z), thread (x,y,z)" of what this OS thread was running, for fault reports.
std::string current_thread_description();

// ---- device memory (emu_memory.cpp)
void* device_allocate(size_t bytes, bool guarded);
bool device_free(void* ptr);
size_t device_bytes_in_use();
// Describes addr relative to the allocations it is in or near ("12 bytes past the end of allocation #3 of
// 4000 bytes"); empty when it is near none.
std::string describe_device_address(const void* addr);
// Checks the poisoned red zones of guarded allocations; returns a message for the first one overwritten.
std::string check_red_zones();

// ---- faults (emu_launch.cpp)
[[noreturn]] void throw_error(const std::string& message);

// ---- runtime API state (emu_api.cpp)
void set_last_error(cudaError_t error);
// The dynamic shared memory limit cudaFuncSetAttribute set for a kernel (0 = none).
size_t max_dynamic_shared(const void* kernel);

}  // namespace emu::detail
