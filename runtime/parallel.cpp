#include "runtime/parallel.h"

#include <exception>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace engine {

int num_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel() != 0;
#else
    return false;
#endif
}

void parallel_for_chunks(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> f) {
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
