// conv2d, its backward kernels and conv_transpose2d against naive double-precision loops, over strides,
// padding, dilation, groups (incl. depthwise), 1x1 kernels, odd sizes and strided inputs, in float32 (oneDNN
// when built with it) and float64 (im2col + our GEMM); plus the op layer's input validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <thread>

#include "common/test_util.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;

namespace {

struct ConvCase {
    Shape x, w;  // (N, C, H, W) and (O, C/groups, KH, KW)
    Conv2dParams p;
    bool bias;
};

Conv2dParams params(int64_t stride, int64_t pad, int64_t dilation = 1, int64_t groups = 1) {
    return Conv2dParams::make(stride, pad, dilation, groups);
}

Conv2dParams params_hw(std::array<int64_t, 2> stride, std::array<int64_t, 2> pad, std::array<int64_t, 2> dilation) {
    Conv2dParams p;
    p.stride_h = stride[0], p.stride_w = stride[1];
    p.pad_h = pad[0], p.pad_w = pad[1];
    p.dilation_h = dilation[0], p.dilation_w = dilation[1];
    return p;
}

std::vector<ConvCase> conv_cases() {
    return {
        {{1, 3, 8, 8}, {4, 3, 3, 3}, params(1, 1), true},
        {{2, 3, 9, 7}, {5, 3, 3, 3}, params(2, 1), true},
        {{1, 2, 10, 9}, {3, 2, 3, 3}, params(1, 2, 2), false},
        {{3, 4, 7, 7}, {6, 2, 3, 3}, params(1, 0, 1, 2), true},
        {{2, 4, 6, 6}, {4, 1, 3, 3}, params(1, 1, 1, 4), true},      // depthwise
        {{1, 2, 5, 6}, {6, 1, 3, 3}, params(2, 1, 1, 2), false},     // depthwise, channel multiplier 3
        {{2, 5, 4, 3}, {7, 5, 1, 1}, params(1, 0), true},            // pointwise
        {{1, 3, 5, 5}, {2, 3, 1, 1}, params(2, 0), false},           // 1x1, stride 2
        {{1, 3, 11, 6}, {2, 3, 5, 2}, params_hw({2, 1}, {2, 0}, {1, 2}), true},
        {{3, 1, 28, 28}, {6, 1, 5, 5}, params(1, 0), true},          // LeNet conv1 (small batch)
        {{2, 3, 5, 4}, {2, 3, 3, 3}, params(1, 3), true},            // padding wider than the kernel's half
        {{1, 16, 12, 12}, {32, 16, 3, 3}, params(1, 1), true},       // channels oneDNN blocks by 16
        {{2, 17, 7, 9}, {19, 17, 3, 3}, params(2, 1), false},        // odd channel counts
        {{1, 32, 8, 8}, {32, 16, 3, 3}, params(1, 1, 1, 2), true},   // grouped, blocked channels
        {{2, 16, 9, 9}, {16, 1, 3, 3}, params(2, 1, 1, 16), true},   // depthwise, blocked channels
        {{1, 1, 1, 1}, {1, 1, 1, 1}, params(1, 0), true},
        {{1, 2, 3, 3}, {3, 2, 3, 3}, params(1, 0), false},           // 1x1 output
        {{4, 4, 16, 16}, {8, 4, 3, 3}, params(1, 1), true},         // enough work to split the batch across threads
        {{1, 64, 4, 4}, {128, 64, 3, 3}, params(1, 1), true},       // weights outweigh activations (plain layout)
        {{1, 32, 5, 5}, {64, 16, 3, 3}, params(2, 1, 1, 2), false},  // the same, grouped and strided
    };
}

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

// y[n, o] = bias[o] + sum over the group's channels and taps of x * w.
Tensor reference_conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t O = w.size(0), CG = w.size(1), KH = w.size(2), KW = w.size(3), OG = O / p.groups;
    const int64_t OH = out_size(H, KH, p.stride_h, p.pad_h, p.dilation_h);
    const int64_t OW = out_size(W, KW, p.stride_w, p.pad_w, p.dilation_w);
    const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
    const std::vector<double> bv = bias.defined() ? bias.to_vector<double>() : std::vector<double>(O, 0.0);
    std::vector<double> y(static_cast<size_t>(N * O * OH * OW));
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o)
            for (int64_t oh = 0; oh < OH; ++oh)
                for (int64_t ow = 0; ow < OW; ++ow) {
                    double s = bv[o];
                    for (int64_t c = 0; c < CG; ++c)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
                                const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const int64_t ci = (o / OG) * CG + c;
                                s += xv[((n * C + ci) * H + ih) * W + iw] * wv[((o * CG + c) * KH + kh) * KW + kw];
                            }
                    y[((n * O + o) * OH + oh) * OW + ow] = s;
                }
    return from_vector(y, {N, O, OH, OW});
}

