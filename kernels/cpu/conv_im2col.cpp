// Portable convolution: im2col / col2im over bands of output rows + our blocked GEMM, with groups, stride,
// padding and dilation. Used for float64 (gradient checks) and for float32 in builds without oneDNN.
#include <algorithm>
#include <mutex>

#include "kernels/backend.h"
#include "kernels/cpu/conv_impl.h"
#include "kernels/cpu/conv_workspace.h"
#include "kernels/cpu/gemm.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

// Column buffers hold at most this many elements; larger outputs are processed in bands of output rows.
constexpr int64_t kColumnBudget = int64_t{1} << 22;

// Valid output columns [lo, hi) of kernel column kw: those whose input column lies in [0, w).
void valid_columns(const ConvShape& g, int64_t kw, int64_t& lo, int64_t& hi) {
    const int64_t off = kw * g.p.dilation_w - g.p.pad_w;  // input column of output column 0
    const int64_t s = g.p.stride_w;
    lo = off >= 0 ? 0 : (-off + s - 1) / s;
    hi = g.w - 1 - off >= 0 ? std::min(g.ow, (g.w - 1 - off) / s + 1) : 0;
    lo = std::min(lo, g.ow);
    hi = std::max(hi, lo);
}

// col (group_in*kh*kw rows, (oh1 - oh0) * ow columns) from the group's input planes x (group_in, h, w).
template <class T>
void im2col(const T* x, const ConvShape& g, int64_t oh0, int64_t oh1, T* col) {
    const int64_t rows = g.group_in() * g.kh * g.kw;
    const int64_t cols = (oh1 - oh0) * g.ow;
    const int64_t grain = grain_for(cols);
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
            const int64_t c = r / (g.kh * g.kw), ki = (r / g.kw) % g.kh, kj = r % g.kw;
            const T* plane = x + c * g.h * g.w;
            T* dst = col + r * cols;
            int64_t lo, hi;
            valid_columns(g, kj, lo, hi);
            const int64_t off = kj * g.p.dilation_w - g.p.pad_w;
            for (int64_t oy = oh0; oy < oh1; ++oy) {
                T* out = dst + (oy - oh0) * g.ow;
                const int64_t iy = oy * g.p.stride_h - g.p.pad_h + ki * g.p.dilation_h;
                if (iy < 0 || iy >= g.h) {
                    std::fill(out, out + g.ow, T(0));
                    continue;
                }
                const T* src = plane + iy * g.w;
                std::fill(out, out + lo, T(0));
                if (g.p.stride_w == 1) {
                    for (int64_t ox = lo; ox < hi; ++ox) out[ox] = src[ox + off];
                } else {
                    for (int64_t ox = lo; ox < hi; ++ox) out[ox] = src[ox * g.p.stride_w + off];
                }
                std::fill(out + hi, out + g.ow, T(0));
            }
        }
    });
}

// Adds col (as im2col lays it out) back into the group's input-gradient planes dx (group_in, h, w).
template <class T>
void col2im_add(const T* col, const ConvShape& g, int64_t oh0, int64_t oh1, T* dx) {
    const int64_t cols = (oh1 - oh0) * g.ow;
    const int64_t per_channel = g.kh * g.kw * cols;
    parallel_for(0, g.group_in(), grain_for(per_channel),
                 [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
            T* plane = dx + c * g.h * g.w;
            for (int64_t ki = 0; ki < g.kh; ++ki) {
                for (int64_t kj = 0; kj < g.kw; ++kj) {
                    const T* src_row = col + ((c * g.kh + ki) * g.kw + kj) * cols;
                    int64_t lo, hi;
                    valid_columns(g, kj, lo, hi);
                    const int64_t off = kj * g.p.dilation_w - g.p.pad_w;
                    for (int64_t oy = oh0; oy < oh1; ++oy) {
                        const int64_t iy = oy * g.p.stride_h - g.p.pad_h + ki * g.p.dilation_h;
                        if (iy < 0 || iy >= g.h) continue;
                        const T* in = src_row + (oy - oh0) * g.ow;
                        T* out = plane + iy * g.w;
                        for (int64_t ox = lo; ox < hi; ++ox) out[ox * g.p.stride_w + off] += in[ox];
                    }
                }
            }
        }
    });
}

