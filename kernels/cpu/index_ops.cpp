// CPU indexing: gather, scatter (copy or add, from a tensor or a value), index_select and index_add. Index
// tensors (int64 or int32) are bounds-checked in one serial pass before any parallel work, so the error names
// the first bad index.
#include <algorithm>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/index_iter.h"
#include "kernels/dim_view.h"
#include "kernels/index_dims.h"
#include "kernels/kernel_elem.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

using Offsets = std::array<int64_t, 3>;

template <class I>
void check_indices(const char* op, const Tensor& index, int64_t dim, int64_t size) {
    const I* idx = index.data<I>();
    const int64_t n = index.numel();
    for (int64_t i = 0; i < n; ++i) {
        const int64_t v = static_cast<int64_t>(idx[i]);
        if (v < 0 || v >= size) throw_index_out_of_range(op, v, dim, size, i, index.shape());
    }
}

template <class T, class I>
void gather_impl(const Tensor& x, int64_t dim, const Tensor& index, Tensor& out) {
    check_indices<I>("gather", index, dim, indexed_dim_size(x, dim));
    const T* xp = reinterpret_cast<const T*>(x.raw_data());
    const I* idx = index.data<I>();
    T* o = reinterpret_cast<T*>(out.raw_data());
    const int64_t x_step = indexed_dim_stride(x, dim);
    for_each_index_block<3>(
        index.shape(), dim, {out.strides(), index.strides(), strides_without_dim(x, dim)},
        [&](const Offsets& base, const Offsets& step, int64_t len, const Offsets& istep, int64_t ilen) {
            for (int64_t k = 0; k < len; ++k) {
                T* o_at = o + base[0] + k * step[0];
                const I* i_at = idx + base[1] + k * step[1];
                const T* x_at = xp + base[2];
                for (int64_t j = 0; j < ilen; ++j)
                    o_at[j * istep[0]] = x_at[j * istep[2] + static_cast<int64_t>(i_at[j * istep[1]]) * x_step];
            }
        });
}

// out (a contiguous copy of self) receives src (or `value` when src is null) at index along dim.
template <class T, class I>
void scatter_impl(Tensor& out, int64_t dim, const Tensor& index, const Tensor* src, T value, bool add) {
    check_indices<I>("scatter", index, dim, indexed_dim_size(out, dim));
    T* o = reinterpret_cast<T*>(out.raw_data());
    const I* idx = index.data<I>();
    const int64_t out_step = indexed_dim_stride(out, dim);
    const T* sp = src ? reinterpret_cast<const T*>(src->raw_data()) : nullptr;
    const Strides src_strides = src ? src->strides() : Strides(index.shape().size(), 0);
    for_each_index_block<3>(
        index.shape(), dim, {strides_without_dim(out, dim), index.strides(), src_strides},
        [&](const Offsets& base, const Offsets& step, int64_t len, const Offsets& istep, int64_t ilen) {
            for (int64_t k = 0; k < len; ++k) {
                T* o_at = o + base[0];
                const I* i_at = idx + base[1] + k * step[1];
                const T* s_at = sp ? sp + base[2] + k * step[2] : nullptr;
                for (int64_t j = 0; j < ilen; ++j) {
                    T& dst = o_at[j * istep[0] + static_cast<int64_t>(i_at[j * istep[1]]) * out_step];
                    const T v = s_at ? s_at[j * istep[2]] : value;
                    dst = add ? static_cast<T>(dst + v) : v;
                }
            }
        });
}

}  // namespace

Tensor CpuBackend::gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
    const Tensor index = dense(index_in);
    Tensor out = empty(index.shape(), x.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "gather", [&] {
        ENGINE_DISPATCH_INDEX(index.dtype(), "gather",
                              [&] { gather_impl<KernelElem<scalar_t>, index_t>(x, dim, index, out); });
    });
    return out;
}