// Scatters every input element through the kernel into an output of shape y_shape: the transposed
// convolution, which is also the gradient of conv2d w.r.t. its input. w is (C_in, C_out/groups, KH, KW).
Tensor reference_scatter(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p,
                         const Shape& y_shape) {
    const int64_t N = x.size(0), CI = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t COG = w.size(1), KH = w.size(2), KW = w.size(3), CIG = CI / p.groups;
    const int64_t CO = y_shape[1], OH = y_shape[2], OW = y_shape[3];
    const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
    std::vector<double> y(static_cast<size_t>(N * CO * OH * OW), 0.0);
    if (bias.defined()) {
        const std::vector<double> bv = bias.to_vector<double>();
        for (size_t i = 0; i < y.size(); ++i) y[i] = bv[(i / (OH * OW)) % CO];
    }
    for (int64_t n = 0; n < N; ++n)
        for (int64_t ci = 0; ci < CI; ++ci)
            for (int64_t ih = 0; ih < H; ++ih)
                for (int64_t iw = 0; iw < W; ++iw)
                    for (int64_t co = 0; co < COG; ++co)
                        for (int64_t kh = 0; kh < KH; ++kh)
                            for (int64_t kw = 0; kw < KW; ++kw) {
                                const int64_t oh = ih * p.stride_h - p.pad_h + kh * p.dilation_h;
                                const int64_t ow = iw * p.stride_w - p.pad_w + kw * p.dilation_w;
                                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                                const int64_t c = (ci / CIG) * COG + co;
                                y[((n * CO + c) * OH + oh) * OW + ow] +=
                                    xv[((n * CI + ci) * H + ih) * W + iw] * wv[((ci * COG + co) * KH + kh) * KW + kw];
                            }
    return from_vector(y, y_shape);
}

// dw[o, c, kh, kw] = sum over images and output positions of grad_y * the input element that tap reads.
Tensor reference_weight_grad(const Tensor& gy, const Tensor& x, const Shape& w_shape, const Conv2dParams& p) {
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t O = w_shape[0], CG = w_shape[1], KH = w_shape[2], KW = w_shape[3], OG = O / p.groups;
    const int64_t OH = gy.size(2), OW = gy.size(3);
    const std::vector<double> xv = x.to_vector<double>(), gv = gy.to_vector<double>();
    std::vector<double> dw(static_cast<size_t>(shape_numel(w_shape)), 0.0);
    for (int64_t o = 0; o < O; ++o)
        for (int64_t c = 0; c < CG; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
                for (int64_t kw = 0; kw < KW; ++kw) {
                    double s = 0;
                    const int64_t ci = (o / OG) * CG + c;
                    for (int64_t n = 0; n < N; ++n)
                        for (int64_t oh = 0; oh < OH; ++oh)
                            for (int64_t ow = 0; ow < OW; ++ow) {
                                const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
                                const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                s += gv[((n * O + o) * OH + oh) * OW + ow] * xv[((n * C + ci) * H + ih) * W + iw];
                            }
                    dw[((o * CG + c) * KH + kh) * KW + kw] = s;
                }
    return from_vector(dw, w_shape);
}

double atol_for(DType dt) { return dt == DType::Float32 ? 1e-4 : 1e-11; }
double rtol_for(DType dt) { return dt == DType::Float32 ? 1e-4 : 1e-11; }

const DType kDtypes[] = {DType::Float32, DType::Float64};

std::string case_str(const ConvCase& c) {
    return detail::concat("x ", shape_str(c.x), " w ", shape_str(c.w), " stride ", c.p.stride_h, "x", c.p.stride_w,
                          " pad ", c.p.pad_h, "x", c.p.pad_w, " dilation ", c.p.dilation_h, "x", c.p.dilation_w,
                          " groups ", c.p.groups);
}

}  // namespace

