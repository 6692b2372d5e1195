// CPU variance over any set of dims: two passes (mean, then squared deviations) in double within each row or
// column band, and Chan's pairwise formula to merge partial results across passes and chunks.
#include <limits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/reduce_driver.h"
#include "kernels/reduce_math.h"

namespace engine::cpu {
namespace {

template <class T>
struct VarPolicy {
    using Acc = VarAcc;

    static Acc row(const T* x, int64_t n) {
        constexpr int L = kReduceLanes;
        double lanes[L] = {};
        int64_t i = 0;
        for (; i + L <= n; i += L)
            for (int l = 0; l < L; ++l) lanes[l] += static_cast<double>(x[i + l]);
        double sum = 0;
        for (; i < n; ++i) sum += static_cast<double>(x[i]);
        for (int l = 0; l < L; ++l) sum += lanes[l];
        const double mean = sum / static_cast<double>(n);
        for (int l = 0; l < L; ++l) lanes[l] = 0;
        double m2 = 0;
        for (i = 0; i + L <= n; i += L) {
            for (int l = 0; l < L; ++l) {
                const double d = static_cast<double>(x[i + l]) - mean;
                lanes[l] += d * d;
            }
        }
        for (; i < n; ++i) {
            const double d = static_cast<double>(x[i]) - mean;
            m2 += d * d;
        }
        for (int l = 0; l < L; ++l) m2 += lanes[l];
        return {static_cast<double>(n), mean, m2};
    }

    static void cols(const T* x, int64_t reduce, int64_t stride, int64_t width, Acc* out) {
        double mean[kReduceBand], m2[kReduceBand];
        for (int64_t b = 0; b < width; ++b) mean[b] = m2[b] = 0;
        for (int64_t r = 0; r < reduce; ++r)
            for (int64_t b = 0; b < width; ++b) mean[b] += static_cast<double>(x[r * stride + b]);
        const double inv = 1.0 / static_cast<double>(reduce);
        for (int64_t b = 0; b < width; ++b) mean[b] *= inv;
        for (int64_t r = 0; r < reduce; ++r) {
            for (int64_t b = 0; b < width; ++b) {
                const double d = static_cast<double>(x[r * stride + b]) - mean[b];
                m2[b] += d * d;
            }
        }
        for (int64_t b = 0; b < width; ++b) out[b] = {static_cast<double>(reduce), mean[b], m2[b]};
    }

    static Acc merge(const Acc& a, const Acc& b) { return var_merge(a, b); }
};

}  // namespace

Tensor CpuBackend::var(const Tensor& input, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
    if (is_half(input.dtype()))
        return in_float32(*this, input.dtype(), {input},
                          [&](const std::vector<Tensor>& f) { return var(f[0], dims_in, correction, keepdim); });
    const std::vector<int64_t> dims = reduce_dims_or_all(dims_in, input.dim());
    Tensor out = empty(reduced_shape(input.shape(), dims, keepdim), input.dtype());
    if (out.numel() == 0) return out;
    if (input.numel() == 0) {
        fill_(out, std::numeric_limits<double>::quiet_NaN());
        return out;
    }
    const Tensor x = dense(input);
    ENGINE_DISPATCH_FLOATING(x.dtype(), "var", [&] {
        using T = scalar_t;
        const std::vector<VarAcc> acc = reduce_to_accumulators<VarPolicy<T>>(x.data<T>(), x.shape(), dims, [](T v) {
            return VarAcc{1.0, static_cast<double>(v), 0.0};
        });
        T* o = out.data<T>();
        for (size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<T>(var_value(acc[i], correction));
    });
    return out;
}

}  // namespace engine::cpu
