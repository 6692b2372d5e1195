// Our convolutions on the CUDA device, all through the GEMM of gemm.cu. Forward: per (image, group),
// Y = W_g @ im2col(X), with the im2col matrix read straight from X (implicit GEMM). Weight gradient: per group,
// dW_g = dY_g @ im2col(X)^T with K running over every image and output pixel (split across blocks when the
// weight alone gives too few tiles). Input gradient: cols = W_g^T @ dY per image into a bounded workspace, then
// a gather (col2im) kernel sums each input pixel's taps, with no atomics. A 1x1 convolution with stride 1 and no
// padding is a plain GEMM in every direction.
#include "kernels/cuda/conv_cuda.h"

#include "runtime/cuda_api.h"

#include <algorithm>

#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launch.cuh"
#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {
namespace {

// Workspace for the input gradient's columns; images are processed in chunks that fit.
constexpr size_t kColumnBudget = size_t{256} << 20;

bool is_pointwise(const ConvShape& s) {
    return s.kh == 1 && s.kw == 1 && s.p.stride_h == 1 && s.p.stride_w == 1 && s.p.pad_h == 0 && s.p.pad_w == 0 &&
           s.oh == s.h && s.ow == s.w;
}

Im2colGeometry geometry(const ConvShape& s) {
    Im2colGeometry g;
    g.c = s.group_in();
    g.h = s.h;
    g.w = s.w;
    g.kh = s.kh;
    g.kw = s.kw;
    g.oh = s.oh;
    g.ow = s.ow;
    g.stride_h = s.p.stride_h;
    g.stride_w = s.p.stride_w;
    g.pad_h = s.p.pad_h;
    g.pad_w = s.p.pad_w;
    g.dilation_h = s.p.dilation_h;
    g.dilation_w = s.p.dilation_w;
    g.image_stride = s.c * s.h * s.w;
    return g;
}

// dx[i] for the input pixels of images [0, images): the sum over kernel taps of the columns that read it.
// cols is [image][group][c_in_group * KH * KW + tap][oh * OW + ow].
template <class T>
__global__ void col2im_kernel(const T* cols, T* dx, int64_t total, Im2colGeometry g, int64_t groups) {
    const int64_t pixels = g.oh * g.ow, taps = g.kh * g.kw;
    const int64_t channels = g.c * groups;
    const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total; i += step) {
        const int64_t x = i % g.w;
        int64_t rest = i / g.w;
        const int64_t y = rest % g.h;
        rest /= g.h;
        const int64_t channel = rest % channels, image = rest / channels;
        const int64_t group = channel / g.c, c = channel - group * g.c;
        const T* col = cols + ((image * groups + group) * g.c + c) * taps * pixels;
        T sum = T(0);
        for (int64_t kh = 0; kh < g.kh; ++kh) {
            const int64_t th = y + g.pad_h - kh * g.dilation_h;
            if (th < 0) break;  // th only decreases with kh
            if (th % g.stride_h != 0 || th / g.stride_h >= g.oh) continue;
            const int64_t oh = th / g.stride_h;
            for (int64_t kw = 0; kw < g.kw; ++kw) {
                const int64_t tw = x + g.pad_w - kw * g.dilation_w;
                if (tw < 0) break;
                if (tw % g.stride_w != 0 || tw / g.stride_w >= g.ow) continue;
                sum += col[(kh * g.kw + kw) * pixels + oh * g.ow + tw / g.stride_w];
            }
        }
        dx[i] = sum;
    }
}

template <class T>
void forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ConvShape& s, int device) {
    const int64_t groups = s.p.groups, cg = s.group_in(), og = s.group_out();
    const int64_t taps = s.kh * s.kw, pixels = s.oh * s.ow, in_pixels = s.h * s.w;
    GemmArgs<T> a;
    a.m = og;
    a.n = pixels;
    a.k = cg * taps;
    a.outer_count = s.n;
    a.inner_count = groups;
    a.a.ptr = w.data<T>();
    a.a.s0 = cg * taps;
    a.a.s1 = 1;
    a.a.batch_inner = og * cg * taps;
    a.b.ptr = x.data<T>();
    a.b.batch_outer = s.c * in_pixels;
    a.b.batch_inner = cg * in_pixels;
    a.conv = geometry(s);
    a.c = y.data<T>();
    a.ldc = pixels;
    a.c_outer = s.o * pixels;
    a.c_inner = og * pixels;
    a.c_size = s.n * s.o * pixels;
    if (bias.defined()) {
        a.bias = bias.data<T>();
        a.bias_inner = og;
    }
    BKind kind = BKind::Im2col;
    if (is_pointwise(s)) {  // B is the image itself: a (C_g x H*W) matrix
        kind = BKind::Dense;
        a.b.s0 = in_pixels;
        a.b.s1 = 1;
    }
    gemm(a, kind, device, current_stream(device), "conv2d forward");
}

