// CPU reductions: sum / mean / max / min over any set of dims, and max / min with indices along one dim.
// Float sums accumulate in double; integer sums give int64 as in PyTorch; max / min propagate NaN.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/reduce_driver.h"
#include "kernels/dim_view.h"
#include "kernels/kernel_elem.h"
#include "kernels/reduce_math.h"

namespace engine::cpu {
namespace {

template <class T, class AccT>
struct SumOp {
    using Acc = AccT;
    static Acc identity() { return Acc(0); }
    static Acc step(Acc a, T v) { return a + static_cast<Acc>(v); }
    static Acc merge(Acc a, Acc b) { return a + b; }
};

// Sums of contiguous rows let the compiler reorder the additions across vector lanes (omp simd).
template <class T, class AccT>
struct SumPolicy : FoldPolicy<SumOp<T, AccT>> {
    static AccT row(const T* x, int64_t n) {
        AccT acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += static_cast<AccT>(x[i]);
        return acc;
    }
};

// Max / min where NaN wins, with the accumulator formulas the CUDA backend uses.
template <class T, bool IsMax>
struct ExtremeOp {
    using Acc = T;
    static T identity() { return extreme_identity<T, IsMax>(); }
    static T step(T a, T v) { return extreme_step<IsMax>(a, v); }
    static T merge(T a, T b) { return step(a, b); }
};

template <class Policy, class T, class Out>
void reduce_into(const Tensor& x, const std::vector<int64_t>& dims, Out* out, double divisor) {
    using Acc = typename Policy::Acc;
    const T* data = reinterpret_cast<const T*>(x.raw_data());
    const std::vector<Acc> acc =
        reduce_to_accumulators<Policy>(data, x.shape(), dims, [](T v) { return static_cast<Acc>(v); });
    for (size_t i = 0; i < acc.size(); ++i) {
        if constexpr (std::is_floating_point_v<Acc>) {
            out[i] = static_cast<Out>(acc[i] / divisor);
        } else {
            out[i] = static_cast<Out>(acc[i]);
        }
    }
}

// First occurrence of the max (min) of a contiguous row; the first NaN wins over everything.
template <bool IsMax, class T>
void arg_extreme_row(const T* x, int64_t n, T& value, int64_t& index) {
    T best = x[0];
    int64_t at = 0;
    if (best == best) {
        for (int64_t i = 1; i < n; ++i) {
            const T v = x[i];
            if (v != v) {
                best = v;
                at = i;
                break;
            }
            if (IsMax ? v > best : v < best) {
                best = v;
                at = i;
            }
        }
    }
    value = best;
    index = at;
}

// The same for `width` columns of a (reduce, stride) block.
template <bool IsMax, class T>
void arg_extreme_cols(const T* x, int64_t reduce, int64_t stride, int64_t width, T* value, int64_t* index) {
    for (int64_t b = 0; b < width; ++b) {
        value[b] = x[b];
        index[b] = 0;
    }
    for (int64_t r = 1; r < reduce; ++r) {
        const T* row = x + r * stride;
        for (int64_t b = 0; b < width; ++b) {
            const T v = row[b], best = value[b];
            const bool take = (IsMax ? v > best : v < best) || (v != v && best == best);
            value[b] = take ? v : best;
            index[b] = take ? r : index[b];
        }
    }
}

template <bool IsMax, class T>
void arg_extreme(const Tensor& x, int64_t dim, T* value, int64_t* index) {
    const DimView view = view_around_dim(x.shape(), dim);
    const int64_t outer = view.outer, reduce = view.size, inner = view.inner;
    const T* data = x.data<T>();
    if (inner == 1) {
        parallel_for(0, outer, grain_for(reduce), [&](int64_t lo, int64_t hi) {
            for (int64_t o = lo; o < hi; ++o) arg_extreme_row<IsMax>(data + o * reduce, reduce, value[o], index[o]);
        });
        return;
    }
    const int64_t band = kReduceBand;
    const int64_t bands = (inner + band - 1) / band;
    const int64_t grain = grain_for(reduce * std::min(inner, band));
    parallel_for(0, outer * bands, grain, [&](int64_t lo, int64_t hi) {
        for (int64_t w = lo; w < hi; ++w) {
            const int64_t o = w / bands, b0 = (w % bands) * band;
            const int64_t at = o * inner + b0;
            arg_extreme_cols<IsMax>(data + o * reduce * inner + b0, reduce, inner, std::min(band, inner - b0),
                                    value + at, index + at);
        }
    });
}

}  // namespace

Tensor CpuBackend::reduce(ReduceOp op, const Tensor& input, const std::vector<int64_t>& dims_in, bool keepdim) {
    if (is_half(input.dtype()))
        return in_float32(*this, input.dtype(), {input},
                          [&](const std::vector<Tensor>& f) { return reduce(op, f[0], dims_in, keepdim); });
    const char* name = reduce_op_name(op);
    const ReduceCall call = reduce_call(op, input, dims_in, keepdim);
    const std::vector<int64_t>& dims = call.dims;
    Tensor out = empty(call.out_shape, call.out_dtype);
    if (out.numel() == 0) return out;
    check_reduce_input(op, input);
    if (input.numel() == 0) {
        fill_(out, empty_reduce_value(op));
        return out;
    }
    const Tensor x = dense(input);
    const double count = static_cast<double>(x.numel() / out.numel());
    ENGINE_DISPATCH_ALL(x.dtype(), name, [&] {
        using T = scalar_t;
        switch (op) {
            case ReduceOp::Sum:
            case ReduceOp::Mean:
                if constexpr (std::is_floating_point_v<T>) {
                    reduce_into<SumPolicy<T, double>, T>(x, dims, out.data<T>(), op == ReduceOp::Mean ? count : 1.0);
                } else {
                    reduce_into<SumPolicy<T, int64_t>, T>(x, dims, out.data<int64_t>(), 1.0);
                }
                break;
            case ReduceOp::Max:
                reduce_into<FoldPolicy<ExtremeOp<KernelElem<T>, true>>, KernelElem<T>>(
                    x, dims, reinterpret_cast<KernelElem<T>*>(out.raw_data()), 1.0);
                break;
            case ReduceOp::Min:
                reduce_into<FoldPolicy<ExtremeOp<KernelElem<T>, false>>, KernelElem<T>>(
                    x, dims, reinterpret_cast<KernelElem<T>*>(out.raw_data()), 1.0);
                break;
        }
    });
    return out;
}

std::pair<Tensor, Tensor> CpuBackend::reduce_with_index(ReduceOp op, const Tensor& input, int64_t dim, bool keepdim) {
    if (is_half(input.dtype())) {  // as in_float32, for a pair of results
        auto [values, indices] = reduce_with_index(op, converted_to(*this, input, DType::Float32), dim, keepdim);
        return {converted_to(*this, values, input.dtype()), indices};
    }
    const char* name = reduce_op_name(op);
    ENGINE_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, name, ": reduce_with_index supports max and min only");
    const std::vector<int64_t> dims = input.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
    const Shape out_shape = reduced_shape(input.shape(), dims, keepdim);
    Tensor values = empty(out_shape, input.dtype());
    Tensor indices = empty(out_shape, DType::Int64);
    if (values.numel() == 0) return {values, indices};
    ENGINE_CHECK(input.numel() > 0, name, ": cannot reduce input of shape ", shape_str(input.shape()),
                 " over its empty dim ", dim);
    const Tensor x = dense(input);
    ENGINE_DISPATCH_ALL(x.dtype(), name, [&] {
        if (op == ReduceOp::Max) {
            arg_extreme<true, scalar_t>(x, dim, values.data<scalar_t>(), indices.data<int64_t>());
        } else {
            arg_extreme<false, scalar_t>(x, dim, values.data<scalar_t>(), indices.data<int64_t>());
        }
    });
    return {values, indices};
}

}  // namespace engine::cpu