TEST(Conv2dTest, ForwardMatchesReference) {
    uint64_t seed = 1;
    for (DType dt : kDtypes)
        for (const ConvCase& c : conv_cases()) {
            const Tensor x = random_tensor(c.x, seed++, dt), w = random_tensor(c.w, seed++, dt);
            const Tensor b = c.bias ? random_tensor({c.w[0]}, seed++, dt) : Tensor();
            const Tensor y = conv2d(x, w, b, c.p);
            EXPECT_EQ(y.dtype(), dt);
            EXPECT_TRUE(all_close(y, reference_conv2d(x, w, b, c.p), atol_for(dt), rtol_for(dt)))
                << dtype_name(dt) << " " << case_str(c);
        }
}

TEST(Conv2dTest, RepeatedCallsReuseCachedPrimitives) {
    // Same geometry, new data each time: results must follow the data, not a cached buffer.
    for (int i = 0; i < 3; ++i) {
        const Tensor x = random_tensor({2, 16, 6, 6}, 50 + i, DType::Float32);
        const Tensor w = random_tensor({8, 16, 3, 3}, 60 + i, DType::Float32);
        const Tensor b = random_tensor({8}, 70 + i, DType::Float32);
        EXPECT_TRUE(all_close(conv2d(x, w, b, params(1, 1)), reference_conv2d(x, w, b, params(1, 1)), 1e-4, 1e-4));
    }
}

TEST(Conv2dTest, NonContiguousInputs) {
    for (DType dt : kDtypes) {
        // Channels-last memory viewed as NCHW, a weight narrowed from a larger one, a strided bias.
        const Tensor x = random_tensor({2, 7, 6, 5}, 80, dt).permute({0, 3, 1, 2});  // (2, 5, 7, 6)
        const Tensor w = random_tensor({4, 6, 3, 3}, 81, dt).narrow(1, 1, 5);           // (4, 5, 3, 3)
        const Tensor b = random_tensor({4, 2}, 82, dt).select(1, 1);                    // (4), stride 2
        const Conv2dParams p = params(2, 1);
        EXPECT_TRUE(all_close(conv2d(x, w, b, p), reference_conv2d(x, w, b, p), atol_for(dt), rtol_for(dt)));
        const Tensor xt = random_tensor({1, 3, 9, 8}, 83, dt).transpose(2, 3);  // (1, 3, 8, 9)
        const Tensor wt = random_tensor({2, 3, 3, 3}, 84, dt).transpose(2, 3);
        EXPECT_TRUE(all_close(conv2d(xt, wt, Tensor(), params(1, 0)),
                              reference_conv2d(xt, wt, Tensor(), params(1, 0)), atol_for(dt), rtol_for(dt)));
    }
}

TEST(Conv2dTest, BackwardKernelsMatchReference) {
    uint64_t seed = 1000;
    Backend& backend = cpu_backend();
    for (DType dt : kDtypes)
        for (const ConvCase& c : conv_cases()) {
            const Tensor x = random_tensor(c.x, seed++, dt), w = random_tensor(c.w, seed++, dt);
            const int64_t oh = out_size(c.x[2], c.w[2], c.p.stride_h, c.p.pad_h, c.p.dilation_h);
            const int64_t ow = out_size(c.x[3], c.w[3], c.p.stride_w, c.p.pad_w, c.p.dilation_w);
            const Tensor gy = random_tensor({c.x[0], c.w[0], oh, ow}, seed++, dt);
            const Tensor dx = backend.conv2d_backward_data(gy, w, c.x, c.p);
            EXPECT_TRUE(all_close(dx, reference_scatter(gy, w, Tensor(), c.p, c.x), atol_for(dt), rtol_for(dt)))
                << "backward data, " << dtype_name(dt) << " " << case_str(c);
            const Tensor dw = backend.conv2d_backward_weight(gy, x, c.w, c.p);
            EXPECT_TRUE(all_close(dw, reference_weight_grad(gy, x, c.w, c.p), atol_for(dt) * 10, rtol_for(dt)))
                << "backward weight, " << dtype_name(dt) << " " << case_str(c);
        }
}

