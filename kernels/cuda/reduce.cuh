// The CUDA reduction engine: any set of reduced dims of a contiguous tensor becomes passes over (outer, reduce,
// inner) blocks (as on the CPU, innermost run of reduced dims first), each pass a row kernel (inner == 1: a warp
// or a block per row) or a column kernel (a block per tile of columns, threads split the reduced extent). Long
// reduced extents with few outputs are split across blocks into partial accumulators that a further pass merges
// in a fixed order, so results never depend on timing. A Policy gives Acc, identity(), step(Acc, In, index) and
// merge(Acc, Acc); a Store writes the final accumulator of output position `pos`.
#pragma once

#include "runtime/cuda_api.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cuda/elementwise.cuh"
#include "kernels/reduce_math.h"
#include "kernels/reduce_plan.h"

namespace engine::cuda {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarp = 32;
constexpr int kReduceThreads = 256;

// ---- warp and block combination of accumulators

template <class T>
__device__ inline T shfl_down(T v, int delta) {
    static_assert(std::is_arithmetic_v<T>, "shfl_down: overload it for the accumulator type");
    if constexpr (sizeof(T) < 4) {
        return static_cast<T>(__shfl_down_sync(kFullMask, static_cast<int>(v), delta));
    } else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) {
        return static_cast<T>(__shfl_down_sync(kFullMask, static_cast<long long>(v), delta));
    } else {
        return __shfl_down_sync(kFullMask, v, delta);
    }
}

// VarAcc lives in namespace engine, where argument-dependent lookup from warp_reduce would not find this
// overload, so it is declared ahead of warp_reduce.
__device__ inline VarAcc shfl_down(VarAcc v, int delta) {
    return {shfl_down(v.n, delta), shfl_down(v.mean, delta), shfl_down(v.m2, delta)};
}

// Lane 0 of each warp ends with the merge of its warp's 32 values (every lane must call it).
template <class P, class Acc>
__device__ inline Acc warp_reduce(Acc v) {
    for (int delta = kWarp / 2; delta > 0; delta /= 2) v = P::merge(v, shfl_down(v, delta));
    return v;
}

// Thread 0 ends with the merge over a 1-D block (blockDim.x a multiple of 32, blockDim.y == 1). `scratch` holds
// 32 accumulators; the block may reuse it after the call.
template <class P, class Acc>
__device__ inline Acc block_reduce(Acc v, Acc* scratch) {
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    v = warp_reduce<P>(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const int warps = blockDim.x / kWarp;
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : P::identity();
        v = warp_reduce<P>(v);
    }
    __syncthreads();
    return v;
}

// ---- policies

template <class In, class AccT>
struct SumPolicy {
    using Acc = AccT;
    __device__ static Acc identity() { return Acc(0); }
    __device__ static Acc step(Acc a, In v, int64_t) { return a + static_cast<Acc>(v); }
    __device__ static Acc merge(Acc a, Acc b) { return a + b; }
};

// NaN wins (kernels/reduce_math.h, as on the CPU).
template <class T, bool IsMax>
struct ExtremePolicy {
    using Acc = T;
    __device__ static Acc identity() { return extreme_identity<T, IsMax>(); }
    __device__ static Acc merge(Acc a, Acc v) { return extreme_step<IsMax>(a, v); }
    __device__ static Acc step(Acc a, T v, int64_t) { return merge(a, v); }
};

template <class T>
struct IndexAcc {
    T value;
    int64_t index;
};

template <class T>
__device__ inline IndexAcc<T> shfl_down(IndexAcc<T> v, int delta) {
    return {shfl_down(v.value, delta), shfl_down(v.index, delta)};
}