// A 1x1, stride-1, unpadded convolution whose output covers the input: the input planes are the columns.
bool is_pointwise(const ConvShape& g) {
    return g.kh == 1 && g.kw == 1 && g.p.stride_h == 1 && g.p.stride_w == 1 && g.p.pad_h == 0 && g.p.pad_w == 0 &&
           g.oh == g.h && g.ow == g.w;
}

// Output rows per band so that one column buffer stays within kColumnBudget.
int64_t band_rows(const ConvShape& g) {
    const int64_t per_row = g.group_in() * g.kh * g.kw * g.ow;
    return std::clamp<int64_t>(kColumnBudget / std::max<int64_t>(1, per_row), 1, g.oh);
}

// Runs per_image(n, column_buffer) for every image: across threads when the batch can feed them all (each
// GEMM then runs on its thread), else one image at a time with parallel GEMMs.
template <class T, class F>
void for_each_image(const ConvShape& g, int64_t col_elems, const F& per_image) {
    const int64_t flops = g.n * g.o * g.oh * g.ow * g.group_in() * g.kh * g.kw;
    const bool across_batch = num_threads() > 1 && g.n >= num_threads() && flops >= (int64_t{1} << 18);
    parallel_for(0, g.n, across_batch ? 1 : g.n + 1, [&](int64_t n0, int64_t n1) {
        T* col = conv_workspace_as<T>(ConvSlot::Columns, static_cast<size_t>(col_elems));
        for (int64_t n = n0; n < n1; ++n) per_image(n, col);
    });
}

template <class T>
Tensor forward_impl(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, const ConvShape& g) {
    const Tensor x = dense(x_in), w = dense(w_in);
    const Tensor bias = bias_in.defined() ? dense(bias_in) : Tensor();
    Tensor y = empty({g.n, g.o, g.oh, g.ow}, x.dtype());
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* py = y.data<T>();
    const int64_t cg = g.group_in(), og = g.group_out(), kg = cg * g.kh * g.kw, plane = g.oh * g.ow;
    const bool pointwise = is_pointwise(g);
    const int64_t band = band_rows(g);
    for_each_image<T>(g, pointwise ? 0 : kg * band * g.ow, [&](int64_t n, T* col) {
        for (int64_t gi = 0; gi < g.p.groups; ++gi) {
            const T* xg = px + (n * g.c + gi * cg) * g.h * g.w;
            T* yg = py + (n * g.o + gi * og) * plane;
            const GemmOperand<T> wg{pw + gi * og * kg, kg, 1};
            for (int64_t oh0 = 0; oh0 < g.oh; oh0 += band) {
                const int64_t oh1 = std::min(g.oh, oh0 + band), cols = (oh1 - oh0) * g.ow;
                if (!pointwise) im2col(xg, g, oh0, oh1, col);
                const T* b_data = pointwise ? xg + oh0 * g.ow : col;
                gemm<T>(og, cols, kg, wg, {b_data, pointwise ? plane : cols, 1}, yg + oh0 * g.ow, plane, false);
            }
            if (pb) {
                for (int64_t o = 0; o < og; ++o) {
                    const T b = pb[gi * og + o];
                    T* row = yg + o * plane;
                    for (int64_t i = 0; i < plane; ++i) row[i] += b;
                }
            }
        }
    });
    return y;
}

template <class T>
Tensor backward_data_impl(const Tensor& gy_in, const Tensor& w_in, const ConvShape& g) {
    const Tensor gy = dense(gy_in), w = dense(w_in);
    Tensor dx = zeros({g.n, g.c, g.h, g.w}, gy.dtype());
    const T* pgy = gy.data<T>();
    const T* pw = w.data<T>();
    T* pdx = dx.data<T>();
    const int64_t cg = g.group_in(), og = g.group_out(), kg = cg * g.kh * g.kw, plane = g.oh * g.ow;
    const bool pointwise = is_pointwise(g);
    const int64_t band = band_rows(g);
    for_each_image<T>(g, pointwise ? 0 : kg * band * g.ow, [&](int64_t n, T* col) {
        for (int64_t gi = 0; gi < g.p.groups; ++gi) {
            const T* gyg = pgy + (n * g.o + gi * og) * plane;
            T* dxg = pdx + (n * g.c + gi * cg) * g.h * g.w;
            const GemmOperand<T> wg_t{pw + gi * og * kg, 1, kg};  // (kg x og) view of the (og x kg) weights
            for (int64_t oh0 = 0; oh0 < g.oh; oh0 += band) {
                const int64_t oh1 = std::min(g.oh, oh0 + band), cols = (oh1 - oh0) * g.ow;
                const GemmOperand<T> gyb{gyg + oh0 * g.ow, plane, 1};
                if (pointwise) {
                    gemm<T>(kg, cols, og, wg_t, gyb, dxg + oh0 * g.ow, plane, false);
                } else {
                    gemm<T>(kg, cols, og, wg_t, gyb, col, cols, false);
                    col2im_add(col, g, oh0, oh1, dxg);
                }
            }
        }
    });
    return dx;
}

