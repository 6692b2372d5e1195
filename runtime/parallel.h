// Work splitting across the CPU's cores (OpenMP underneath, shared with oneDNN's thread pool).
#pragma once

#include <algorithm>
#include <cstdint>

#include "runtime/function_ref.h"

namespace engine {

// Below this many elements of simple work a loop stays on one thread: waking a team costs a few microseconds.
constexpr int64_t kParallelGrain = 32768;

// Items per chunk so that one chunk holds about kParallelGrain units of work, for loops over items (planes,
// channels, rows) that each cost `work_per_item` units.
inline int64_t grain_for(int64_t work_per_item) {
    return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, work_per_item));
}

int num_threads();
void set_num_threads(int n);
bool in_parallel_region();

// Calls f(begin, end) on disjoint chunks of [begin, end) covering it, in parallel when the range is at least
// `grain` long and we are not already inside a parallel region. The first exception thrown by any chunk is
// rethrown on the calling thread after all chunks finished.
void parallel_for_chunks(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> f);

// parallel_for_chunks for any callable. Ranges below `grain` run here directly; larger ones go through the one
// compiled parallel driver, so that each call site does not instantiate an OpenMP region of its own (one
// indirect call per chunk, nothing per element).
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
    if (end <= begin) return;
    if (end - begin < grain) {
        f(begin, end);
        return;
    }
    parallel_for_chunks(begin, end, grain, f);
}

}  // namespace engine
