// Shape ops on the CUDA device: cat (contiguous inputs copied by one batched kernel, up to kCatBatch inputs
// per launch; strided ones through copy_ into a view of the output), constant pad of any trailing dims (negative
// pads crop) as one gather kernel whose backward is the same kernel with the pads negated, and reflect /
// replicate pad of the last one or two dims with a gather-form backward that sums, for each input element, the
// output positions that read it in the CPU backend's order.
#include "runtime/cuda_api.h"

#include <algorithm>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/pad_shape.h"

namespace engine::cuda {
namespace {

// ---------------------------------------------------------------- cat

constexpr int kCatBatch = 16;

// Up to kCatBatch contiguous inputs, each a (outer, row) block written at column `at` of the (outer, out_row)
// output; blockIdx.y picks the input.
template <class T>
struct CatBatch {
    const T* src[kCatBatch];
    int64_t numel[kCatBatch];
    int64_t row[kCatBatch];
    int64_t at[kCatBatch];
};

template <class T>
__global__ void cat_kernel(CatBatch<T> batch, T* out, int64_t out_row) {
    const int k = blockIdx.y;
    const T* src = batch.src[k];
    const int64_t n = batch.numel[k], row = batch.row[k], at = batch.at[k];
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        const int64_t outer = i / row;
        out[outer * out_row + at + (i - outer * row)] = src[i];
    }
}

// Elements are moved as unsigned integers of their size: cat never looks at values.
template <class F>
void dispatch_by_size(size_t size, const F& f) {
    switch (size) {
        case 1: f(uint8_t{}); return;
        case 2: f(uint16_t{}); return;
        case 4: f(uint32_t{}); return;
        case 8: f(uint64_t{}); return;
        default: throw Error(detail::concat("cat: unsupported element size ", size));
    }
}

// ---------------------------------------------------------------- constant pad

// Output dims innermost first: size, the input's size and stride, and the left pad (negative: crop).
struct ConstantPadGeometry {
    int ndim;
    int64_t out_size[kMaxDims];
    int64_t in_size[kMaxDims];
    int64_t in_stride[kMaxDims];
    int64_t before[kMaxDims];
};

template <class T>
__global__ void constant_pad_kernel(const T* x, T* y, int64_t total, ConstantPadGeometry g, T value) {
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        int64_t rest = i, offset = 0;
        bool inside = true;
        for (int d = 0; d < g.ndim; ++d) {
            const int64_t coord = rest % g.out_size[d] - g.before[d];
            rest /= g.out_size[d];
            inside = inside && coord >= 0 && coord < g.in_size[d];
            offset += coord * g.in_stride[d];
        }
        y[i] = inside ? x[offset] : value;
    }
}

// y (padded shape) from x (any strides): dims of size 1 in both shapes and unpadded are dropped.
ConstantPadGeometry constant_pad_geometry(const Tensor& x, const Shape& out_shape, const std::vector<int64_t>& pads,
                                          bool& fits) {
    ConstantPadGeometry g{};
    const int64_t nd = x.dim();
    fits = true;
    for (int64_t d = nd - 1; d >= 0; --d) {
        const size_t from_last = static_cast<size_t>(nd - 1 - d);
        const int64_t before = 2 * from_last < pads.size() ? pads[2 * from_last] : 0;
        if (x.shape()[d] == 1 && out_shape[d] == 1 && before == 0) continue;
        if (g.ndim == kMaxDims) {
            fits = false;
            return g;
        }
        g.out_size[g.ndim] = out_shape[d];
        g.in_size[g.ndim] = x.shape()[d];
        g.in_stride[g.ndim] = x.strides()[d];
        g.before[g.ndim] = before;
        ++g.ndim;
    }
    return g;
}

// ---------------------------------------------------------------- reflect / replicate pad

template <class T>
__global__ void reflect_replicate_pad_kernel(const T* x, T* y, PadPlanes p) {
    const int64_t out_plane = p.out_h * p.out_w, total = p.planes * out_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / out_plane, oh = (i % out_plane) / p.out_w, ow = i % p.out_w;
        const int64_t h = pad_source(oh - p.top, p.in_h, p.reflect), w = pad_source(ow - p.left, p.in_w, p.reflect);
        y[i] = x[(plane * p.in_h + h) * p.in_w + w];
    }
}

// The padded positions j (input coordinates, within [first, last]) that read input index i, in ascending
// order, as up to three ranges: replicate edges read a run, reflection reads i, -i and 2(n-1)-i.
struct SourceRanges {
    int count;
    int64_t lo[3], hi[3];
};

__device__ inline SourceRanges readers_of(int64_t i, int64_t n, int64_t first, int64_t last, bool reflect) {
    SourceRanges r{0, {0, 0, 0}, {0, 0, 0}};
    const auto add = [&](int64_t lo, int64_t hi) {
        lo = lo < first ? first : lo;
        hi = hi > last ? last : hi;
        if (lo <= hi) {
            r.lo[r.count] = lo;
            r.hi[r.count] = hi;
            ++r.count;
        }
    };
    if (!reflect) {
        add(i == 0 ? first : i, i == n - 1 ? last : i);
    } else {
        if (i > 0) add(-i, -i);
        add(i, i);
        if (i < n - 1) add(2 * (n - 1) - i, 2 * (n - 1) - i);
    }
    return r;
}

