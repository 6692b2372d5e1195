// Fibers for the CUDA emulator (internal): a saved execution context, the switch between two of them, and the
// per-OS-thread pool of 64 KiB fiber stacks with a PROT_NONE guard page below each.
#pragma once

#include <cstddef>
#include <cstdint>

#if !defined(__x86_64__) || defined(ENGINE_EMU_UCONTEXT)  // -DENGINE_EMU_UCONTEXT tests the fallback on x86-64
#include <ucontext.h>
#endif

namespace emu::detail {

struct Context {
#if defined(__x86_64__) && !defined(ENGINE_EMU_UCONTEXT)
    void* sp = nullptr;  // callee-saved registers are pushed on the fiber's own stack
#else
    ucontext_t uc;
#endif
};

// Saves the running context into `from` and resumes `to`.
void switch_context(Context* from, Context* to);
// Prepares `ctx` so that switching to it calls entry() (which must never return) on the given stack.
void make_context(Context* ctx, char* stack_low, size_t stack_size, void (*entry)());

inline constexpr size_t kFiberStackBytes = 64 * 1024;
inline constexpr unsigned kMaxFibers = 1024;

// One per OS thread, created on the first block that needs fibers and reused for every later block and launch
// (mprotect serialises OS threads, so guards are set up once). Stack tops are staggered by 64 B per slot
// against L1 set conflicts.
class StackPool {
public:
    StackPool();
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;
    // Makes slots [0, count) usable.
    void reserve(unsigned count);
    // Usable stack of slot i: [low, low + size).
    char* stack_low(unsigned i) const { return base_ + static_cast<size_t>(i) * slot_bytes_ + guard_bytes_; }
    size_t stack_size(unsigned i) const { return kFiberStackBytes - (i % 64) * 64; }
    // Slot whose guard page holds addr, or -1.
    int guard_slot(const void* addr) const;

private:
    char* base_ = nullptr;
    size_t guard_bytes_ = 0;
    size_t slot_bytes_ = 0;
    unsigned ready_ = 0;
};

StackPool& thread_stack_pool();

}  // namespace emu::detail