// Max / min with the index of the first occurrence; the first NaN wins over everything. The merge is
// commutative (ties and NaNs go to the lower index), so any combination order gives the CPU's answer.
template <class T, bool IsMax>
struct IndexPolicy {
    using Acc = IndexAcc<T>;
    __device__ static Acc identity() { return {extreme_identity<T, IsMax>(), std::numeric_limits<int64_t>::max()}; }
    __device__ static Acc merge(Acc a, Acc b) {
        const bool a_nan = a.value != a.value, b_nan = b.value != b.value;
        if (a_nan || b_nan) {
            if (a_nan && b_nan) return b.index < a.index ? b : a;
            return a_nan ? a : b;
        }
        if (IsMax ? b.value > a.value : b.value < a.value) return b;
        if (IsMax ? a.value > b.value : a.value < b.value) return a;
        return b.index < a.index ? b : a;
    }
    __device__ static Acc step(Acc a, T v, int64_t r) { return merge(a, Acc{v, r}); }
};

// Variance accumulators (kernels/reduce_math.h): Welford within a thread, Chan's formula across threads.

template <class T>
struct VarPolicy {
    using Acc = VarAcc;
    __device__ static Acc identity() { return {0.0, 0.0, 0.0}; }
    __device__ static Acc step(Acc a, T v, int64_t) {
        const double x = static_cast<double>(v);
        const double n = a.n + 1.0, d = x - a.mean;
        const double mean = a.mean + d / n;
        return {n, mean, a.m2 + d * (x - mean)};
    }
    __device__ static Acc merge(Acc a, Acc b) { return var_merge(a, b); }
};

// Later passes fold accumulators of the previous pass.
template <class P>
struct MergePolicy {
    using Acc = typename P::Acc;
    __device__ static Acc identity() { return P::identity(); }
    __device__ static Acc step(Acc a, Acc v, int64_t) { return P::merge(a, v); }
    __device__ static Acc merge(Acc a, Acc b) { return P::merge(a, b); }
};

// The policy of the passes after one with P: merging accumulators is its own merge pass (which keeps the pass
// templates from instantiating MergePolicy<MergePolicy<...>> without end).
template <class P>
struct MergeOf {
    using type = MergePolicy<P>;
};
template <class P>
struct MergeOf<MergePolicy<P>> {
    using type = MergePolicy<P>;
};
template <class P>
using MergeOf_t = typename MergeOf<P>::type;

// ---- stores

template <class Acc>
struct StoreAcc {
    Acc* out;
    __device__ void operator()(int64_t pos, const Acc& a) const { out[pos] = a; }
};

// Sum / mean / max / min results: floating accumulators are divided by `divisor` (1 except for mean).
template <class Out>
struct StoreValue {
    Out* out;
    double divisor;
    template <class Acc>
    __device__ void operator()(int64_t pos, const Acc& a) const {
        if constexpr (std::is_floating_point_v<Acc>) {
            out[pos] = static_cast<Out>(static_cast<double>(a) / divisor);
        } else {
            out[pos] = static_cast<Out>(a);
        }
    }
};

// ---- kernels

// Rows of an (outer, reduce) array, optionally split into `splits` chunks of `chunk` elements: work item w is
// (row w / splits, chunk w % splits) and its result goes to position w. blockDim (32, k): a warp per item;
// blockDim (n, 1) with n > 32: the whole block per item.
template <class P, class In, class Store>
__global__ void reduce_rows_kernel(const In* x, int64_t reduce, int64_t chunk, int64_t splits, int64_t items,
                                   Store store) {
    using Acc = typename P::Acc;
    __shared__ Acc scratch[kWarp];
    const bool per_warp = blockDim.x == kWarp;
    const int64_t per_block = per_warp ? blockDim.y : 1;
    const int64_t first = blockIdx.x * per_block + (per_warp ? threadIdx.y : 0);
    for (int64_t w = first; w < items; w += static_cast<int64_t>(gridDim.x) * per_block) {
        const int64_t row = w / splits, begin = (w % splits) * chunk;
        const int64_t end = begin + chunk < reduce ? begin + chunk : reduce;
        const In* p = x + row * reduce;
        Acc acc = P::identity();
        for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) acc = P::step(acc, p[r], r);
        if (per_warp) {
            acc = warp_reduce<P>(acc);
        } else {
            acc = block_reduce<P>(acc, scratch);
        }
        if (threadIdx.x == 0) store(w, acc);
    }
}

