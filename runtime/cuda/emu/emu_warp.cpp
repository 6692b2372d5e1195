// Warp intrinsics of the emulator: a warp op is a rendezvous of the lanes in its mask (exited lanes drop out);
// the last lane to arrive computes every lane's result and the group resumes in schedule order. Check mode
// reports a calling lane outside the mask, lanes that disagree on op, mask or site, a source lane outside the
// group and a bad width.
#include <cstring>
#include <string>

#include "runtime/cuda/emu/emu_block.h"

namespace emu::detail {
namespace {

int source_lane(const ThreadRec& r, unsigned lane) {
    const int w = r.width;
    const int l = static_cast<int>(lane);
    const int segment = l & ~(w - 1);
    switch (r.op) {
        case WarpOpKind::Shfl: return segment + (r.param & (w - 1));
        case WarpOpKind::ShflUp: return (l & (w - 1)) >= r.param ? l - r.param : l;
        case WarpOpKind::ShflDown: return (l & (w - 1)) + r.param < w ? l + r.param : l;
        case WarpOpKind::ShflXor: {
            const int s = l ^ r.param;
            return s >= segment + w || s > 31 ? l : s;
        }
        default: return l;
    }
}

}  // namespace

// __activemask completes once every lane of the warp has exited, reached it, or stopped at another sync point.
void try_release_active_mask(Block& b, unsigned w) {
    WarpRec& W = b.warps[w];
    if (!W.at_active_mask) return;
    unsigned pending = W.exists & ~W.exited & ~W.at_active_mask & ~W.arrived;
    for (unsigned m = pending; m; m &= m - 1) {
        if (b.threads[w * 32 + __builtin_ctz(m)].state == State::AtBarrier) pending &= ~(m & -m);
    }
    if (pending) return;
    const unsigned lanes = W.at_active_mask;
    for (unsigned m = lanes; m; m &= m - 1) b.threads[w * 32 + __builtin_ctz(m)].result = lanes;
    W.at_active_mask = 0;
    push_released(b, w, lanes);
}

// Releases the rendezvous that `lane` of warp `w` waits in, if every lane it needs has arrived.
void try_release_warp(Block& b, unsigned w, unsigned lane) {
    WarpRec& W = b.warps[w];
    const ThreadRec& first = b.threads[w * 32 + lane];
    const bool check = b.launch->options.check;
    unsigned group = (first.mask | (1u << lane)) & W.exists;
    if (!check) {  // forgiving: the union of the masks of the lanes involved
        for (unsigned prev = 0; prev != group;) {
            prev = group;
            for (unsigned m = group & W.arrived; m; m &= m - 1)
                group |= b.threads[w * 32 + __builtin_ctz(m)].mask & W.exists;
        }
    }
    const unsigned needed = group & ~W.exited;
    if (needed & ~W.arrived) return;
    if (check) {
        for (unsigned m = needed; m; m &= m - 1) {
            const unsigned l = __builtin_ctz(m);
            const ThreadRec& r = b.threads[w * 32 + l];
            if (r.op != first.op || r.mask != first.mask || r.site.line != first.site.line ||
                std::strcmp(r.site.file, first.site.file) != 0) {
                fail(b, w * 32 + l,
                     std::string("warp lanes disagree: lane ") + std::to_string(lane) + " is at " +
                         op_name(first.op) + " mask " + hex(first.mask) + " (" + site_str(first.site) +
                         "), lane " + std::to_string(l) + " at " + op_name(r.op) + " mask " + hex(r.mask) + " (" +
                         site_str(r.site) + ")");
            }
        }
    }
    if (first.op == WarpOpKind::Collective) {
        void* lanes[32] = {};
        for (unsigned m = needed; m; m &= m - 1) {
            const unsigned l = __builtin_ctz(m);
            lanes[l] = reinterpret_cast<void*>(b.threads[w * 32 + l].value);
        }
        if (const char* problem = first.collective(lanes, needed))
            fail(b, w * 32 + lane, std::string(problem) + " (" + site_str(first.site) + ")");
    }
    unsigned ballot = 0;
    for (unsigned m = needed; m; m &= m - 1) {
        const unsigned l = __builtin_ctz(m);
        if (b.threads[w * 32 + l].value) ballot |= 1u << l;
    }
    for (unsigned m = needed; m; m &= m - 1) {
        const unsigned l = __builtin_ctz(m);
        ThreadRec& r = b.threads[w * 32 + l];
        switch (r.op) {
            case WarpOpKind::SyncWarp: r.result = 0; break;
            case WarpOpKind::Ballot: r.result = ballot; break;
            case WarpOpKind::Any: r.result = ballot != 0; break;
            case WarpOpKind::All: r.result = (ballot & needed) == needed; break;
            case WarpOpKind::Collective: r.result = 0; break;
            default: {
                const int src = source_lane(r, l);
                if (src == static_cast<int>(l)) {
                    r.result = r.value;
                } else if (needed & (1u << src)) {
                    r.result = b.threads[w * 32 + src].value;
                } else {
                    if (check) {
                        const bool exists = W.exists & (1u << src);
                        fail(b, w * 32 + l,
                             std::string(op_name(r.op)) + " at " + site_str(r.site) + ": source lane " +
                                 std::to_string(src) + " of lane " + std::to_string(l) +
                                 (!exists ? " does not exist (partial warp)"
                                  : (W.exited & (1u << src)) ? " has exited"
                                                             : " is not in mask " + hex(r.mask)));
                    }
                    r.result = r.value;
                }
            }
        }
    }
    W.arrived &= ~needed;
    push_released(b, w, needed);
}

uint64_t warp_op(Site site, WarpOpKind kind, unsigned int mask, uint64_t value, int param, int width) {
    Block& b = sync_block();
    const unsigned me = b.current;
    const unsigned w = me / 32, lane = me % 32;
    if (b.launch->options.check) {
        if (!(mask & (1u << lane)))
            fail(b, me, std::string(op_name(kind)) + " at " + site_str(site) + ": calling lane " +
                            std::to_string(lane) + " is not in mask " + hex(mask));
        if (width < 1 || width > 32 || (width & (width - 1)))
            fail(b, me, std::string(op_name(kind)) + " at " + site_str(site) + ": width " + std::to_string(width) +
                            " is not a power of two in [1, 32]");
    }
    if (width < 1 || width > 32 || (width & (width - 1))) width = 32;
    ThreadRec& t = b.threads[me];
    t.state = State::AtWarpOp;
    t.op = kind;
    t.site = site;
    t.mask = mask;
    t.value = value;
    t.param = param;
    t.width = width;
    b.warps[w].arrived |= 1u << lane;
    try_release_warp(b, w, lane);
    try_release_active_mask(b, w);
    yield_current(b);
    return t.result;
}

void warp_collective(Site site, unsigned int mask, void* lane_data, CollectiveFn combine) {
    Block& b = sync_block();
    b.threads[b.current].collective = combine;
    warp_op(site, WarpOpKind::Collective, mask, reinterpret_cast<uint64_t>(lane_data), 0, 32);
}

void async_copy(Site site, void* shared_dst, const void* global_src, unsigned int bytes, unsigned int src_bytes) {
    Block& b = sync_block();
    if (src_bytes > bytes)
        fail(b, b.current, "cp.async at " + site_str(site) + ": source size " + std::to_string(src_bytes) +
                               " over the copy size " + std::to_string(bytes));
    b.threads[b.current].async_copies.push_back({shared_dst, global_src, bytes, src_bytes});
}

void async_copy_commit() {
    ThreadRec& t = sync_block().threads[tls_block->current];
    t.async_group_ends.push_back(t.async_copies.size());
}

void async_copy_wait(int pending_groups) {
    ThreadRec& t = sync_block().threads[tls_block->current];
    const size_t groups = t.async_group_ends.size();
    const size_t keep = pending_groups < 0 ? 0 : static_cast<size_t>(pending_groups);
    if (groups <= keep) return;
    const size_t done = t.async_group_ends[groups - keep - 1];
    for (size_t i = 0; i < done; ++i) {
        const ThreadRec::AsyncCopy& c = t.async_copies[i];
        if (c.src_bytes) std::memcpy(c.dst, c.src, c.src_bytes);
        std::memset(static_cast<char*>(c.dst) + c.src_bytes, 0, c.bytes - c.src_bytes);
    }
    t.async_copies.erase(t.async_copies.begin(), t.async_copies.begin() + static_cast<std::ptrdiff_t>(done));
    t.async_group_ends.erase(t.async_group_ends.begin(),
                             t.async_group_ends.begin() + static_cast<std::ptrdiff_t>(groups - keep));
    for (size_t& end : t.async_group_ends) end -= done;
}

unsigned int active_mask() {
    Block& b = sync_block();
    const unsigned me = b.current;
    ThreadRec& t = b.threads[me];
    t.state = State::AtWarpOp;
    t.op = WarpOpKind::ActiveMask;
    t.site = Site{"(__activemask)", 0};
    t.mask = 0xffffffffu;
    b.warps[me / 32].at_active_mask |= 1u << (me % 32);
    try_release_active_mask(b, me / 32);
    yield_current(b);
    return static_cast<unsigned int>(t.result);
}

}  // namespace emu::detail
