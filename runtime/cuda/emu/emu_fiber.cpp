// Fiber context switch (hand-written x86-64 SysV asm: six callee-saved registers and the stack pointer; ucontext
// on other architectures) and the per-OS-thread stack pool. MXCSR and the x87 control word are not switched:
// kernels never change the rounding mode.
#include "runtime/cuda/emu/emu_fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace emu::detail {

#if defined(__x86_64__) && !defined(ENGINE_EMU_UCONTEXT)
extern "C" void engine_emu_switch(void** save_sp, void* load_sp);
asm(R"(
    .text
    .p2align 4
    .globl engine_emu_switch
    .hidden engine_emu_switch
    .type engine_emu_switch, @function
engine_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size engine_emu_switch, .-engine_emu_switch
)");

void switch_context(Context* from, Context* to) { engine_emu_switch(&from->sp, to->sp); }

void make_context(Context* ctx, char* stack_low, size_t stack_size, void (*entry)()) {
    auto top = reinterpret_cast<uintptr_t>(stack_low + stack_size) & ~uintptr_t{15};
    auto* sp = reinterpret_cast<void**>(top);
    *--sp = nullptr;                             // fake return address of entry: rsp % 16 == 8 at its start
    *--sp = reinterpret_cast<void*>(entry);      // popped by `ret`
    for (int i = 0; i < 6; ++i) *--sp = nullptr;  // rbp rbx r12-r15
    ctx->sp = sp;
}
#else
void switch_context(Context* from, Context* to) { swapcontext(&from->uc, &to->uc); }

void make_context(Context* ctx, char* stack_low, size_t stack_size, void (*entry)()) {
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack_low;
    ctx->uc.uc_stack.ss_size = stack_size;
    ctx->uc.uc_link = nullptr;
    makecontext(&ctx->uc, entry, 0);
}
#endif

StackPool::StackPool() {
    guard_bytes_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    slot_bytes_ = kFiberStackBytes + guard_bytes_;
    void* p = mmap(nullptr, slot_bytes_ * kMaxFibers, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<char*>(p);
}

StackPool::~StackPool() { munmap(base_, slot_bytes_ * kMaxFibers); }

void StackPool::reserve(unsigned count) {
    for (; ready_ < count; ++ready_) {
        mprotect(base_ + static_cast<size_t>(ready_) * slot_bytes_, guard_bytes_, PROT_NONE);
    }
}

int StackPool::guard_slot(const void* addr) const {
    const auto a = reinterpret_cast<uintptr_t>(addr);
    const auto b = reinterpret_cast<uintptr_t>(base_);
    if (a < b || a >= b + slot_bytes_ * ready_) return -1;
    const size_t offset = a - b;
    return offset % slot_bytes_ < guard_bytes_ ? static_cast<int>(offset / slot_bytes_) : -1;
}

namespace {
// Pools outlive the OS threads that used them (check mode runs each launch on a fresh thread), so their guard
// pages are set up once per process rather than once per thread.
std::mutex pool_mutex;
std::vector<std::unique_ptr<StackPool>> idle_pools;

struct PoolHolder {
    std::unique_ptr<StackPool> pool;
    ~PoolHolder() {
        if (!pool) return;
        std::lock_guard<std::mutex> lock(pool_mutex);
        idle_pools.push_back(std::move(pool));
    }
};
}  // namespace

StackPool& thread_stack_pool() {
    thread_local PoolHolder holder;
    if (!holder.pool) {
        std::lock_guard<std::mutex> lock(pool_mutex);
        if (!idle_pools.empty()) {
            holder.pool = std::move(idle_pools.back());
            idle_pools.pop_back();
        }
    }
    if (!holder.pool) holder.pool = std::make_unique<StackPool>();
    return *holder.pool;
}

}  // namespace emu::detail
