// Strided iteration for elementwise CPU kernels: N operands viewed over one (broadcast) shape. Dims of size 1
// are dropped and adjacent dims that are contiguous for every operand are merged (kernels/strided_dims.h), so
// the common cases (contiguous tensors, a per-channel broadcast) become a few long inner rows that the compiler
// vectorises.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "kernels/strided_dims.h"
#include "runtime/function_ref.h"
#include "runtime/parallel.h"
#include "runtime/tensor.h"

namespace engine::cpu {

template <int N>
struct LoopOperands {
    std::array<char*, N> base;
    std::array<Strides, N> strides;  // in elements, over the loop shape (0 where broadcast)
    std::array<int64_t, N> elem_size;
};

// Operand k is tensors[k] read (or written) over `shape`; it must broadcast to it.
template <int N>
LoopOperands<N> loop_operands(const Shape& shape, const std::array<const Tensor*, N>& tensors) {
    LoopOperands<N> ops;
    for (int k = 0; k < N; ++k) {
        const Tensor& t = *tensors[k];
        ops.base[k] = static_cast<char*>(t.raw_data());
        ops.strides[k] = broadcast_strides(t.shape(), t.strides(), shape);
        ops.elem_size[k] = static_cast<int64_t>(dtype_size(t.dtype()));
    }
    return ops;
}

// Calls inner(ptrs, byte_strides, n) on rows of the iteration space: ptrs[k] points at operand k's first element
// of the row, byte_strides[k] is its step along the row. Rows are split across threads for large shapes.
// Compiled once per N (loops.cpp): only the row bodies are instantiated per op.
template <int N>
using RowBody = FunctionRef<void(std::array<char*, N>, std::array<int64_t, N>, int64_t)>;
template <int N>
void for_each_row(const Shape& shape, const LoopOperands<N>& ops, RowBody<N> inner, int64_t grain = kParallelGrain);
extern template void for_each_row<1>(const Shape&, const LoopOperands<1>&, RowBody<1>, int64_t);
extern template void for_each_row<2>(const Shape&, const LoopOperands<2>&, RowBody<2>, int64_t);
extern template void for_each_row<3>(const Shape&, const LoopOperands<3>&, RowBody<3>, int64_t);
extern template void for_each_row<4>(const Shape&, const LoopOperands<4>&, RowBody<4>, int64_t);
extern template void for_each_row<6>(const Shape&, const LoopOperands<6>&, RowBody<6>, int64_t);

// out[i] = f(x[i]) over out's shape (x broadcasts to it). T_out/T_in are the element types.
template <class TOut, class TIn, class F>
void map_unary(const Tensor& out, const Tensor& x, const F& f) {
    auto ops = loop_operands<2>(out.shape(), {&out, &x});
    for_each_row<2>(out.shape(), ops, [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
        TOut* o = reinterpret_cast<TOut*>(p[0]);
        const TIn* a = reinterpret_cast<const TIn*>(p[1]);
        if (s[0] == sizeof(TOut) && s[1] == sizeof(TIn)) {
            for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
        } else if (s[0] == sizeof(TOut) && s[1] == 0) {
            const TOut v = f(a[0]);
            for (int64_t i = 0; i < n; ++i) o[i] = v;
        } else {
            const int64_t so = s[0] / static_cast<int64_t>(sizeof(TOut));
            const int64_t sa = s[1] / static_cast<int64_t>(sizeof(TIn));
            for (int64_t i = 0; i < n; ++i) o[i * so] = f(a[i * sa]);
        }
    });
}

// out[i] = f(a[i], b[i]) over out's shape (a and b broadcast to it).
template <class TOut, class TA, class TB, class F>
void map_binary(const Tensor& out, const Tensor& a, const Tensor& b, const F& f) {
    auto ops = loop_operands<3>(out.shape(), {&out, &a, &b});
    for_each_row<3>(out.shape(), ops, [&](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
        TOut* o = reinterpret_cast<TOut*>(p[0]);
        const TA* x = reinterpret_cast<const TA*>(p[1]);
        const TB* y = reinterpret_cast<const TB*>(p[2]);
        const bool out_dense = s[0] == sizeof(TOut);
        if (out_dense && s[1] == sizeof(TA) && s[2] == sizeof(TB)) {
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
        } else if (out_dense && s[1] == sizeof(TA) && s[2] == 0) {
            const TB yv = y[0];
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
        } else if (out_dense && s[1] == 0 && s[2] == sizeof(TB)) {
            const TA xv = x[0];
            for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
        } else {
            const int64_t so = s[0] / static_cast<int64_t>(sizeof(TOut));
            const int64_t sx = s[1] / static_cast<int64_t>(sizeof(TA));
            const int64_t sy = s[2] / static_cast<int64_t>(sizeof(TB));
            for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sx], y[i * sy]);
        }
    });
}

// out[i] = f(a[i], b[i], c[i]) over out's shape.
template <class TOut, class TA, class TB, class TC, class F>
void map_ternary(const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, const F& f) {
    auto ops = loop_operands<4>(out.shape(), {&out, &a, &b, &c});
    for_each_row<4>(out.shape(), ops, [&](std::array<char*, 4> p, std::array<int64_t, 4> s, int64_t n) {
        const int64_t so = s[0] / static_cast<int64_t>(sizeof(TOut));
        const int64_t sa = s[1] / static_cast<int64_t>(sizeof(TA));
        const int64_t sb = s[2] / static_cast<int64_t>(sizeof(TB));
        const int64_t sc = s[3] / static_cast<int64_t>(sizeof(TC));
        TOut* o = reinterpret_cast<TOut*>(p[0]);
        const TA* x = reinterpret_cast<const TA*>(p[1]);
        const TB* y = reinterpret_cast<const TB*>(p[2]);
        const TC* z = reinterpret_cast<const TC*>(p[3]);
        if (so == 1 && sa == 1 && sb == 1 && sc == 1) {
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i], z[i]);
        } else {
            for (int64_t i = 0; i < n; ++i) o[i * so] = f(x[i * sa], y[i * sb], z[i * sc]);
        }
    });
}

}  // namespace engine::cpu
