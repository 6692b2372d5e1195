// Work splitting across the CPU's cores (OpenMP underneath, shared with oneDNN's thread pool).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

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
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
    if (end <= begin) return;
#ifdef _OPENMP
    const int64_t range = end - begin;
    if (range >= grain && !omp_in_parallel() && omp_get_max_threads() > 1) {
        std::exception_ptr error;
#pragma omp parallel
        {
            const int64_t team = omp_get_num_threads();
            const int64_t tid = omp_get_thread_num();
            const int64_t chunk = (range + team - 1) / team;
            const int64_t lo = begin + tid * chunk;
            const int64_t hi = lo + chunk < end ? lo + chunk : end;
            if (lo < hi) {
                try {
                    f(lo, hi);
                } catch (...) {
#pragma omp critical(engine_parallel_for_error)
                    if (!error) error = std::current_exception();
                }
            }
        }
        if (error) std::rethrow_exception(error);
        return;
    }
#endif
    (void)grain;
    f(begin, end);
}

}  // namespace engine
