// The shared machinery of the CPU reductions: runs the (outer, reduce, inner) passes that kernels/reduce_plan.h
// plans for any set of reduced dims. A Policy says how one row or one band of columns is reduced.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/reduce_plan.h"
#include "runtime/parallel.h"
#include "runtime/shape.h"

namespace engine::cpu {

// Columns are reduced in bands this wide so the accumulators stay in registers / L1.
constexpr int64_t kReduceBand = 256;
// Long rows with few outputs are split into chunks of this many elements whose partial results are merged
// in a fixed order, so the result does not depend on the number of threads.
constexpr int64_t kReduceChunk = 32768;
// Independent accumulators per row: breaks the dependency chain and lets the compiler vectorise.
constexpr int kReduceLanes = 16;

// Folds a contiguous row with Op::step into kReduceLanes accumulators, then merges them with Op::merge.
template <class Op, class In>
typename Op::Acc fold_row(const In* x, int64_t n) {
    using Acc = typename Op::Acc;
    Acc lanes[kReduceLanes];
    for (int l = 0; l < kReduceLanes; ++l) lanes[l] = Op::identity();
    int64_t i = 0;
    for (; i + kReduceLanes <= n; i += kReduceLanes)
        for (int l = 0; l < kReduceLanes; ++l) lanes[l] = Op::step(lanes[l], x[i + l]);
    Acc acc = Op::identity();
    for (; i < n; ++i) acc = Op::step(acc, x[i]);
    for (int l = 0; l < kReduceLanes; ++l) acc = Op::merge(acc, lanes[l]);
    return acc;
}

// out[b] = fold over r of x[r * stride + b], for b < width. Four rows per sweep keep the accumulator in a
// register for four steps (the order of the steps is unchanged).
template <class Op, class In>
void fold_cols(const In* x, int64_t reduce, int64_t stride, int64_t width, typename Op::Acc* out) {
    for (int64_t b = 0; b < width; ++b) out[b] = Op::identity();
    int64_t r = 0;
    for (; r + 4 <= reduce; r += 4) {
        const In* r0 = x + r * stride;
        const In* r1 = r0 + stride;
        const In* r2 = r1 + stride;
        const In* r3 = r2 + stride;
        for (int64_t b = 0; b < width; ++b)
            out[b] = Op::step(Op::step(Op::step(Op::step(out[b], r0[b]), r1[b]), r2[b]), r3[b]);
    }
    for (; r < reduce; ++r) {
        const In* row = x + r * stride;
        for (int64_t b = 0; b < width; ++b) out[b] = Op::step(out[b], row[b]);
    }
}

// A step-wise reduction (sum, max, min): Op provides Acc, identity(), step(Acc, In) and merge(Acc, Acc).
template <class Op>
struct FoldPolicy {
    using Acc = typename Op::Acc;
    template <class In>
    static Acc row(const In* x, int64_t n) {
        return fold_row<Op>(x, n);
    }
    template <class In>
    static void cols(const In* x, int64_t reduce, int64_t stride, int64_t width, Acc* out) {
        fold_cols<Op>(x, reduce, stride, width, out);
    }
    static Acc merge(const Acc& a, const Acc& b) { return Op::merge(a, b); }
};

// Later passes combine accumulators of the previous pass with Policy::merge.
template <class Policy>
struct MergePolicy {
    using Acc = typename Policy::Acc;
    static Acc row(const Acc* x, int64_t n) {
        Acc acc = x[0];
        for (int64_t i = 1; i < n; ++i) acc = Policy::merge(acc, x[i]);
        return acc;
    }
    static void cols(const Acc* x, int64_t reduce, int64_t stride, int64_t width, Acc* out) {
        for (int64_t b = 0; b < width; ++b) out[b] = x[b];
        for (int64_t r = 1; r < reduce; ++r)
            for (int64_t b = 0; b < width; ++b) out[b] = Policy::merge(out[b], x[r * stride + b]);
    }
    static Acc merge(const Acc& a, const Acc& b) { return Policy::merge(a, b); }
};

// Runs one pass: x is a contiguous (outer, reduce, inner) array, out receives (outer, inner) accumulators.
template <class Policy, class In>
void reduce_block(const ReduceBlock& blk, const In* x, typename Policy::Acc* out) {
    using Acc = typename Policy::Acc;
    const int64_t outer = blk.outer, reduce = blk.reduce, inner = blk.inner;
    if (inner == 1) {
        const int64_t chunks = outer < 16 ? (reduce + kReduceChunk - 1) / kReduceChunk : 1;
        if (chunks <= 1) {
            const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(reduce, 1));
            parallel_for(0, outer, grain, [&](int64_t lo, int64_t hi) {
                for (int64_t o = lo; o < hi; ++o) out[o] = Policy::row(x + o * reduce, reduce);
            });
            return;
        }
        std::vector<Acc> partial(static_cast<size_t>(outer * chunks));
        parallel_for(0, outer * chunks, 1, [&](int64_t lo, int64_t hi) {
            for (int64_t w = lo; w < hi; ++w) {
                const int64_t o = w / chunks, c = w % chunks;
                const int64_t begin = c * kReduceChunk, len = std::min(kReduceChunk, reduce - begin);
                partial[w] = Policy::row(x + o * reduce + begin, len);
            }
        });
        for (int64_t o = 0; o < outer; ++o) {
            Acc acc = partial[o * chunks];
            for (int64_t c = 1; c < chunks; ++c) acc = Policy::merge(acc, partial[o * chunks + c]);
            out[o] = acc;
        }
        return;
    }
    const int64_t bands = (inner + kReduceBand - 1) / kReduceBand;
    const int64_t band_work = std::max<int64_t>(reduce * std::min(inner, kReduceBand), 1);
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / band_work);
    parallel_for(0, outer * bands, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t w = lo; w < hi; ++w) {
            const int64_t o = w / bands, b0 = (w % bands) * kReduceBand;
            const int64_t width = std::min(kReduceBand, inner - b0);
            Policy::cols(x + o * reduce * inner + b0, reduce, inner, width, out + o * inner + b0);
        }
    });
}

// Reduces a contiguous input of `shape` over `dims` (sorted, at least one element in total) and returns the
// accumulators in the order of the kept dims. First pass with Policy on In, later passes with MergePolicy.
// `lift` turns an input element into an accumulator when nothing of size > 1 is reduced.
template <class Policy, class In, class Lift>
std::vector<typename Policy::Acc> reduce_to_accumulators(const In* x, const Shape& shape,
                                                         const std::vector<int64_t>& dims, const Lift& lift) {
    using Acc = typename Policy::Acc;
    const std::vector<ReduceBlock> blocks = reduce_blocks(shape, dims);
    if (blocks.empty()) {
        const int64_t n = shape_numel(shape);
        std::vector<Acc> out(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out[i] = lift(x[i]);
        return out;
    }
    std::vector<Acc> current(static_cast<size_t>(blocks[0].outer * blocks[0].inner));
    reduce_block<Policy>(blocks[0], x, current.data());
    for (size_t k = 1; k < blocks.size(); ++k) {
        std::vector<Acc> next(static_cast<size_t>(blocks[k].outer * blocks[k].inner));
        reduce_block<MergePolicy<Policy>>(blocks[k], current.data(), next.data());
        current.swap(next);
    }
    return current;
}

}  // namespace engine::cpu