template <class T>
void backward_data(const Tensor& grad_y, const Tensor& w, Tensor& grad_x, const ConvShape& s, int device) {
    const int64_t groups = s.p.groups, cg = s.group_in(), og = s.group_out();
    const int64_t taps = s.kh * s.kw, pixels = s.oh * s.ow, in_pixels = s.h * s.w;
    const cudaStream_t stream = current_stream(device);
    // A = W_g^T: (c*taps + tap, o) of the weight (o, c, tap).
    GemmArgs<T> a;
    a.m = cg * taps;
    a.n = pixels;
    a.k = og;
    a.inner_count = groups;
    a.a.ptr = w.data<T>();
    a.a.s0 = 1;
    a.a.s1 = cg * taps;
    a.a.batch_inner = og * cg * taps;
    a.b.ptr = grad_y.data<T>();
    a.b.s0 = pixels;
    a.b.s1 = 1;
    a.b.batch_outer = s.o * pixels;
    a.b.batch_inner = og * pixels;
    if (is_pointwise(s)) {
        a.outer_count = s.n;
        a.c = grad_x.data<T>();
        a.ldc = in_pixels;
        a.c_outer = s.c * in_pixels;
        a.c_inner = cg * in_pixels;
        a.c_size = s.n * s.c * in_pixels;
        gemm(a, BKind::Dense, device, stream, "conv2d backward (input)");
        return;
    }
    const int64_t cols_per_image = s.c * taps * pixels;
    const int64_t chunk =
        std::max<int64_t>(1, std::min<int64_t>(s.n, kColumnBudget / (sizeof(T) * std::max<int64_t>(1, cols_per_image))));
    DeviceBuffer cols(device, static_cast<size_t>(chunk * cols_per_image) * sizeof(T));
    a.c = cols.as<T>();
    a.ldc = pixels;
    a.c_outer = groups * cg * taps * pixels;
    a.c_inner = cg * taps * pixels;
    const Im2colGeometry g = geometry(s);
    for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
        const int64_t images = std::min(chunk, s.n - n0);
        GemmArgs<T> part = a;
        part.outer_count = images;
        part.b.ptr = grad_y.data<T>() + n0 * s.o * pixels;
        part.c_size = images * cols_per_image;
        gemm(part, BKind::Dense, device, stream, "conv2d backward (input)");

        const int64_t total = images * s.c * in_pixels;
        constexpr int kThreads = 256;
        LaunchConfig config;
        config.grid = dim3(static_cast<unsigned>(std::min<int64_t>((total + kThreads - 1) / kThreads, 65535)));
        config.block = dim3(kThreads);
        config.stream = stream;
        launch("conv2d backward (input): col2im", grad_x.shape(), config, col2im_kernel<T>,
               static_cast<const T*>(cols.as<T>()), grad_x.data<T>() + n0 * s.c * in_pixels, total, g, groups);
    }
}

template <class T>
void backward_weight(const Tensor& grad_y, const Tensor& x, Tensor& grad_w, const ConvShape& s, int device) {
    const int64_t groups = s.p.groups, cg = s.group_in(), og = s.group_out();
    const int64_t taps = s.kh * s.kw, pixels = s.oh * s.ow;
    GemmArgs<T> a;
    a.m = og;
    a.n = cg * taps;
    a.k = s.n * pixels;
    a.inner_count = groups;
    // A = dY_g: (o, (image, pixel)).
    a.a.ptr = grad_y.data<T>();
    a.a.s0 = pixels;
    a.a.s1 = 1;
    a.a.col_period = pixels;
    a.a.s_col_outer = s.o * pixels;
    a.a.batch_inner = og * pixels;
    a.b.ptr = x.data<T>();
    a.b.batch_inner = cg * s.h * s.w;
    a.conv = geometry(s);
    a.c = grad_w.data<T>();
    a.ldc = cg * taps;
    a.c_inner = og * cg * taps;
    a.c_size = s.o * cg * taps;
    gemm(a, BKind::Im2colT, device, current_stream(device), "conv2d backward (weight)");
}

}  // namespace

void conv2d_forward_own(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ConvShape& s,
                        int device) {
    ENGINE_DISPATCH_FLOATING(x.dtype(), "conv2d", [&] { forward<scalar_t>(x, w, bias, y, s, device); });
}

void conv2d_backward_data_own(const Tensor& grad_y, const Tensor& w, Tensor& grad_x, const ConvShape& s, int device) {
    if (grad_x.numel() == 0) return;
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "conv2d backward",
                             [&] { backward_data<scalar_t>(grad_y, w, grad_x, s, device); });
}

void conv2d_backward_weight_own(const Tensor& grad_y, const Tensor& x, Tensor& grad_w, const ConvShape& s,
                                int device) {
    if (grad_w.numel() == 0) return;
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "conv2d backward",
                             [&] { backward_weight<scalar_t>(grad_y, x, grad_w, s, device); });
}

}  // namespace engine::cuda