Tensor CpuBackend::scatter(const Tensor& self, int64_t dim, const Tensor& index_in, const Tensor& src,
                           ScatterReduce reduce) {
    const Tensor index = dense(index_in);
    Tensor out = empty(self.shape(), self.dtype());
    copy_(out, self);
    ENGINE_DISPATCH_ALL(self.dtype(), "scatter", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "scatter", [&] {
            scatter_impl<T, index_t>(out, dim, index, &src, T(0), reduce == ScatterReduce::Add);
        });
    });
    return out;
}

Tensor CpuBackend::scatter_value(const Tensor& self, int64_t dim, const Tensor& index_in, double value) {
    const Tensor index = dense(index_in);
    Tensor out = empty(self.shape(), self.dtype());
    copy_(out, self);
    ENGINE_DISPATCH_ALL(self.dtype(), "scatter", [&] {
        using T = KernelElem<scalar_t>;
        const T v = static_cast<T>(static_cast<scalar_t>(value));
        ENGINE_DISPATCH_INDEX(index.dtype(), "scatter",
                              [&] { scatter_impl<T, index_t>(out, dim, index, nullptr, v, false); });
    });
    return out;
}

Tensor CpuBackend::index_select(const Tensor& x_in, int64_t dim, const Tensor& index_in) {
    const Tensor x = dense(x_in), index = dense(index_in);
    const int64_t size = indexed_dim_size(x, dim), count = index.numel();
    Shape out_shape = x.shape();
    if (!out_shape.empty()) out_shape[dim] = count;
    Tensor out = empty(out_shape, x.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "index_select", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "index_select", [&] {
            check_indices<index_t>("index_select", index, dim, size);
            const index_t* idx = index.data<index_t>();
            const DimView s = view_around_dim(x.shape(), dim);
            const T* in = reinterpret_cast<const T*>(x.raw_data());
            T* o = reinterpret_cast<T*>(out.raw_data());
            parallel_for(0, s.outer * count, grain_for(s.inner),
                         [&](int64_t lo, int64_t hi) {
                             for (int64_t row = lo; row < hi; ++row) {
                                 const int64_t outer = row / count, k = row % count;
                                 const T* src = in + (outer * size + static_cast<int64_t>(idx[k])) * s.inner;
                                 std::copy(src, src + s.inner, o + row * s.inner);
                             }
                         });
        });
    });
    return out;
}

Tensor CpuBackend::index_add(const Tensor& self, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
    const Tensor index = dense(index_in), src = dense(src_in);
    Tensor out = empty(self.shape(), self.dtype());
    copy_(out, self);
    const int64_t size = indexed_dim_size(out, dim), count = index.numel();
    ENGINE_DISPATCH_ALL(self.dtype(), "index_add", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "index_add", [&] {
            check_indices<index_t>("index_add", index, dim, size);
            const index_t* idx = index.data<index_t>();
            const DimView s = view_around_dim(out.shape(), dim);
            const T* in = reinterpret_cast<const T*>(src.raw_data());
            T* o = reinterpret_cast<T*>(out.raw_data());
            // Repeated indices add into the same slice, so a thread owns a band of columns of one outer slab
            // and walks the index list in order.
            constexpr int64_t band = 1024;
            const int64_t bands = (s.inner + band - 1) / band;
            const int64_t work = std::max<int64_t>(1, count * std::min(s.inner, band));
            parallel_for(0, s.outer * bands, grain_for(work), [&](int64_t lo, int64_t hi) {
                for (int64_t w = lo; w < hi; ++w) {
                    const int64_t outer = w / bands, b0 = (w % bands) * band;
                    const int64_t width = std::min(band, s.inner - b0);
                    for (int64_t k = 0; k < count; ++k) {
                        const T* from = in + (outer * count + k) * s.inner + b0;
                        T* to = o + (outer * size + static_cast<int64_t>(idx[k])) * s.inner + b0;
                        for (int64_t b = 0; b < width; ++b) to[b] = static_cast<T>(to[b] + from[b]);
                    }
                }
            });
        });
    });
    return out;
}

}  // namespace engine::cpu
