// CPU shape ops: cat along any dim, and pad (constant over any number of trailing dims with negative pads
// cropping; reflect / replicate over the last one or two dims) with its gradient.
#include <algorithm>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/pad_shape.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

// The part of an unpadded tensor that survives in the padded one, in both coordinate systems.
struct PadRegion {
    Shape size;                   // extent of the overlap
    std::vector<int64_t> src_at;  // start in the unpadded tensor
    std::vector<int64_t> dst_at;  // start in the padded tensor
    bool any_positive = false;    // some border is filled
};

PadRegion pad_region(const Shape& x_shape, const std::vector<int64_t>& pads) {
    const int64_t ndim = static_cast<int64_t>(x_shape.size());
    PadRegion r{x_shape, std::vector<int64_t>(ndim, 0), std::vector<int64_t>(ndim, 0), false};
    for (size_t i = 0; 2 * i < pads.size(); ++i) {
        const int64_t d = ndim - 1 - static_cast<int64_t>(i);
        const int64_t before = pads[2 * i], after = pads[2 * i + 1];
        r.src_at[d] = std::max<int64_t>(0, -before);
        r.dst_at[d] = std::max<int64_t>(0, before);
        r.size[d] = std::max<int64_t>(0, x_shape[d] - std::max<int64_t>(0, -before) - std::max<int64_t>(0, -after));
        r.any_positive |= before > 0 || after > 0;
    }
    return r;
}

// A view of `t` restricted to the box [at, at + size).
Tensor box(const Tensor& t, const std::vector<int64_t>& at, const Shape& size) {
    int64_t offset = t.offset();
    for (size_t d = 0; d < at.size(); ++d) offset += at[d] * t.strides()[d];
    return make_view(t, size, t.strides(), offset);
}

// Reflect / replicate as a (planes, H, W) problem: which input row / column feeds each output one.
struct PadMaps : PadPlanes {
    explicit PadMaps(const PadPlanes& p) : PadPlanes(p) {}
    std::vector<int64_t> rows, cols;
    int64_t copy_begin = 0, copy_end = 0;  // output columns [copy_begin, copy_end) read column - left
};

PadMaps pad_maps(const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode) {
    PadMaps m(pad_planes(x_shape, pads, mode));
    for (int64_t o = 0; o < m.out_w; ++o) m.cols.push_back(pad_source(o - m.left, m.in_w, m.reflect));
    m.copy_begin = std::min(m.out_w, std::max<int64_t>(0, m.left));
    m.copy_end = std::max(m.copy_begin, std::min(m.out_w, m.in_w + m.left));
    for (int64_t o = 0; o < m.out_h; ++o) m.rows.push_back(pad_source(o - m.top, m.in_h, m.reflect));
    return m;
}

}  // namespace

Tensor CpuBackend::cat(const std::vector<Tensor>& xs, int64_t dim) {
    Shape out_shape = xs.at(0).shape();
    out_shape[dim] = 0;
    for (const Tensor& x : xs) out_shape[dim] += x.shape()[dim];
    Tensor out = empty(out_shape, xs[0].dtype());
    int64_t at = 0;
    for (const Tensor& x : xs) {
        if (x.numel() > 0) {
            Tensor dst = make_view(out, x.shape(), out.strides(), out.offset() + at * out.strides()[dim]);
            copy_(dst, x);
        }
        at += x.shape()[dim];
    }
    return out;
}

Tensor CpuBackend::pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
    Tensor out = empty(padded_shape(x.shape(), pads), x.dtype());
    if (out.numel() == 0) return out;
    if (mode == PadMode::Constant) {
        const PadRegion r = pad_region(x.shape(), pads);
        if (r.any_positive) fill_(out, value);
        if (shape_numel(r.size) > 0) {
            Tensor dst = box(out, r.dst_at, r.size);
            copy_(dst, box(x, r.src_at, r.size));
        }
        return out;
    }
    const Tensor src = dense(x);
    const PadMaps m = pad_maps(x.shape(), pads, mode);
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "pad", [&] {
        const scalar_t* in = src.data<scalar_t>();
        scalar_t* o = out.data<scalar_t>();
        parallel_for(
            0, m.planes * m.out_h, grain_for(m.out_w), [&](int64_t lo, int64_t hi) {
                for (int64_t row = lo; row < hi; ++row) {
                    const int64_t p = row / m.out_h, oh = row % m.out_h;
                    const scalar_t* in_row = in + (p * m.in_h + m.rows[oh]) * m.in_w;
                    scalar_t* out_row = o + row * m.out_w;
                    for (int64_t ow = 0; ow < m.copy_begin; ++ow) out_row[ow] = in_row[m.cols[ow]];
                    std::copy(in_row + m.copy_begin - m.left, in_row + m.copy_end - m.left, out_row + m.copy_begin);
                    for (int64_t ow = m.copy_end; ow < m.out_w; ++ow) out_row[ow] = in_row[m.cols[ow]];
                }
            });
    });
    return out;
}

Tensor CpuBackend::pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads,
                                PadMode mode) {
    if (mode == PadMode::Constant) {
        const PadRegion r = pad_region(x_shape, pads);
        const bool cropped = r.size != x_shape;
        Tensor gx = cropped ? zeros(x_shape, grad_y.dtype()) : empty(x_shape, grad_y.dtype());
        if (shape_numel(r.size) > 0) {
            Tensor dst = box(gx, r.src_at, r.size);
            copy_(dst, box(grad_y, r.dst_at, r.size));
        }
        return gx;
    }
    Tensor gx = zeros(x_shape, grad_y.dtype());
    if (gx.numel() == 0) return gx;
    const Tensor gy = dense(grad_y);
    const PadMaps m = pad_maps(x_shape, pads, mode);
    ENGINE_DISPATCH_FLOATING(gy.dtype(), "pad_backward", [&] {
        const scalar_t* g = gy.data<scalar_t>();
        scalar_t* out = gx.data<scalar_t>();
        // Output positions that read the same input element add up, so each thread owns whole planes.
        const int64_t plane_work = std::max<int64_t>(1, m.out_h * m.out_w);
        parallel_for(0, m.planes, grain_for(plane_work), [&](int64_t lo, int64_t hi) {
            for (int64_t p = lo; p < hi; ++p) {
                scalar_t* plane = out + p * m.in_h * m.in_w;
                for (int64_t oh = 0; oh < m.out_h; ++oh) {
                    const scalar_t* g_row = g + (p * m.out_h + oh) * m.out_w;
                    scalar_t* in_row = plane + m.rows[oh] * m.in_w;
                    for (int64_t ow = 0; ow < m.out_w; ++ow) in_row[m.cols[ow]] += g_row[ow];
                }
            }
        });
    });
    return gx;
}

}  // namespace engine::cpu
