// The block scheduler's state (internal to emu_scheduler.cpp and emu_warp.cpp): per-thread and per-warp
// records, the run queue, and the helpers both files use to block, release and report.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "runtime/cuda/emu/emu_fiber.h"
#include "runtime/cuda/emu/emu_internal.h"

namespace emu::detail {

enum class State : uint8_t { NotStarted, Ready, Running, AtBarrier, AtWarpOp, Exited };

struct ThreadRec {
    Context ctx;
    State state = State::NotStarted;
    WarpOpKind op = WarpOpKind::SyncWarp;
    BarrierKind barrier = BarrierKind::Plain;
    Site site{nullptr, 0};
    unsigned mask = 0;
    int param = 0;
    int width = 32;
    uint64_t value = 0;
    uint64_t result = 0;
    CollectiveFn collective = nullptr;  // WarpOpKind::Collective: value is the lane's data
    struct AsyncCopy {
        void* dst;
        const void* src;
        unsigned bytes, src_bytes;
    };
    std::vector<AsyncCopy> async_copies;  // issued by cp.async and not yet done, oldest first
    std::vector<size_t> async_group_ends;  // committed groups: where each ends in async_copies
};

struct WarpRec {
    unsigned exists = 0;   // lanes the block has
    unsigned exited = 0;
    unsigned arrived = 0;  // lanes waiting at a warp op
    unsigned at_active_mask = 0;  // lanes waiting in __activemask
};

struct BlockAborted {};

struct Block {
    // launch
    const LaunchInfo* launch = nullptr;
    unsigned n = 0;
    std::vector<uint3> index;        // threadIdx by linear id
    std::vector<uint32_t> base_order;
    std::vector<uint32_t> order;     // this block's direct-mode order
    std::vector<ThreadRec> threads;
    std::vector<WarpRec> warps;
    // block
    uint3 block_idx{0, 0, 0};
    DirectCursor cursor{};
    bool fiber_mode = false;
    unsigned current = 0;
    int main_owner = -1;
    Context sched_ctx;
    unsigned live = 0;
    std::vector<uint32_t> queue;
    unsigned qhead = 0, qcount = 0;
    unsigned bar_arrived = 0, bar_true = 0, bar_first = 0;
    unsigned bar_result_true = 0, bar_result_arrived = 0;
    bool aborted = false;
    std::exception_ptr error;
    uint64_t rng = 0;
    uint64_t switches = 0;
    uint64_t promoted_blocks = 0;
    std::vector<uint32_t> scratch;
};

// The block this OS thread is running (null outside a launch).
extern __thread Block* tls_block __attribute__((tls_model("initial-exec")));

// Puts ids (threads released together) in the order of the schedule.
void apply_schedule(Block& b, uint32_t* ids, size_t count);
std::string site_str(Site s);
std::string xyz(uint3 v);
std::string who(const Block& b, unsigned tid);  // "block (x,y,z), thread (x,y,z)"
std::string hex(unsigned v);
const char* op_name(WarpOpKind k);
[[noreturn]] void fail(const Block& b, unsigned tid, const std::string& what);

void push(Block& b, uint32_t tid);
uint32_t pop(Block& b);
// Queues lanes of warp w that a warp op released, in schedule order.
void push_released(Block& b, unsigned w, unsigned lanes);
// The current thread stops (it waits, or it is queued again after releasing others): runs the next one.
void yield_current(Block& b);
// The block of this OS thread, promoted to fibers if it was still in direct mode.
Block& sync_block();

// emu_warp.cpp: re-evaluate a warp's pending rendezvous after a lane arrived, exited or stopped elsewhere.
void try_release_warp(Block& b, unsigned w, unsigned lane);
void try_release_active_mask(Block& b, unsigned w);

}  // namespace emu::detail
