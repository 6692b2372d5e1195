// Indexing on the CUDA device: gather, scatter (copy or add, from a tensor or a value), index_select and
// index_add, with int64 or int32 indices. A check kernel records the first out-of-range index position with
// atomicMin; the op kernels skip bad indices (never reading or writing out of bounds), and after them the host
// reads the flag (waiting for the stream) and throws the CPU backend's error naming the first bad index.
// Scatter and index_add write each output element from one thread walking the index in order, so repeated
// indices resolve as on the CPU (the last write wins, sums in index order); index_add of floats over few
// columns uses atomicAdd across the index instead.
#include "runtime/cuda_api.h"

#include <type_traits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/dim_view.h"
#include "kernels/index_dims.h"
#include "kernels/kernel_elem.h"

namespace engine::cuda {
namespace {

// Below this many independent output columns, index_add of floats spreads the index over threads (atomicAdd).
constexpr int64_t kSerialIndexAddColumns = int64_t{1} << 16;

template <class I>
__device__ inline bool in_range(I v, int64_t size) {
    return static_cast<int64_t>(v) >= 0 && static_cast<int64_t>(v) < size;
}

template <class I>
__global__ void check_index_kernel(const I* index, int64_t n, int64_t size, unsigned long long* first_bad) {
    for (int64_t p = global_thread(); p < n; p += grid_stride())
        if (!in_range(index[p], size)) atomicMin(first_bad, static_cast<unsigned long long>(p));
}

// Validation of a dense index tensor against a dim of `size`: start() queues the check kernel, finish() waits
// for the stream (after the op's kernel) and throws for the first bad position.
template <class I>
class IndexCheck {
public:
    IndexCheck(int device, const char* op, const Tensor& index, int64_t dim, int64_t size)
        : op_(op), index_(index), dim_(dim), size_(size) {
        if (index.numel() == 0) return;
        first_bad_ = empty({1}, DType::Int64, index.device());
        // All bits set: no bad position (the largest unsigned value, which atomicMin only lowers).
        ENGINE_CUDA_CHECK(cudaMemsetAsync(first_bad_.raw_data(), 0xFF, sizeof(int64_t), current_stream(device)), op);
        launch(op, index.shape(), config_1d(device, index.numel()), check_index_kernel<I>, index.data<I>(),
               index.numel(), size, static_cast<unsigned long long*>(first_bad_.raw_data()));
    }

    void finish() const {
        if (!first_bad_.defined()) return;
        const int64_t bad = read_element<int64_t>(first_bad_);
        if (bad < 0) return;
        const int64_t value = read_element<int64_t>(dense(index_), bad);
        throw_index_out_of_range(op_, value, dim_, size_, bad, index_.shape());
    }

private:
    const char* op_;
    Tensor index_;
    int64_t dim_, size_;
    Tensor first_bad_;
};

template <class T, class I>
__global__ void gather_kernel(const T* x, const I* index, T* out, int64_t n, TensorInfo x_info, int64_t x_step,
                              int64_t size) {
    for (int64_t p = global_thread(); p < n; p += grid_stride()) {
        const I v = index[p];
        if (in_range(v, size)) out[p] = x[x_info.offset(p) + static_cast<int64_t>(v) * x_step];
    }
}

// One thread per line of the index along dim (operands: out, index, src offsets of the line's start).
struct ScatterLines {
    int64_t lines, len;
    StridedIndexer<3> start;
    int64_t out_step, index_step, src_step;
};

template <class T, class I>
__global__ void scatter_kernel(T* out, const I* index, const T* src, T value, bool add, ScatterLines s, int64_t size) {
    for (int64_t l = global_thread(); l < s.lines; l += grid_stride()) {
        int64_t off[3];
        s.start.offsets(l, off);
        for (int64_t k = 0; k < s.len; ++k) {
            const I v = index[off[1] + k * s.index_step];
            if (!in_range(v, size)) continue;
            T& dst = out[off[0] + static_cast<int64_t>(v) * s.out_step];
            const T val = src ? src[off[2] + k * s.src_step] : value;
            dst = add ? static_cast<T>(dst + val) : val;
        }
    }
}

template <class T, class I>
__global__ void index_select_kernel(const T* x, const I* index, T* out, int64_t n, TensorInfo x_info, int64_t x_step,
                                    int64_t count, int64_t inner, int64_t size) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        const I v = index[(i / inner) % count];
        if (in_range(v, size)) out[i] = x[x_info.offset(i) + static_cast<int64_t>(v) * x_step];
    }
}