// Columns of an (outer, reduce, inner) array: work item w is (o, split s, tile t) with o-major order; the
// block's x threads take blockDim.x adjacent columns (coalesced), its y threads stride over the reduced rows
// of the chunk and a shared-memory tree merges them. The result of column i goes to (o * splits + s) * inner + i.
template <class P, class In, class Store>
__global__ void reduce_cols_kernel(const In* x, int64_t reduce, int64_t inner, int64_t chunk, int64_t splits,
                                   int64_t tiles, int64_t items, Store store) {
    using Acc = typename P::Acc;
    __shared__ Acc partial[kReduceThreads];
    const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
    for (int64_t w = blockIdx.x; w < items; w += gridDim.x) {
        const int64_t tile = w % tiles, rest = w / tiles;
        const int64_t s = rest % splits, o = rest / splits;
        const int64_t i = tile * bx + tx;
        const int64_t begin = s * chunk, end = begin + chunk < reduce ? begin + chunk : reduce;
        Acc acc = P::identity();
        if (i < inner) {
            const In* p = x + o * reduce * inner + i;
            for (int64_t r = begin + ty; r < end; r += by) acc = P::step(acc, p[r * inner], r);
        }
        partial[ty * bx + tx] = acc;
        for (int stride = by / 2; stride > 0; stride /= 2) {
            __syncthreads();
            if (ty < stride) partial[ty * bx + tx] = P::merge(partial[ty * bx + tx], partial[(ty + stride) * bx + tx]);
        }
        __syncthreads();
        if (ty == 0 && i < inner) store((o * splits + s) * inner + i, partial[tx]);
    }
}

// ---- host side: planning the passes

// The passes of kernels/reduce_plan.h, or a single pass with reduce == 1 when nothing of size > 1 is reduced
// (every element is then lifted on its own).
inline std::vector<ReduceBlock> plan_passes(const Shape& shape, const std::vector<int64_t>& dims) {
    std::vector<ReduceBlock> passes = reduce_blocks(shape, dims);
    if (passes.empty()) passes.push_back({shape_numel(shape), 1, 1});
    return passes;
}

// Splitting long reductions: a block gets at least this many elements before the extent is split, and only
// when there are too few outputs to keep the GPU busy.
constexpr int64_t kSplitElements = 16384;
constexpr int64_t kBusyBlocks = 512;

inline int64_t pow2_ceil(int64_t v) {
    int64_t p = 1;
    while (p < v) p *= 2;
    return p;
}

