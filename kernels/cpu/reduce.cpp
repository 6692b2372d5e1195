// CPU reductions: sum / mean / max / min over any set of dims, and max / min with indices along one dim.
// Float sums accumulate in double; integer sums give int64 as in PyTorch; max / min propagate NaN.
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/reduce_driver.h"

namespace engine {
namespace {

// A contiguous alias of t; the detach keeps a copy made here out of the autograd graph.

template <class T, class AccT>
struct SumOp {
    using Acc = AccT;
    static Acc identity() { return Acc(0); }
    static Acc step(Acc a, T v) { return a + static_cast<Acc>(v); }
    static Acc merge(Acc a, Acc b) { return a + b; }
};

// Sums of contiguous rows let the compiler reorder the additions across vector lanes (omp simd).
template <class T, class AccT>
struct SumPolicy : cpu::FoldPolicy<SumOp<T, AccT>> {
    static AccT row(const T* x, int64_t n) {
        AccT acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += static_cast<AccT>(x[i]);
        return acc;
    }
};

// NaN wins: once the accumulator is NaN no comparison replaces it.
template <class T, bool IsMax>
struct ExtremeOp {
    using Acc = T;
    static T identity() {
        if constexpr (std::is_floating_point_v<T>) {
            return IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
        } else {
            return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
        }
    }
    static T step(T a, T v) {
        const bool better = IsMax ? v > a : v < a;
        return (better || v != v) ? v : a;
    }
    static T merge(T a, T b) { return step(a, b); }
};

std::vector<int64_t> all_dims_if_empty(const std::vector<int64_t>& dims, int64_t ndim) {
    if (!dims.empty()) return dims;
    std::vector<int64_t> all(static_cast<size_t>(ndim));
    std::iota(all.begin(), all.end(), 0);
    return all;
}

// Bool is reduced as uint8 (same bytes), which keeps std::vector<bool> out of the accumulators.
template <class T>
using Elem = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

template <class Policy, class T, class Out>
void reduce_into(const Tensor& x, const std::vector<int64_t>& dims, Out* out, double divisor) {
    using Acc = typename Policy::Acc;
    const T* data = reinterpret_cast<const T*>(x.raw_data());
    const std::vector<Acc> acc =
        cpu::reduce_to_accumulators<Policy>(data, x.shape(), dims, [](T v) { return static_cast<Acc>(v); });
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
    const Shape& shape = x.shape();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
    for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
    const int64_t reduce = shape.empty() ? 1 : shape[dim];
    const T* data = x.data<T>();
    if (inner == 1) {
        parallel_for(0, outer, grain_for(reduce), [&](int64_t lo, int64_t hi) {
            for (int64_t o = lo; o < hi; ++o) arg_extreme_row<IsMax>(data + o * reduce, reduce, value[o], index[o]);
        });
        return;
    }
    const int64_t band = cpu::kReduceBand;
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
    const char* name = reduce_op_name(op);
    const std::vector<int64_t> dims = all_dims_if_empty(dims_in, input.dim());
    const bool integral = is_integral(input.dtype());
    const DType out_dtype = op == ReduceOp::Sum && integral ? DType::Int64 : input.dtype();
    Tensor out = empty(cpu::reduced_shape(input.shape(), dims, keepdim), out_dtype);
    if (out.numel() == 0) return out;
    ENGINE_CHECK(!(op == ReduceOp::Mean && integral), name, ": expected a float32 or float64 tensor, got ",
                 dtype_name(input.dtype()));
    if (input.numel() == 0) {
        ENGINE_CHECK(op == ReduceOp::Sum || op == ReduceOp::Mean, name, ": cannot reduce input of shape ",
                     shape_str(input.shape()), " over an empty dim");
        fill_(out, op == ReduceOp::Sum ? 0.0 : std::numeric_limits<double>::quiet_NaN());
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
                reduce_into<cpu::FoldPolicy<ExtremeOp<Elem<T>, true>>, Elem<T>>(
                    x, dims, reinterpret_cast<Elem<T>*>(out.raw_data()), 1.0);
                break;
            case ReduceOp::Min:
                reduce_into<cpu::FoldPolicy<ExtremeOp<Elem<T>, false>>, Elem<T>>(
                    x, dims, reinterpret_cast<Elem<T>*>(out.raw_data()), 1.0);
                break;
        }
    });
    return out;
}

std::pair<Tensor, Tensor> CpuBackend::reduce_with_index(ReduceOp op, const Tensor& input, int64_t dim, bool keepdim) {
    const char* name = reduce_op_name(op);
    ENGINE_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, name, ": reduce_with_index supports max and min only");
    const std::vector<int64_t> dims = input.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
    const Shape out_shape = cpu::reduced_shape(input.shape(), dims, keepdim);
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

}  // namespace engine