// (outer, size, inner) output and (outer, count, inner) source: a thread owns a column (outer, r) and adds the
// source slices in index order.
template <class T, class I>
__global__ void index_add_kernel(T* out, const I* index, const T* src, int64_t columns, int64_t inner, int64_t count,
                                 int64_t size) {
    for (int64_t c = global_thread(); c < columns; c += grid_stride()) {
        const int64_t outer = c / inner, r = c % inner;
        for (int64_t k = 0; k < count; ++k) {
            const I v = index[k];
            if (!in_range(v, size)) continue;
            T& dst = out[(outer * size + static_cast<int64_t>(v)) * inner + r];
            dst = static_cast<T>(dst + src[(outer * count + k) * inner + r]);
        }
    }
}

template <class T, class I>
__global__ void index_add_atomic_kernel(T* out, const I* index, const T* src, int64_t n, int64_t inner, int64_t count,
                                        int64_t size) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        const I v = index[(i / inner) % count];
        if (!in_range(v, size)) continue;
        const int64_t outer = i / (inner * count);
        atomicAdd(out + (outer * size + static_cast<int64_t>(v)) * inner + i % inner, src[i]);
    }
}

// out (a contiguous copy of self) receives src (or `value` when src is null) at index along dim.
template <class T, class I>
void scatter_into(int device, Tensor& out, int64_t dim, const Tensor& index, const Tensor* src, T value, bool add) {
    const int64_t size = indexed_dim_size(out, dim);
    const IndexCheck<I> check(device, "scatter", index, dim, size);
    if (index.numel() > 0) {
        Shape line_shape = index.shape();
        if (!line_shape.empty()) line_shape[dim] = 1;
        const Strides src_strides = src ? src->strides() : Strides(index.shape().size(), 0);
        ScatterLines s;
        s.lines = shape_numel(line_shape);
        s.len = indexed_dim_size(index, dim);
        s.start = make_indexer<3>(collapse<3>(line_shape, {out.strides(), index.strides(), src_strides}));
        s.out_step = indexed_dim_stride(out, dim);
        s.index_step = indexed_dim_stride(index, dim);
        s.src_step = src && src->dim() > 0 ? src_strides[dim] : 0;
        launch("scatter", index.shape(), config_1d(device, s.lines), scatter_kernel<T, I>,
               static_cast<T*>(out.raw_data()), index.data<I>(), src ? static_cast<const T*>(src->raw_data()) : nullptr,
               value, add, s, size);
    }
    check.finish();
}

// out (a contiguous copy of self) += src's slices at index along dim, viewed as (outer, size | count, inner).
template <class T, class I>
void index_add_into(int device, Tensor& out, const Tensor& index, const Tensor& src, const DimView& s, int64_t size) {
    const int64_t columns = s.outer * s.inner, count = index.numel();
    if (columns == 0 || count == 0) return;
    T* o = static_cast<T*>(out.raw_data());
    const T* from = static_cast<const T*>(src.raw_data());
    if constexpr (std::is_floating_point<T>::value) {
        if (columns < kSerialIndexAddColumns && count > 1) {
            launch("index_add", out.shape(), config_1d(device, src.numel()), index_add_atomic_kernel<T, I>, o,
                   index.data<I>(), from, src.numel(), s.inner, count, size);
            return;
        }
    }
    launch("index_add", out.shape(), config_1d(device, columns), index_add_kernel<T, I>, o, index.data<I>(), from,
           columns, s.inner, count, size);
}

}  // namespace