// Runs one pass of policy P over x, storing results with `store`; a pass whose extent is split runs as a
// partial pass into a device workspace and a merge pass over the partials.
template <class P, class In, class Store>
void run_pass(const char* op, const Shape& label, int device, const ReduceBlock& pass, const In* x,
              const Store& store) {
    using Acc = typename P::Acc;
    LaunchConfig cfg;
    cfg.stream = current_stream(device);
    if (pass.inner == 1) {
        const int64_t splits = pass.outer < kBusyBlocks && pass.reduce > 2 * kSplitElements
                                   ? (pass.reduce + kSplitElements - 1) / kSplitElements
                                   : 1;
        const int64_t chunk = splits == 1 ? pass.reduce : kSplitElements;
        const int64_t items = pass.outer * splits;
        if (chunk <= 512) {  // a warp per row, 8 rows per block
            cfg.block = dim3(kWarp, kReduceThreads / kWarp);
            cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>((items + 7) / 8, kMaxElementwiseBlocks)));
        } else {
            cfg.block = dim3(chunk >= 8192 ? 512 : kReduceThreads);
            cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>(items, kMaxElementwiseBlocks)));
        }
        if (splits == 1) {
            launch(op, label, cfg, reduce_rows_kernel<P, In, Store>, x, pass.reduce, chunk, splits, items, store);
            return;
        }
        Tensor workspace = empty({items * static_cast<int64_t>(sizeof(Acc))}, DType::UInt8, Device::cuda(device));
        Acc* partial = static_cast<Acc*>(workspace.raw_data());
        launch(op, label, cfg, reduce_rows_kernel<P, In, StoreAcc<Acc>>, x, pass.reduce, chunk, splits, items,
               StoreAcc<Acc>{partial});
        // The chunks of a row are adjacent, so the partials form an (outer, splits) array.
        run_pass<MergeOf_t<P>>(op, label, device, ReduceBlock{pass.outer, splits, 1}, static_cast<const Acc*>(partial),
                                 store);
        return;
    }
    // Columns: up to 32 adjacent columns per block row; short extents trade rows of threads for columns.
    int64_t bx = std::min<int64_t>(kWarp, pow2_ceil(pass.inner));
    int64_t by = kReduceThreads / bx;
    while (by > 1 && by / 2 >= pass.reduce && bx * 2 <= pow2_ceil(pass.inner)) {
        bx *= 2;
        by /= 2;
    }
    const int64_t tiles = (pass.inner + bx - 1) / bx;
    const int64_t chunk_rows = std::max<int64_t>(by * 16, kSplitElements / bx);
    const int64_t splits =
        pass.outer * tiles < kBusyBlocks && pass.reduce > 2 * chunk_rows ? (pass.reduce + chunk_rows - 1) / chunk_rows
                                                                         : 1;
    if (splits > 1) {
        Tensor workspace = empty({pass.outer * splits * pass.inner * static_cast<int64_t>(sizeof(Acc))},
                                 DType::UInt8, Device::cuda(device));
        Acc* partial = static_cast<Acc*>(workspace.raw_data());
        cfg.block = dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by));
        const int64_t items = pass.outer * splits * tiles;
        cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>(items, kMaxElementwiseBlocks)));
        launch(op, label, cfg, reduce_cols_kernel<P, In, StoreAcc<Acc>>, x, pass.reduce, pass.inner, chunk_rows, splits,
               tiles, items, StoreAcc<Acc>{partial});
        run_pass<MergeOf_t<P>>(op, label, device, ReduceBlock{pass.outer, splits, pass.inner},
                                 static_cast<const Acc*>(partial), store);
        return;
    }
    cfg.block = dim3(static_cast<unsigned>(bx), static_cast<unsigned>(by));
    const int64_t items = pass.outer * tiles;
    cfg.grid = dim3(static_cast<unsigned>(std::min<int64_t>(items, kMaxElementwiseBlocks)));
    launch(op, label, cfg, reduce_cols_kernel<P, In, Store>, x, pass.reduce, pass.inner, pass.reduce, int64_t{1}, tiles,
           items, store);
}

// Reduces a contiguous device array of `shape` over `dims` (sorted) with policy P and stores the final
// accumulators in the order of the kept dims. Intermediate passes keep accumulators in device workspaces.
template <class P, class In, class Store>
void reduce_all_passes(const char* op, int device, const In* x, const Shape& shape, const std::vector<int64_t>& dims,
                       const Store& store) {
    using Acc = typename P::Acc;
    const std::vector<ReduceBlock> passes = plan_passes(shape, dims);
    if (passes.size() == 1) {
        run_pass<P>(op, shape, device, passes[0], x, store);
        return;
    }
    Tensor current = empty({passes[0].outer * passes[0].inner * static_cast<int64_t>(sizeof(Acc))}, DType::UInt8,
                           Device::cuda(device));
    run_pass<P>(op, shape, device, passes[0], x, StoreAcc<Acc>{static_cast<Acc*>(current.raw_data())});
    for (size_t k = 1; k < passes.size(); ++k) {
        const Acc* in = static_cast<const Acc*>(current.raw_data());
        if (k + 1 == passes.size()) {
            run_pass<MergeOf_t<P>>(op, shape, device, passes[k], in, store);
            return;
        }
        Tensor next = empty({passes[k].outer * passes[k].inner * static_cast<int64_t>(sizeof(Acc))}, DType::UInt8,
                            Device::cuda(device));
        run_pass<MergeOf_t<P>>(op, shape, device, passes[k], in, StoreAcc<Acc>{static_cast<Acc*>(next.raw_data())});
        current = next;
    }
}

}  // namespace engine::cuda