TEST(Conv2dTest, BackwardDataAcceptsLargerInput) {
    // x_shape one row/column larger than the output needs (transposed convolution's output_padding), and with
    // dilation 2 at stride 1 where the extra rows are beyond every tap.
    Backend& backend = cpu_backend();
    const std::vector<std::pair<Conv2dParams, Shape>> cases = {{params(2, 1), {2, 3, 8, 8}},
                                                               {params(1, 0, 2), {1, 3, 7, 8}},
                                                               {params(3, 1), {1, 2, 9, 10}}};
    uint64_t seed = 2000;
    for (DType dt : kDtypes)
        for (const auto& [p, x_shape] : cases) {
            const Tensor w = random_tensor({4, x_shape[1], 3, 3}, seed++, dt);
            // Outputs of the minimal input: one row/column fewer than x_shape would give at most.
            const int64_t oh = out_size(x_shape[2] - 1, 3, p.stride_h, p.pad_h, p.dilation_h);
            const int64_t ow = out_size(x_shape[3] - 1, 3, p.stride_w, p.pad_w, p.dilation_w);
            const Tensor gy = random_tensor({x_shape[0], 4, oh, ow}, seed++, dt);
            EXPECT_TRUE(all_close(backend.conv2d_backward_data(gy, w, x_shape, p),
                                  reference_scatter(gy, w, Tensor(), p, x_shape), atol_for(dt), rtol_for(dt)))
                << dtype_name(dt) << " x " << shape_str(x_shape);
            const Tensor x = random_tensor(x_shape, seed++, dt);
            EXPECT_TRUE(all_close(backend.conv2d_backward_weight(gy, x, w.shape(), p),
                                  reference_weight_grad(gy, x, w.shape(), p), atol_for(dt) * 10, rtol_for(dt)))
                << dtype_name(dt) << " x " << shape_str(x_shape);
        }
}

TEST(Conv2dTest, LargeImageInRowBands) {
    // float64 runs im2col + GEMM; a column buffer for this image exceeds the budget, so it goes in bands of rows.
    const Tensor x = random_tensor({1, 32, 130, 130}, 90, DType::Float64);
    const Tensor w = random_tensor({2, 32, 3, 3}, 91, DType::Float64);
    const Tensor b = random_tensor({2}, 92, DType::Float64);
    const Conv2dParams p = params(1, 1);
    EXPECT_TRUE(all_close(conv2d(x, w, b, p), reference_conv2d(x, w, b, p), 1e-11, 1e-11));
    const Tensor gy = random_tensor({1, 2, 130, 130}, 93, DType::Float64);
    EXPECT_TRUE(all_close(cpu_backend().conv2d_backward_data(gy, w, x.shape(), p),
                          reference_scatter(gy, w, Tensor(), p, x.shape()), 1e-11, 1e-11));
    EXPECT_TRUE(all_close(cpu_backend().conv2d_backward_weight(gy, x, w.shape(), p),
                          reference_weight_grad(gy, x, w.shape(), p), 1e-9, 1e-11));
}

TEST(Conv2dTest, ConcurrentCallsFromSeveralThreads) {
    // The primitive cache and the primitives are shared between threads that train at the same time.
    const Conv2dParams p = params(1, 1);
    std::vector<Tensor> xs, ws, ys;
    for (int i = 0; i < 4; ++i) {
        xs.push_back(random_tensor({2, 16, 10, 10}, 100 + i, DType::Float32));
        ws.push_back(random_tensor({16, 16, 3, 3}, 200 + i, DType::Float32));
    }
    ys.resize(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            for (int r = 0; r < 5; ++r) ys[i] = conv2d(xs[i], ws[i], Tensor(), p);
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 4; ++i)
        EXPECT_TRUE(all_close(ys[i], reference_conv2d(xs[i], ws[i], Tensor(), p), 1e-4, 1e-4)) << "thread " << i;
}

// Largest absolute difference over the largest absolute reference value: how far a fast algorithm (oneDNN's
// Winograd on AVX-512, chosen for 3x3 stride-1 layers with 32+ channels on 16x16+ images) may drift.
double relative_error(const Tensor& got, const Tensor& want) {
    const Tensor a = got.to(DType::Float64).contiguous(), b = want.to(DType::Float64).contiguous();
    EXPECT_EQ(a.shape(), b.shape());
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
        diff = std::max(diff, std::abs(a.data<double>()[i] - b.data<double>()[i]));
        scale = std::max(scale, std::abs(b.data<double>()[i]));
    }
    return diff / scale;
}