template <class T>
__global__ void reflect_replicate_pad_backward_kernel(const T* gy, T* gx, PadPlanes p) {
    const int64_t in_plane = p.in_h * p.in_w, total = p.planes * in_plane;
    for (int64_t i = global_thread(); i < total; i += grid_stride()) {
        const int64_t plane = i / in_plane, h = (i % in_plane) / p.in_w, w = i % p.in_w;
        const SourceRanges rows = readers_of(h, p.in_h, -p.top, p.out_h - 1 - p.top, p.reflect);
        const SourceRanges cols = readers_of(w, p.in_w, -p.left, p.out_w - 1 - p.left, p.reflect);
        const T* grad_out = gy + plane * p.out_h * p.out_w;
        T sum = T(0);
        for (int a = 0; a < rows.count; ++a) {
            for (int64_t jh = rows.lo[a]; jh <= rows.hi[a]; ++jh) {
                const T* grad_row = grad_out + (jh + p.top) * p.out_w + p.left;
                for (int b = 0; b < cols.count; ++b)
                    for (int64_t jw = cols.lo[b]; jw <= cols.hi[b]; ++jw) sum += grad_row[jw];
            }
        }
        gx[i] = sum;
    }
}

}  // namespace

Tensor CudaBackend::cat(const std::vector<Tensor>& xs, int64_t dim) {
    Shape out_shape = xs.at(0).shape();
    out_shape[dim] = 0;
    for (const Tensor& x : xs) out_shape[dim] += x.shape()[dim];
    Tensor out = empty(out_shape, xs[0].dtype(), xs[0].device());
    if (out.numel() == 0) return out;
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(dim) + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
    set_device(device_index_, "cat");
    dispatch_by_size(dtype_size(out.dtype()), [&](auto tag) {
        using T = decltype(tag);
        CatBatch<T> batch{};
        int count = 0;
        int64_t largest = 0;
        const auto flush = [&] {
            if (count == 0) return;
            LaunchConfig config = config_1d(device_index_, largest);
            config.grid.y = static_cast<unsigned>(count);
            launch("cat", out_shape, config, cat_kernel<T>, batch, static_cast<T*>(out.raw_data()),
                   out_shape[dim] * inner);
            count = 0;
            largest = 0;
        };
        int64_t at = 0;
        for (const Tensor& x : xs) {
            if (x.numel() > 0 && x.is_contiguous()) {
                batch.src[count] = static_cast<const T*>(x.raw_data());
                batch.numel[count] = x.numel();
                batch.row[count] = x.shape()[dim] * inner;
                batch.at[count] = at * inner;
                largest = std::max(largest, x.numel());
                if (++count == kCatBatch) flush();
            } else if (x.numel() > 0) {
                Tensor dst = make_view(out, x.shape(), out.strides(), out.offset() + at * out.strides()[dim]);
                copy_(dst, x);
            }
            at += x.shape()[dim];
        }
        flush();
    });
    return out;
}

Tensor CudaBackend::pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
    Tensor out = empty(padded_shape(x.shape(), pads), x.dtype(), x.device());
    if (out.numel() == 0) return out;
    set_device(device_index_, "pad");
    if (mode == PadMode::Constant) {
        bool fits = true;
        const ConstantPadGeometry g = constant_pad_geometry(x, out.shape(), pads, fits);
        ENGINE_CHECK(fits, "pad: the cuda backend pads tensors of at most ", kMaxDims, " non-trivial dims, got shape ",
                     shape_str(x.shape()));
        ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "pad", [&] {
            launch("pad", x.shape(), config_1d(device_index_, out.numel()), constant_pad_kernel<scalar_t>,
                   static_cast<const scalar_t*>(x.raw_data()), out.data<scalar_t>(), out.numel(), g,
                   static_cast<scalar_t>(value));
        });
        return out;
    }
    const Tensor src = dense(x);
    const PadPlanes p = pad_planes(x.shape(), pads, mode);
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "pad", [&] {
        launch("pad", x.shape(), config_1d(device_index_, out.numel()), reflect_replicate_pad_kernel<scalar_t>,
               src.data<scalar_t>(), out.data<scalar_t>(), p);
    });
    return out;
}

Tensor CudaBackend::pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads,
                                 PadMode mode) {
    if (mode == PadMode::Constant) {
        // The gradient of a constant pad crops (and zero-fills what the pad cropped): the pad with negated pads.
        std::vector<int64_t> negated(pads.size());
        for (size_t i = 0; i < pads.size(); ++i) negated[i] = -pads[i];
        return pad(grad_y, negated, PadMode::Constant, 0.0);
    }
    Tensor grad_x = empty(x_shape, grad_y.dtype(), grad_y.device());
    if (grad_x.numel() == 0) return grad_x;
    const Tensor gy = dense(grad_y);
    const PadPlanes p = pad_planes(x_shape, pads, mode);
    set_device(device_index_, "pad_backward");
    ENGINE_DISPATCH_FLOATING(gy.dtype(), "pad_backward", [&] {
        launch("pad_backward", x_shape, config_1d(device_index_, grad_x.numel()),
               reflect_replicate_pad_backward_kernel<scalar_t>, gy.data<scalar_t>(), grad_x.data<scalar_t>(), p);
    });
    return grad_x;
}

}  // namespace engine::cuda