Tensor CudaBackend::gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
    const Tensor index = dense(index_in);
    Tensor out = empty(index.shape(), x.dtype(), x.device());
    set_device(device_index_, "gather");
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "gather", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "gather", [&] {
            const int64_t size = indexed_dim_size(x, dim);
            const IndexCheck<index_t> check(device_index_, "gather", index, dim, size);
            if (index.numel() > 0) {
                const TensorInfo x_info =
                    make_indexer<1>(collapse<1>(index.shape(), std::array<Strides, 1>{strides_without_dim(x, dim)}));
                launch("gather", index.shape(), config_1d(device_index_, index.numel()), gather_kernel<T, index_t>,
                       static_cast<const T*>(x.raw_data()), index.data<index_t>(), static_cast<T*>(out.raw_data()),
                       index.numel(), x_info, indexed_dim_stride(x, dim), size);
            }
            check.finish();
        });
    });
    return out;
}

Tensor CudaBackend::scatter(const Tensor& self, int64_t dim, const Tensor& index_in, const Tensor& src,
                            ScatterReduce reduce) {
    const Tensor index = dense(index_in);
    Tensor out = empty(self.shape(), self.dtype(), self.device());
    copy_(out, self);
    set_device(device_index_, "scatter");
    ENGINE_DISPATCH_ALL(self.dtype(), "scatter", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "scatter", [&] {
            scatter_into<T, index_t>(device_index_, out, dim, index, &src, T(0), reduce == ScatterReduce::Add);
        });
    });
    return out;
}

Tensor CudaBackend::scatter_value(const Tensor& self, int64_t dim, const Tensor& index_in, double value) {
    const Tensor index = dense(index_in);
    Tensor out = empty(self.shape(), self.dtype(), self.device());
    copy_(out, self);
    set_device(device_index_, "scatter");
    ENGINE_DISPATCH_ALL(self.dtype(), "scatter", [&] {
        using T = KernelElem<scalar_t>;
        const T v = static_cast<T>(static_cast<scalar_t>(value));
        ENGINE_DISPATCH_INDEX(index.dtype(), "scatter",
                              [&] { scatter_into<T, index_t>(device_index_, out, dim, index, nullptr, v, false); });
    });
    return out;
}

Tensor CudaBackend::index_select(const Tensor& x, int64_t dim, const Tensor& index_in) {
    const Tensor index = dense(index_in);
    const int64_t size = indexed_dim_size(x, dim), count = index.numel();
    Shape out_shape = x.shape();
    if (!out_shape.empty()) out_shape[dim] = count;
    Tensor out = empty(out_shape, x.dtype(), x.device());
    set_device(device_index_, "index_select");
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "index_select", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "index_select", [&] {
            const IndexCheck<index_t> check(device_index_, "index_select", index, dim, size);
            if (out.numel() > 0) {
                const TensorInfo x_info =
                    make_indexer<1>(collapse<1>(out_shape, std::array<Strides, 1>{strides_without_dim(x, dim)}));
                launch("index_select", x.shape(), config_1d(device_index_, out.numel()),
                       index_select_kernel<T, index_t>, static_cast<const T*>(x.raw_data()), index.data<index_t>(),
                       static_cast<T*>(out.raw_data()), out.numel(), x_info, indexed_dim_stride(x, dim), count,
                       view_around_dim(out_shape, dim).inner, size);
            }
            check.finish();
        });
    });
    return out;
}

Tensor CudaBackend::index_add(const Tensor& self, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
    const Tensor index = dense(index_in), src = dense(src_in);
    Tensor out = empty(self.shape(), self.dtype(), self.device());
    copy_(out, self);
    const int64_t size = indexed_dim_size(out, dim);
    set_device(device_index_, "index_add");
    ENGINE_DISPATCH_ALL(self.dtype(), "index_add", [&] {
        using T = KernelElem<scalar_t>;
        ENGINE_DISPATCH_INDEX(index.dtype(), "index_add", [&] {
            const IndexCheck<index_t> check(device_index_, "index_add", index, dim, size);
            index_add_into<T, index_t>(device_index_, out, index, src, view_around_dim(out.shape(), dim), size);
            check.finish();
        });
    });
    return out;
}

}  // namespace engine::cuda