template <class T>
Tensor backward_weight_impl(const Tensor& gy_in, const Tensor& x_in, const ConvShape& g) {
    const Tensor gy = dense(gy_in), x = dense(x_in);
    const int64_t cg = g.group_in(), og = g.group_out(), kg = cg * g.kh * g.kw, plane = g.oh * g.ow;
    Tensor dw = zeros({g.o, cg, g.kh, g.kw}, gy.dtype());
    const T* pgy = gy.data<T>();
    const T* px = x.data<T>();
    T* pdw = dw.data<T>();
    const bool pointwise = is_pointwise(g);
    const int64_t band = band_rows(g);
    const int64_t flops = g.n * g.o * plane * kg;
    const bool across_batch = num_threads() > 1 && g.n >= num_threads() && flops >= (int64_t{1} << 18);
    std::mutex merge;
    // Each thread sums its images into a private gradient, then adds it to dw once.
    parallel_for(0, g.n, across_batch ? 1 : g.n + 1, [&](int64_t n0, int64_t n1) {
        T* col = conv_workspace_as<T>(ConvSlot::Columns, static_cast<size_t>(pointwise ? 0 : kg * band * g.ow));
        const size_t partial = across_batch ? static_cast<size_t>(dw.numel()) : 0;
        T* local = conv_workspace_as<T>(ConvSlot::Partial, partial);
        std::fill(local, local + partial, T(0));
        T* target = across_batch ? local : pdw;
        for (int64_t n = n0; n < n1; ++n) {
            for (int64_t gi = 0; gi < g.p.groups; ++gi) {
                const T* xg = px + (n * g.c + gi * cg) * g.h * g.w;
                const T* gyg = pgy + (n * g.o + gi * og) * plane;
                for (int64_t oh0 = 0; oh0 < g.oh; oh0 += band) {
                    const int64_t oh1 = std::min(g.oh, oh0 + band), cols = (oh1 - oh0) * g.ow;
                    if (!pointwise) im2col(xg, g, oh0, oh1, col);
                    // (cols x kg) view of the columns: transposed im2col output.
                    const GemmOperand<T> cols_t = pointwise ? GemmOperand<T>{xg + oh0 * g.ow, 1, plane}
                                                            : GemmOperand<T>{col, 1, cols};
                    gemm<T>(og, kg, cols, {gyg + oh0 * g.ow, plane, 1}, cols_t, target + gi * og * kg, kg, true);
                }
            }
        }
        if (across_batch) {
            std::lock_guard<std::mutex> lock(merge);
            for (size_t i = 0; i < partial; ++i) pdw[i] += local[i];
        }
    });
    return dw;
}

}  // namespace

Tensor conv2d_forward_im2col(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvShape& g) {
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "conv2d", [&] { return forward_impl<scalar_t>(x, w, bias, g); });
}

Tensor conv2d_backward_data_im2col(const Tensor& grad_y, const Tensor& w, const ConvShape& g) {
    return ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "conv2d_backward_data",
                                    [&] { return backward_data_impl<scalar_t>(grad_y, w, g); });
}

Tensor conv2d_backward_weight_im2col(const Tensor& grad_y, const Tensor& x, const ConvShape& g) {
    return ENGINE_DISPATCH_FLOATING(x.dtype(), "conv2d_backward_weight",
                                    [&] { return backward_weight_impl<scalar_t>(grad_y, x, g); });
}

}  // namespace engine::cpu