TEST(Conv2dTest, WideLayersMatchReferenceInAllPasses) {
    // The UNet's wide layers, scaled down: geometries the CPU backend may run with Winograd.
    const std::vector<ConvCase> cases = {
        {{1, 32, 32, 32}, {16, 32, 3, 3}, params(1, 1), true},
        {{4, 64, 16, 16}, {64, 64, 3, 3}, params(1, 1), false},
        {{1, 48, 36, 35}, {24, 48, 3, 3}, params(1, 0), true},
    };
    uint64_t seed = 3000;
    Backend& backend = cpu_backend();
    for (const ConvCase& c : cases) {
        const Tensor x = random_tensor(c.x, seed++, DType::Float32), w = random_tensor(c.w, seed++, DType::Float32);
        const Tensor b = c.bias ? random_tensor({c.w[0]}, seed++, DType::Float32) : Tensor();
        const Tensor y = conv2d(x, w, b, c.p);
        EXPECT_LT(relative_error(y, reference_conv2d(x, w, b, c.p)), 1e-5) << "forward " << case_str(c);
        const Tensor gy = random_tensor(y.shape(), seed++, DType::Float32);
        EXPECT_LT(relative_error(backend.conv2d_backward_data(gy, w, c.x, c.p),
                                 reference_scatter(gy, w, Tensor(), c.p, c.x)), 1e-5)
            << "backward data " << case_str(c);
        EXPECT_LT(relative_error(backend.conv2d_backward_weight(gy, x, c.w, c.p),
                                 reference_weight_grad(gy, x, c.w, c.p)), 1e-5)
            << "backward weight " << case_str(c);
    }
}

TEST(Conv2dTest, CachedWeightsFollowInPlaceUpdates) {
    // Repeated forwards with an unchanged weight use a reordered copy kept between calls; any in-place write
    // (an optimizer step, loading a checkpoint, re-initialising for the randomisation check) must invalidate it.
    const Tensor x = random_tensor({2, 32, 16, 16}, 4000, DType::Float32);
    Tensor w = random_tensor({32, 32, 3, 3}, 4001, DType::Float32);
    const Conv2dParams p = params(1, 1);
    const Tensor want = reference_conv2d(x, w, Tensor(), p);
    for (int i = 0; i < 3; ++i) EXPECT_LT(relative_error(conv2d(x, w, Tensor(), p), want), 1e-5) << "call " << i;
    w.copy_(random_tensor(w.shape(), 4002, DType::Float32));
    EXPECT_LT(relative_error(conv2d(x, w, Tensor(), p), reference_conv2d(x, w, Tensor(), p)), 1e-5);
    mul_(w, -2.0);
    for (int i = 0; i < 2; ++i)
        EXPECT_LT(relative_error(conv2d(x, w, Tensor(), p), reference_conv2d(x, w, Tensor(), p)), 1e-5);
    // The backward-data pass keeps its own copy of the same weight.
    const Tensor gy = random_tensor({2, 32, 16, 16}, 4003, DType::Float32);
    for (int i = 0; i < 3; ++i) {
        if (i == 2) add_(w, full(w.shape(), 1.0, DType::Float32));
        EXPECT_LT(relative_error(cpu_backend().conv2d_backward_data(gy, w, x.shape(), p),
                                 reference_scatter(gy, w, Tensor(), p, x.shape())), 1e-5) << "call " << i;
    }
}

TEST(ConvTranspose2dTest, MatchesReference) {
    struct Case {
        Shape x, w;  // w (C_in, C_out/groups, KH, KW)
        Conv2dParams p;
        int64_t op_h, op_w;
        bool bias;
    };
    const std::vector<Case> cases = {
        {{1, 4, 4, 4}, {4, 2, 3, 3}, params(2, 1), 1, 1, true},       // the seed UNet's up-sampling
        {{2, 3, 5, 3}, {3, 2, 3, 3}, params(2, 1), 1, 0, false},
        {{2, 3, 4, 4}, {3, 5, 2, 2}, params(2, 0), 0, 0, true},
        {{1, 4, 3, 5}, {4, 3, 3, 3}, params(2, 1, 1, 2), 1, 1, true},  // grouped: C_out = 6
        {{1, 2, 4, 4}, {2, 3, 3, 3}, params(1, 0, 2), 1, 1, true},     // output_padding < dilation, stride 1
        {{1, 2, 3, 3}, {2, 2, 3, 3}, params(3, 1), 2, 1, false},
        {{2, 16, 4, 4}, {16, 8, 3, 3}, params(2, 1), 1, 1, true},      // blocked channels
        {{1, 3, 1, 1}, {3, 2, 1, 1}, params(1, 0), 0, 0, true},
        {{1, 64, 3, 3}, {64, 32, 3, 3}, params(2, 1), 1, 1, true},    // weights outweigh activations
    };
    uint64_t seed = 3000;
    for (DType dt : kDtypes)
        for (const Case& c : cases) {
            const Tensor x = random_tensor(c.x, seed++, dt), w = random_tensor(c.w, seed++, dt);
            const Tensor b = c.bias ? random_tensor({c.w[1] * c.p.groups}, seed++, dt) : Tensor();
            const Tensor y = conv_transpose2d(x, w, b, c.p, c.op_h, c.op_w);
            const int64_t oh = (c.x[2] - 1) * c.p.stride_h - 2 * c.p.pad_h + c.p.dilation_h * (c.w[2] - 1) + c.op_h + 1;
            const int64_t ow = (c.x[3] - 1) * c.p.stride_w - 2 * c.p.pad_w + c.p.dilation_w * (c.w[3] - 1) + c.op_w + 1;
            const Shape y_shape{c.x[0], c.w[1] * c.p.groups, oh, ow};
            EXPECT_EQ(y.shape(), y_shape);
            EXPECT_TRUE(all_close(y, reference_scatter(x, w, b, c.p, y_shape), atol_for(dt), rtol_for(dt)))
                << dtype_name(dt) << " x " << shape_str(c.x) << " w " << shape_str(c.w);
        }
}

