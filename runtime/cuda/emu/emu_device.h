// The CUDA device language as ordinary C++ for the emulator: qualifiers, built-in index variables, barriers,
// warp intrinsics, atomics and math intrinsics. Barriers and warp ops call into the scheduler
// (emu_scheduler.cpp) with their call site, which the checks use to name the bug.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "runtime/cuda/emu/emu_types.h"

// ---- qualifiers (__restrict__ is native in g++; __noinline__ is left alone because libstdc++ uses it)
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
// One copy per OS thread; a block never leaves the OS thread it started on, so every thread of a block sees the
// same variable. Initial-exec TLS keeps the access a single %fs-relative load even in -fPIC code.
#define __shared__ static __thread __attribute__((tls_model("initial-exec")))

namespace emu::detail {

// Kept in one trivial __thread struct (no TLS init wrapper), updated by the scheduler at each thread switch.
struct ThreadBuiltins {
    uint3 thread_idx{0, 0, 0};
    uint3 block_idx{0, 0, 0};
    dim3 block_dim;
    dim3 grid_dim;
    unsigned int linear_tid = 0;     // threadIdx flattened: x + y*bx + z*bx*by
    void* dynamic_shared = nullptr;  // this block's dynamic shared memory (ENGINE_DYNAMIC_SHARED)
};
extern __thread ThreadBuiltins tls_builtins __attribute__((tls_model("initial-exec")));

struct Site {
    const char* file;
    int line;
};

enum class WarpOpKind : uint8_t { SyncWarp, Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All, ActiveMask, Collective };
enum class BarrierKind : uint8_t { Plain, Count, And, Or };

int block_barrier(Site site, BarrierKind kind, int predicate);
uint64_t warp_op(Site site, WarpOpKind kind, unsigned int mask, uint64_t value, int param, int width);
unsigned int active_mask();

// A warp-wide instruction that works on every lane's registers at once (the tensor-core ones: mma.sync,
// ldmatrix; kernels/cuda/tensor_core.cuh). Each lane of `mask` passes its own `lane_data`; once all of them
// have arrived, `combine` runs once with the 32 pointers (null for lanes outside the group) and returns null,
// or what is wrong, which fails the launch naming the call site.
using CollectiveFn = const char* (*)(void* const* lanes, unsigned int group);
void warp_collective(Site site, unsigned int mask, void* lane_data, CollectiveFn combine);

// cp.async as the hardware allows it to behave: a copy is only issued here and is done when the issuing thread
// waits for its group (commit / wait_group), never before. A kernel that reads shared memory without the wait
// reads what was there before, so a missing wait shows up as wrong results in the emulated tests. Copies still
// pending when a thread exits are dropped. src_bytes < bytes zero-fills the rest (the src-size operand).
void async_copy(Site site, void* shared_dst, const void* global_src, unsigned int bytes, unsigned int src_bytes);
void async_copy_commit();
void async_copy_wait(int pending_groups);

template <class T>
inline uint64_t to_bits(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                  "warp shuffles move trivially copyable values of at most 8 bytes");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}
template <class T>
inline T from_bits(uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

// Call sites are captured by object-like macros (below) that build one of these, so that default arguments
// and templates work as in CUDA: __shfl_down_sync(m, v, 1) -> WarpSite{{__FILE__, __LINE__}}.shfl_down(m, v, 1).
struct WarpSite {
    Site site;
    template <class T>
    T shfl(unsigned int mask, T var, int src_lane, int width = 32) const {
        return from_bits<T>(warp_op(site, WarpOpKind::Shfl, mask, to_bits(var), src_lane, width));
    }
    template <class T>
    T shfl_up(unsigned int mask, T var, unsigned int delta, int width = 32) const {
        return from_bits<T>(warp_op(site, WarpOpKind::ShflUp, mask, to_bits(var), static_cast<int>(delta), width));
    }
    template <class T>
    T shfl_down(unsigned int mask, T var, unsigned int delta, int width = 32) const {
        return from_bits<T>(
            warp_op(site, WarpOpKind::ShflDown, mask, to_bits(var), static_cast<int>(delta), width));
    }
    template <class T>
    T shfl_xor(unsigned int mask, T var, int lane_mask, int width = 32) const {
        return from_bits<T>(warp_op(site, WarpOpKind::ShflXor, mask, to_bits(var), lane_mask, width));
    }
    unsigned int ballot(unsigned int mask, int predicate) const {
        return static_cast<unsigned int>(warp_op(site, WarpOpKind::Ballot, mask, predicate != 0, 0, 32));
    }
    int any(unsigned int mask, int predicate) const {
        return static_cast<int>(warp_op(site, WarpOpKind::Any, mask, predicate != 0, 0, 32));
    }
    int all(unsigned int mask, int predicate) const {
        return static_cast<int>(warp_op(site, WarpOpKind::All, mask, predicate != 0, 0, 32));
    }
    void syncwarp(unsigned int mask = 0xffffffffu) const { warp_op(site, WarpOpKind::SyncWarp, mask, 0, 0, 32); }
};

}  // namespace emu::detail

// ---- built-in variables: read-only views of the scheduler's per-OS-thread state
#define threadIdx (static_cast<const ::uint3&>(::emu::detail::tls_builtins.thread_idx))
#define blockIdx (static_cast<const ::uint3&>(::emu::detail::tls_builtins.block_idx))
#define blockDim (static_cast<const ::dim3&>(::emu::detail::tls_builtins.block_dim))
#define gridDim (static_cast<const ::dim3&>(::emu::detail::tls_builtins.grid_dim))
inline constexpr int warpSize = 32;

#define ENGINE_EMU_SITE (::emu::detail::Site{__FILE__, __LINE__})

// ---- block barriers
#define __syncthreads() ((void)::emu::detail::block_barrier(ENGINE_EMU_SITE, ::emu::detail::BarrierKind::Plain, 0))
#define __syncthreads_count(p) \
    ::emu::detail::block_barrier(ENGINE_EMU_SITE, ::emu::detail::BarrierKind::Count, (p) ? 1 : 0)
#define __syncthreads_and(p) \
    ::emu::detail::block_barrier(ENGINE_EMU_SITE, ::emu::detail::BarrierKind::And, (p) ? 1 : 0)
#define __syncthreads_or(p) \
    ::emu::detail::block_barrier(ENGINE_EMU_SITE, ::emu::detail::BarrierKind::Or, (p) ? 1 : 0)

// ---- warp intrinsics
#define __syncwarp (::emu::detail::WarpSite{ENGINE_EMU_SITE}).syncwarp
#define __shfl_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).shfl
#define __shfl_up_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).shfl_up
#define __shfl_down_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).shfl_down
#define __shfl_xor_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).shfl_xor
#define __ballot_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).ballot
#define __any_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).any
#define __all_sync (::emu::detail::WarpSite{ENGINE_EMU_SITE}).all
// Lanes run one after another between sync points, so "active" is decided by a rendezvous: the lanes of the
// warp that have neither exited nor stopped at another barrier or warp op.
inline unsigned int __activemask() { return ::emu::detail::active_mask(); }

// ---- memory fences (blocks may run on different OS threads)
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

#include "runtime/cuda/emu/emu_intrinsics.h"
