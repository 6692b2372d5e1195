// Random fills from the Philox counter stream: element i uses counter (offset + i), so the values do not
// depend on how the work is split across threads (or, on the GPU, across blocks).
#include <cmath>

#include "kernels/cpu/cpu_backend.h"
#include "runtime/parallel.h"
#include "runtime/philox.h"

namespace engine::cpu {

void CpuBackend::random_(Tensor& out, RandomKind kind, double a, double b, uint64_t seed, uint64_t offset) {
    // Explicit fma: the CUDA kernel (random.cu) uses the same rounding, so both backends draw identical values.
    ENGINE_DISPATCH_FLOATING(out.dtype(), "random_", [&] {
        scalar_t* data = out.data<scalar_t>();
        parallel_for(0, out.numel(), 4096, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const philox::Block block = philox::generate(offset + static_cast<uint64_t>(i), seed);
                switch (kind) {
                    case RandomKind::Uniform: {
                        const double u = std::is_same_v<scalar_t, float> ? philox::uniform_float(block)
                                                                         : philox::uniform_double(block);
                        data[i] = static_cast<scalar_t>(std::fma(b - a, u, a));
                        break;
                    }
                    case RandomKind::Normal:
                        data[i] = static_cast<scalar_t>(std::fma(b, philox::normal(block), a));
                        break;
                    case RandomKind::Bernoulli:
                        data[i] = philox::bernoulli(block, a) ? scalar_t(1) : scalar_t(0);
                        break;
                }
            }
        });
    });
}

}  // namespace engine::cpu