TEST(Conv2dTest, BadInputs) {
    const Tensor x = ones({1, 3, 8, 8}), w = ones({4, 3, 3, 3});
    EXPECT_ENGINE_ERROR(conv2d(ones({1, 2, 8, 8}), w, Tensor(), params(1, 1)), "channels");
    EXPECT_ENGINE_ERROR(conv2d(ones({3, 8, 8}), w, Tensor(), params(1, 1)), "4-D input");
    EXPECT_ENGINE_ERROR(conv2d(x, ones({4, 3, 3}), Tensor(), params(1, 1)), "4-D weight");
    EXPECT_ENGINE_ERROR(conv2d(x, w, ones({3}), params(1, 1)), "bias must have shape [4]");
    EXPECT_ENGINE_ERROR(conv2d(x.to(DType::Float64), w, Tensor(), params(1, 1)), "same dtype");
    EXPECT_ENGINE_ERROR(conv2d(x, w, ones({4}, DType::Float64), params(1, 1)), "dtype");
    EXPECT_ENGINE_ERROR(conv2d(ones({1, 3, 2, 2}), w, Tensor(), params(1, 0)), "output would be empty");
    EXPECT_ENGINE_ERROR(conv2d(ones({1, 3, 8, 8}), ones({4, 1, 3, 3}), Tensor(), params(1, 1, 1, 2)),
                        "divisible by groups");
    EXPECT_ENGINE_ERROR(conv2d(ones({1, 4, 8, 8}), ones({4, 1, 3, 3}), Tensor(), params(1, 1, 1, 2)), "channels");
    EXPECT_ENGINE_ERROR(conv2d(x, w, Tensor(), params(0, 1)), "stride must be >= 1");
    EXPECT_ENGINE_ERROR(conv2d(x, w, Tensor(), params(1, -1)), "padding must be >= 0");
    EXPECT_ENGINE_ERROR(conv2d(x, w, Tensor(), params(1, 1, 0)), "dilation must be >= 1");
    EXPECT_ENGINE_ERROR(conv2d(ones({1, 3, 8, 8}, DType::Int64), ones({4, 3, 3, 3}, DType::Int64), Tensor(),
                               params(1, 1)),
                        "float32 or float64");
}

TEST(ConvTranspose2dTest, BadInputs) {
    const Tensor x = ones({1, 4, 5, 5}), w = ones({4, 2, 3, 3});
    EXPECT_ENGINE_ERROR(conv_transpose2d(ones({1, 3, 5, 5}), w, Tensor(), params(2, 1), 1, 1), "channels");
    EXPECT_ENGINE_ERROR(conv_transpose2d(x, w, Tensor(), params(2, 1), 2, 0), "output_padding");
    EXPECT_ENGINE_ERROR(conv_transpose2d(x, w, Tensor(), params(1, 1), 1, 1), "output_padding");
    EXPECT_ENGINE_ERROR(conv_transpose2d(x, w, ones({4}), params(2, 1), 1, 1), "bias must have shape [2]");
    EXPECT_ENGINE_ERROR(conv_transpose2d(ones({1, 4, 1, 1}), w, Tensor(), params(1, 2)), "output size");
    EXPECT_ENGINE_ERROR(conv_transpose2d(ones({1, 3, 5, 5}), ones({3, 2, 3, 3}), Tensor(), params(1, 1, 1, 2)),
                        "divisible by groups");
    EXPECT_ENGINE_ERROR(conv_transpose2d(x.to(DType::Float64), w, Tensor(), params(1, 1)), "same dtype");
}
