// The block scheduler: runs the threads of one block on one OS thread, first as a plain loop (direct mode),
// then, from the first barrier or warp op on, as fibers that switch at every synchronisation point. Barriers
// release when every live thread has arrived (exited threads count as arrived); a warp op is a rendezvous of
// the lanes in its mask whose last arrival computes every lane's result. Checks (divergence, masks, sites) and
// deadlock reports throw EmulationError naming the site, block and thread.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <sstream>
#include <vector>

#include "runtime/cuda/emu/emu_block.h"

namespace emu::detail {

__thread ThreadBuiltins tls_builtins __attribute__((tls_model("initial-exec")));
__thread Block* tls_block __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

Block& this_thread_block() {
    thread_local std::unique_ptr<Block> block;
    if (!block) block = std::make_unique<Block>();
    return *block;
}

uint64_t next_random(uint64_t& state) {  // splitmix64
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

const char* barrier_name(BarrierKind k) {
    switch (k) {
        case BarrierKind::Plain: return "__syncthreads";
        case BarrierKind::Count: return "__syncthreads_count";
        case BarrierKind::And: return "__syncthreads_and";
        case BarrierKind::Or: return "__syncthreads_or";
    }
    return "?";
}

void fiber_entry();

// Makes `next` current and resumes it; returns when this context is resumed.
void switch_to(Block& b, unsigned next, Context* save) {
    ThreadRec& t = b.threads[next];
    b.current = next;
    tls_builtins.thread_idx = b.index[next];
    tls_builtins.linear_tid = next;
    if (t.state == State::NotStarted) {
        StackPool& pool = thread_stack_pool();
        make_context(&t.ctx, pool.stack_low(next), pool.stack_size(next), &fiber_entry);
    }
    t.state = State::Running;
    ++b.switches;
    switch_context(save, &t.ctx);
}

Context* main_context(Block& b) {
    return b.main_owner >= 0 ? &b.threads[static_cast<unsigned>(b.main_owner)].ctx : &b.sched_ctx;
}

std::string deadlock_message(const Block& b) {
    std::ostringstream out;
    out << "CUDA emulator: deadlock in block " << xyz(b.block_idx) << ", no thread can proceed:";
    unsigned i = 0;
    bool first = true;
    auto describe = [&](unsigned tid) -> std::string {
        const ThreadRec& t = b.threads[tid];
        if (t.state == State::AtBarrier) return std::string(barrier_name(t.barrier)) + " at " + site_str(t.site);
        if (t.state == State::AtWarpOp)
            return std::string(op_name(t.op)) + " mask " + hex(t.mask) + " at " + site_str(t.site);
        return "";
    };
    while (i < b.n) {
        const std::string d = describe(i);
        unsigned j = i + 1;
        while (j < b.n && describe(j) == d) ++j;
        if (!d.empty()) {
            out << (first ? " " : "; ") << "threads " << xyz(b.index[i]);
            if (j - 1 > i) out << "-" << xyz(b.index[j - 1]);
            out << " wait at " << d;
            first = false;
        }
        i = j;
    }
    return out.str();
}

void release_barrier(Block& b) {
    b.bar_result_true = b.bar_true;
    b.bar_result_arrived = b.bar_arrived;
    b.bar_arrived = 0;
    b.bar_true = 0;
    b.scratch.clear();
    for (unsigned i = 0; i < b.n; ++i) {
        if (b.threads[i].state == State::AtBarrier) b.scratch.push_back(i);
    }
    apply_schedule(b, b.scratch.data(), b.scratch.size());
    for (uint32_t tid : b.scratch) {
        b.threads[tid].state = State::Ready;
        push(b, tid);
    }
}

void mark_exited(Block& b, unsigned tid) {
    b.threads[tid].state = State::Exited;
    b.threads[tid].async_copies.clear();  // never waited for: dropped (see async_copy)
    b.threads[tid].async_group_ends.clear();
    --b.live;
    WarpRec& W = b.warps[tid / 32];
    W.exited |= 1u << (tid % 32);
    if (b.bar_arrived > 0 && b.bar_arrived == b.live) release_barrier(b);
    // Lanes of this warp that waited for it may now be complete (exited lanes drop out of the rendezvous).
    for (unsigned m = W.arrived; m; m &= m - 1) {
        if (W.arrived & (m & -m)) try_release_warp(b, tid / 32, __builtin_ctz(m));
    }
    try_release_active_mask(b, tid / 32);
}

// First barrier or warp op of a block: threads before the current one in the order have run to completion,
// the current one keeps running on this stack, the rest start on fibers.
void promote(Block& b) {
    b.fiber_mode = true;
    b.cursor.promoted = true;
    ++b.promoted_blocks;
    const unsigned pos = b.cursor.pos;
    const unsigned cur = b.order[pos];
    for (unsigned i = 0; i < b.n; ++i) {
        b.threads[i].state = State::NotStarted;
        b.threads[i].async_copies.clear();  // left by a block that failed
        b.threads[i].async_group_ends.clear();
    }
    for (auto& w : b.warps) {
        w.exited = 0;
        w.arrived = 0;
        w.at_active_mask = 0;
    }
    b.live = b.n;
    b.qhead = b.qcount = 0;
    b.bar_arrived = b.bar_true = 0;
    for (unsigned p = 0; p < pos; ++p) {
        const unsigned tid = b.order[p];
        b.threads[tid].state = State::Exited;
        b.warps[tid / 32].exited |= 1u << (tid % 32);
        --b.live;
    }
    for (unsigned p = pos + 1; p < b.n; ++p) push(b, b.order[p]);
    b.current = cur;
    b.main_owner = static_cast<int>(cur);
    b.threads[cur].state = State::Running;
    thread_stack_pool().reserve(b.n);
}

void fiber_entry() {
    Block& b = *tls_block;
    try {
        b.launch->thunk->run_one(b.launch->thunk->ctx);
        mark_exited(b, b.current);
        if (b.qcount > 0) {
            Context dead;
            switch_to(b, pop(b), &dead);
        }
        if (b.live > 0) throw EmulationError(deadlock_message(b));
    } catch (const BlockAborted&) {
        // cannot happen on a fiber: only the main context is resumed after an abort
    } catch (...) {
        b.error = std::current_exception();
        b.aborted = true;
    }
    Context dead;
    switch_context(&dead, main_context(b));
    __builtin_trap();
}

}  // namespace

void apply_schedule(Block& b, uint32_t* ids, size_t count) {
    switch (b.launch->options.schedule) {
        case Schedule::Forward: break;
        case Schedule::Reverse: std::reverse(ids, ids + count); break;
        case Schedule::Random:
            for (size_t i = count; i > 1; --i) std::swap(ids[i - 1], ids[next_random(b.rng) % i]);
            break;
    }
}

std::string site_str(Site s) {
    if (!s.file) return "?";
    const char* f = s.file;
    const char* last = std::strrchr(f, '/');
    if (last) {
        const char* p = last;
        while (p > f && *(p - 1) != '/') --p;  // keep the parent folder: "emu/barrier_test.cu"
        f = p;
    }
    return std::string(f) + ":" + std::to_string(s.line);
}

std::string xyz(uint3 v) {
    return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

std::string who(const Block& b, unsigned tid) {
    return "block " + xyz(b.block_idx) + ", thread " + xyz(b.index[tid]);
}

const char* op_name(WarpOpKind k) {
    switch (k) {
        case WarpOpKind::SyncWarp: return "__syncwarp";
        case WarpOpKind::Shfl: return "__shfl_sync";
        case WarpOpKind::ShflUp: return "__shfl_up_sync";
        case WarpOpKind::ShflDown: return "__shfl_down_sync";
        case WarpOpKind::ShflXor: return "__shfl_xor_sync";
        case WarpOpKind::Ballot: return "__ballot_sync";
        case WarpOpKind::Any: return "__any_sync";
        case WarpOpKind::All: return "__all_sync";
        case WarpOpKind::ActiveMask: return "__activemask";
        case WarpOpKind::Collective: return "warp matrix instruction (mma.sync / ldmatrix)";
    }
    return "?";
}

std::string hex(unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

[[noreturn]] void fail(const Block& b, unsigned tid, const std::string& what) {
    throw EmulationError("CUDA emulator: " + what + " (" + who(b, tid) + ")");
}

// ---- run queue (each thread at most once)
void push(Block& b, uint32_t tid) {
    b.queue[(b.qhead + b.qcount++) % b.n] = tid;
}
uint32_t pop(Block& b) {
    const uint32_t tid = b.queue[b.qhead];
    b.qhead = (b.qhead + 1) % b.n;
    --b.qcount;
    return tid;
}

void push_released(Block& b, unsigned w, unsigned lanes) {
    b.scratch.clear();
    for (unsigned m = lanes; m; m &= m - 1) b.scratch.push_back(w * 32 + __builtin_ctz(m));
    apply_schedule(b, b.scratch.data(), b.scratch.size());
    for (uint32_t tid : b.scratch) {
        b.threads[tid].state = State::Ready;
        push(b, tid);
    }
}

// The current thread stops (it waits, or it is queued again after releasing others): run the next one.
void yield_current(Block& b) {
    const unsigned me = b.current;
    if (b.qcount == 0) throw EmulationError(deadlock_message(b));
    const unsigned next = pop(b);
    if (next == me) {
        b.threads[me].state = State::Running;
        return;
    }
    switch_to(b, next, &b.threads[me].ctx);
    if (b.aborted) throw BlockAborted{};
}

Block& sync_block() {
    Block* b = tls_block;
    if (!b) throw EmulationError("CUDA emulator: barrier or warp op called outside a kernel");
    if (!b->fiber_mode) promote(*b);
    return *b;
}

int block_barrier(Site site, BarrierKind kind, int predicate) {
    Block& b = sync_block();
    const unsigned me = b.current;
    ThreadRec& t = b.threads[me];
    if (b.bar_arrived == 0) {
        b.bar_first = me;
    } else if (b.launch->options.check) {
        const ThreadRec& f = b.threads[b.bar_first];
        if (f.site.line != site.line || std::strcmp(f.site.file, site.file) != 0 || f.barrier != kind) {
            fail(b, me, std::string("divergent ") + barrier_name(kind) + ": this thread is at " + site_str(site) +
                            " while thread " + xyz(b.index[b.bar_first]) + " waits at " + barrier_name(f.barrier) +
                            " (" + site_str(f.site) + ")");
        }
    }
    t.state = State::AtBarrier;
    t.site = site;
    t.barrier = kind;
    b.bar_true += predicate != 0;
    if (++b.bar_arrived == b.live) release_barrier(b);
    try_release_active_mask(b, me / 32);
    yield_current(b);
    switch (kind) {
        case BarrierKind::Plain: return 0;
        case BarrierKind::Count: return static_cast<int>(b.bar_result_true);
        case BarrierKind::And: return b.bar_result_true == b.bar_result_arrived;
        case BarrierKind::Or: return b.bar_result_true != 0;
    }
    return 0;
}

void prepare_thread_for_launch(const LaunchInfo& launch) {
    Block& b = this_thread_block();
    b.launch = &launch;
    const dim3 bd = launch.block;
    b.n = bd.x * bd.y * bd.z;
    b.index.resize(b.n);
    for (unsigned z = 0, i = 0; z < bd.z; ++z)
        for (unsigned y = 0; y < bd.y; ++y)
            for (unsigned x = 0; x < bd.x; ++x) b.index[i++] = uint3{x, y, z};
    b.base_order.resize(b.n);
    for (unsigned i = 0; i < b.n; ++i) b.base_order[i] = i;
    if (launch.options.schedule == Schedule::Reverse) std::reverse(b.base_order.begin(), b.base_order.end());
    b.order = b.base_order;
    if (b.threads.size() < b.n) b.threads.resize(b.n);
    b.queue.resize(b.n);
    b.warps.assign((b.n + 31) / 32, WarpRec{});
    for (unsigned w = 0; w < b.warps.size(); ++w) {
        const unsigned lanes = std::min(32u, b.n - w * 32);
        b.warps[w].exists = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1);
    }
    b.switches = 0;
    b.promoted_blocks = 0;
    tls_builtins.block_dim = bd;
    tls_builtins.grid_dim = launch.grid;
    tls_block = &b;
}

void run_block(const LaunchInfo& launch, uint3 block_idx) {
    Block& b = *tls_block;
    b.block_idx = block_idx;
    tls_builtins.block_idx = block_idx;
    b.fiber_mode = false;
    b.aborted = false;
    b.main_owner = -1;
    b.live = b.n;
    if (launch.options.schedule == Schedule::Random) {
        b.rng = launch.options.seed * 0x9e3779b97f4a7c15ull +
                ((static_cast<uint64_t>(block_idx.z) * launch.grid.y + block_idx.y) * launch.grid.x + block_idx.x);
        b.order = b.base_order;
        apply_schedule(b, b.order.data(), b.order.size());
    }
    b.cursor = DirectCursor{b.order.data(), b.index.data(), 0, b.n, false};
    try {
        launch.thunk->run_direct(launch.thunk->ctx, &b.cursor);
        if (b.cursor.promoted) {
            // The thread that promoted the block ran on this stack and has now returned from the kernel.
            mark_exited(b, static_cast<unsigned>(b.main_owner));
            b.main_owner = -1;
            if (b.qcount > 0) {
                switch_to(b, pop(b), &b.sched_ctx);
                if (b.aborted) std::rethrow_exception(b.error);
            } else if (b.live > 0) {
                throw EmulationError(deadlock_message(b));
            }
        }
    } catch (const BlockAborted&) {
        std::rethrow_exception(b.error);
    }
}

ThreadLaunchStats finish_thread_launch() {
    Block& b = this_thread_block();
    tls_block = nullptr;
    return ThreadLaunchStats{b.switches, b.promoted_blocks};
}

std::string current_thread_description() {
    Block* b = tls_block;
    if (!b) return "outside a kernel";
    return who(*b, b->fiber_mode ? b->current : b->order[b->cursor.pos]);
}

}  // namespace emu::detail