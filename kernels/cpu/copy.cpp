// fill_ and copy_ on the CPU (any strides, broadcast sources, dtype conversion), through the row loops.
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/loops.h"

namespace engine::cpu {

void CpuBackend::fill_(Tensor& out, double value) {
    ENGINE_DISPATCH_ALL_AND_HALF(out.dtype(), "fill_", [&] {
        const scalar_t v = static_cast<scalar_t>(value);
        auto ops = loop_operands<1>(out.shape(), {&out});
        for_each_row<1>(out.shape(), ops, [&](std::array<char*, 1> p, std::array<int64_t, 1> s, int64_t n) {
            scalar_t* o = reinterpret_cast<scalar_t*>(p[0]);
            const int64_t step = s[0] / static_cast<int64_t>(sizeof(scalar_t));
            if (step == 1) {
                for (int64_t i = 0; i < n; ++i) o[i] = v;
            } else {
                for (int64_t i = 0; i < n; ++i) o[i * step] = v;
            }
        });
    });
}

void CpuBackend::copy_(Tensor& dst, const Tensor& src) {
    ENGINE_DISPATCH_ALL_AND_HALF(dst.dtype(), "copy_", [&] {
        using dst_t = scalar_t;
        ENGINE_DISPATCH_ALL_AND_HALF(src.dtype(), "copy_", [&] {
            map_unary<dst_t, scalar_t>(dst, src, [](scalar_t v) { return static_cast<dst_t>(v); });
        });
    });
}

}  // namespace engine::cpu
