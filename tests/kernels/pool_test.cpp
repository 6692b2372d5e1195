// Pooling forward and backward against naive double references written from PyTorch's definitions: max
// pooling (values, indices, padding, dilation, ceil_mode, NaN and ties), average pooling (both divisor rules)
// and adaptive average pooling, plus the parameter and shape errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "common/pool_params.h"
#include "common/test_util.h"

namespace engine {
namespace {

using test::all_close;
using test::pool;
using test::PoolCase;
using test::random_tensor;

struct Dims {
    int64_t n, c, h, w;
};

Dims dims_of(const Tensor& x) { return {x.size(0), x.size(1), x.size(2), x.size(3)}; }

// Number of windows along one axis: window i starts at i*s - p and spans d*(k-1)+1 positions. It counts when
// it ends inside the padded input, or, with ceil_mode, when the previous window left positions of the padded
// input uncovered and it starts inside the input or the left padding.
int64_t ref_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
    const int64_t extent = d * (k - 1) + 1;
    int64_t count = 0;
    for (int64_t start = -p;; start += s) {
        const bool fits = start + extent <= in + p;
        const bool partial = ceil_mode && start - s + extent < in + p && start < in;
        if (!fits && !partial) break;
        ++count;
    }
    return count;
}

int64_t stride_of(int64_t stride, int64_t kernel) { return stride == 0 ? kernel : stride; }

struct RefPool {
    Dims out;
    std::vector<double> values;
    std::vector<int64_t> indices;
};

RefPool ref_max_pool(const Tensor& x, const Pool2dParams& p) {
    const Dims d = dims_of(x);
    const std::vector<double> v = x.to_vector<double>();
    const int64_t sh = stride_of(p.stride_h, p.kernel_h), sw = stride_of(p.stride_w, p.kernel_w);
    RefPool r;
    r.out = {d.n, d.c, ref_out_size(d.h, p.kernel_h, sh, p.pad_h, p.dilation_h, p.ceil_mode),
             ref_out_size(d.w, p.kernel_w, sw, p.pad_w, p.dilation_w, p.ceil_mode)};
    for (int64_t plane = 0; plane < d.n * d.c; ++plane) {
        for (int64_t oh = 0; oh < r.out.h; ++oh) {
            for (int64_t ow = 0; ow < r.out.w; ++ow) {
                double best = -std::numeric_limits<double>::infinity();
                int64_t best_index = -1, first_valid = -1;
                for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
                    for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                        const int64_t h = oh * sh - p.pad_h + kh * p.dilation_h;
                        const int64_t w = ow * sw - p.pad_w + kw * p.dilation_w;
                        if (h < 0 || h >= d.h || w < 0 || w >= d.w) continue;  // padding acts as -inf
                        const int64_t at = h * d.w + w;
                        if (first_valid < 0) first_valid = at;
                        const double value = v[plane * d.h * d.w + at];
                        if (value > best || std::isnan(value)) {  // ties keep the first; a later NaN wins
                            best = value;
                            best_index = at;
                        }
                    }
                }
                r.values.push_back(best);
                r.indices.push_back(best_index >= 0 ? best_index : first_valid);
            }
        }
    }
    return r;
}

RefPool ref_avg_pool(const Tensor& x, const Pool2dParams& p) {
    const Dims d = dims_of(x);
    const std::vector<double> v = x.to_vector<double>();
    const int64_t sh = stride_of(p.stride_h, p.kernel_h), sw = stride_of(p.stride_w, p.kernel_w);
    RefPool r;
    r.out = {d.n, d.c, ref_out_size(d.h, p.kernel_h, sh, p.pad_h, 1, p.ceil_mode),
             ref_out_size(d.w, p.kernel_w, sw, p.pad_w, 1, p.ceil_mode)};
    for (int64_t plane = 0; plane < d.n * d.c; ++plane) {
        for (int64_t oh = 0; oh < r.out.h; ++oh) {
            for (int64_t ow = 0; ow < r.out.w; ++ow) {
                double sum = 0;
                int64_t inside = 0, in_padded = 0;
                for (int64_t kh = 0; kh < p.kernel_h; ++kh) {
                    for (int64_t kw = 0; kw < p.kernel_w; ++kw) {
                        const int64_t h = oh * sh - p.pad_h + kh, w = ow * sw - p.pad_w + kw;
                        // Taps past the right/bottom padding (ceil_mode) count for neither divisor.
                        if (h >= -p.pad_h && h < d.h + p.pad_h && w >= -p.pad_w && w < d.w + p.pad_w) ++in_padded;
                        if (h < 0 || h >= d.h || w < 0 || w >= d.w) continue;
                        sum += v[plane * d.h * d.w + h * d.w + w];
                        ++inside;
                    }
                }
                r.values.push_back(inside == 0 ? 0.0 : sum / (p.count_include_pad ? in_padded : inside));
            }
        }
    }
    return r;
}

RefPool ref_adaptive(const Tensor& x, int64_t out_h, int64_t out_w) {
    const Dims d = dims_of(x);
    const std::vector<double> v = x.to_vector<double>();
    RefPool r;
    r.out = {d.n, d.c, out_h, out_w};
    for (int64_t plane = 0; plane < d.n * d.c; ++plane) {
        for (int64_t oh = 0; oh < out_h; ++oh) {
            const auto h0 = static_cast<int64_t>(std::floor(double(oh) * d.h / out_h));
            const auto h1 = static_cast<int64_t>(std::ceil(double(oh + 1) * d.h / out_h));
            for (int64_t ow = 0; ow < out_w; ++ow) {
                const auto w0 = static_cast<int64_t>(std::floor(double(ow) * d.w / out_w));
                const auto w1 = static_cast<int64_t>(std::ceil(double(ow + 1) * d.w / out_w));
                double sum = 0;
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) sum += v[plane * d.h * d.w + h * d.w + w];
                r.values.push_back(sum / double((h1 - h0) * (w1 - w0)));
            }
        }
    }
    return r;
}

Tensor as_tensor(const std::vector<double>& v, const Dims& d, DType dtype) {
    return from_vector<double>(v, {d.n, d.c, d.h, d.w}).to(dtype);
}

std::vector<PoolCase> max_cases() {
    return {
        {{2, 3, 7, 7}, pool(3, 3, 2, 2, 1, 1)},
        {{2, 3, 7, 7}, pool(3, 3, 2, 2, 1, 1, 1, 1, true)},
        {{1, 2, 6, 5}, pool(2, 2, 0, 0, 0, 0, 1, 1, true)},
        {{1, 2, 5, 5}, pool(2, 2, 2, 2, 1, 1, 1, 1, true)},
        {{1, 1, 9, 8}, pool(3, 3, 1, 1, 1, 1, 2, 2)},
        {{2, 1, 1, 1}, pool(1, 1, 1, 1, 0, 0)},
        {{1, 2, 5, 7}, pool(3, 2, 2, 1, 1, 1, 1, 2, true)},
        {{1, 1, 4, 4}, pool(4, 4, 0, 0, 0, 0)},
        {{3, 2, 11, 13}, pool(3, 3, 3, 2, 1, 0, 1, 1, true)},
        {{1, 1, 10, 10}, pool(3, 3, 4, 4, 1, 1, 1, 1, true)},
        {{1, 2, 4, 4}, pool(5, 5, 2, 2, 0, 0, 1, 1, true)},  // kernel past the input, still one ceil window
    };
}

TEST(MaxPool2dTest, OutputSizesMatchPyTorch) {
    // Sizes reported by torch.nn.functional.max_pool2d for these (in, kernel, stride, pad, dilation, ceil).
    struct Known {
        int64_t in, k, s, p, d;
        bool ceil_mode;
        int64_t out;
    };
    const Known known[] = {{7, 3, 2, 1, 1, false, 4}, {7, 3, 2, 1, 1, true, 4}, {5, 2, 2, 1, 1, true, 3},
                           {6, 2, 2, 0, 1, true, 3},  {5, 2, 2, 0, 1, true, 3}, {9, 3, 1, 1, 2, false, 7},
                           {8, 3, 3, 1, 1, true, 3},  {10, 3, 4, 1, 1, true, 3}, {4, 5, 2, 0, 1, true, 1}};
    for (const Known& k : known) {
        EXPECT_EQ(ref_out_size(k.in, k.k, k.s, k.p, k.d, k.ceil_mode), k.out) << "reference, in " << k.in;
        const Tensor x = random_tensor({1, 1, k.in, k.in}, 1);
        const Tensor y = max_pool2d(x, pool(k.k, k.k, k.s, k.s, k.p, k.p, k.d, k.d, k.ceil_mode));
        EXPECT_EQ(y.shape(), (Shape{1, 1, k.out, k.out})) << "in " << k.in << " kernel " << k.k;
    }
}

TEST(MaxPool2dTest, MatchesReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        uint64_t seed = 10;
        for (const PoolCase& c : max_cases()) {
            const Tensor x = random_tensor(c.shape, ++seed, dtype, -3.0, 3.0);
            const RefPool r = ref_max_pool(x, c.params);
            auto [y, indices] = max_pool2d_with_indices(x, c.params);
            EXPECT_EQ(y.dtype(), dtype);
            EXPECT_EQ(indices.dtype(), DType::Int64);
            EXPECT_TRUE(all_close(y, as_tensor(r.values, r.out, DType::Float64), 0, 0)) << shape_str(c.shape);
            EXPECT_EQ(indices.to_vector<int64_t>(), r.indices) << shape_str(c.shape);
            EXPECT_TRUE(all_close(max_pool2d(x, c.params), y, 0, 0));
        }
    }
}

TEST(MaxPool2dTest, NonContiguousAnd3DInput) {
    const Pool2dParams p = pool(3, 2, 2, 1, 1, 1, 1, 1, true);
    // (N,C,W,H) transposed to (N,C,H,W), then a narrowed channel range: neither view is contiguous.
    const Tensor base = random_tensor({2, 4, 9, 7}, 3, DType::Float32);
    const Tensor x = base.transpose(2, 3).narrow(1, 1, 2);
    ASSERT_FALSE(x.is_contiguous());
    const RefPool r = ref_max_pool(x, p);
    auto [y, indices] = max_pool2d_with_indices(x, p);
    EXPECT_TRUE(all_close(y, as_tensor(r.values, r.out, DType::Float64), 0, 0));
    EXPECT_EQ(indices.to_vector<int64_t>(), r.indices);

    const Tensor x3 = x.select(0, 1);  // (C,H,W)
    auto [y3, indices3] = max_pool2d_with_indices(x3, p);
    EXPECT_TRUE(all_close(y3, y.select(0, 1), 0, 0));
    EXPECT_TRUE(all_close(indices3, indices.select(0, 1), 0, 0));
}

TEST(MaxPool2dTest, NaNPropagatesAndTiesTakeTheFirstIndex) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Pool2dParams row = pool(1, 4, 1, 1, 0, 0);
    // torch: max_pool2d([1, nan, 3, nan], (1, 4)) -> (nan, 3); [1, 2, 2, 1] -> (2, 1).
    auto [y, i] = max_pool2d_with_indices(from_vector<double>({1, nan, 3, nan}, {1, 1, 1, 4}), row);
    EXPECT_TRUE(std::isnan(y.item<double>()));
    EXPECT_EQ(i.item<int64_t>(), 3);
    auto [y2, i2] = max_pool2d_with_indices(from_vector<float>({1, 2, 2, 1}, {1, 1, 1, 4}), row);
    EXPECT_EQ(y2.item<float>(), 2.0f);
    EXPECT_EQ(i2.item<int64_t>(), 1);
    // All -inf: the index is the window's first in-input position (the reference's rule).
    const double inf = std::numeric_limits<double>::infinity();
    const Tensor x = from_vector<double>({-inf, -inf, -inf, -inf}, {1, 1, 2, 2});
    auto [y3, i3] = max_pool2d_with_indices(x, pool(2, 2, 1, 1, 1, 1));
    EXPECT_EQ(i3.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 0, 1, 2, 2, 3}));
}

TEST(MaxPool2dTest, WindowEntirelyInPaddingGivesMinusInfinity) {
    // torch.nn.functional.max_pool2d(x of shape (1,1,1,1), 2, padding=1, dilation=2) -> (-inf, index 2).
    auto [y, i] = max_pool2d_with_indices(from_vector<double>({5.0}, {1, 1, 1, 1}), pool(2, 2, 1, 1, 1, 1, 2, 2));
    EXPECT_EQ(y.item<double>(), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(i.item<int64_t>(), 2);
}

TEST(MaxPool2dTest, IntegerInputs) {
    const Pool2dParams p = pool(3, 3, 2, 2, 1, 1, 1, 1, true);
    const Tensor xd = random_tensor({2, 2, 6, 5}, 4, DType::Float64, -100.0, -1.0);
    const RefPool r = ref_max_pool(xd.to(DType::Int64), p);
    for (DType dtype : {DType::Int64, DType::Int32}) {
        auto [y, i] = max_pool2d_with_indices(xd.to(dtype), p);
        EXPECT_EQ(y.dtype(), dtype);
        EXPECT_TRUE(all_close(y, as_tensor(r.values, r.out, DType::Float64), 0, 0));
        EXPECT_EQ(i.to_vector<int64_t>(), r.indices);
    }
    const Tensor u = random_tensor({1, 2, 5, 5}, 5, DType::Float64, 0.0, 255.0).to(DType::UInt8);
    const RefPool ru = ref_max_pool(u, pool(2, 2, 1, 1, 0, 0));
    EXPECT_TRUE(all_close(max_pool2d(u, pool(2, 2, 1, 1, 0, 0)), as_tensor(ru.values, ru.out, DType::Float64), 0, 0));
}

// Input gradient of pooling given the output gradient, from the reference windows.
std::vector<double> scatter_max(const Dims& in, const RefPool& r, const std::vector<double>& g) {
    std::vector<double> gx(in.n * in.c * in.h * in.w, 0.0);
    const int64_t out_plane = r.out.h * r.out.w;
    for (int64_t plane = 0; plane < in.n * in.c; ++plane)
        for (int64_t o = 0; o < out_plane; ++o)
            gx[plane * in.h * in.w + r.indices[plane * out_plane + o]] += g[plane * out_plane + o];
    return gx;
}

TEST(MaxPool2dTest, BackwardAccumulatesOverlappingWindows) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Pool2dParams p = pool(3, 3, 1, 1, 1, 1);  // every input is in up to 9 windows
        Tensor x = random_tensor({2, 2, 5, 6}, 6, dtype);
        x.requires_grad_(true);
        const RefPool r = ref_max_pool(x, p);
        Tensor y = max_pool2d(x, p);
        const Tensor g = random_tensor(y.shape(), 7, dtype);
        y.backward(g);
        const std::vector<double> expected = scatter_max(dims_of(x), r, g.to_vector<double>());
        EXPECT_TRUE(all_close(x.grad(), as_tensor(expected, dims_of(x), DType::Float64), 1e-5, 1e-5));
    }
}

TEST(AvgPool2dTest, ValuesMatchPyTorch) {
    // torch.nn.functional.avg_pool2d(arange(1, 26).view(1, 1, 5, 5), 3, 2, 1, ceil_mode=True, ...)
    const Tensor x = arange(1, 26, 1, DType::Float64).view({1, 1, 5, 5});
    const Tensor include = avg_pool2d(x, pool(3, 3, 2, 2, 1, 1, 1, 1, true, true));
    const Tensor exclude = avg_pool2d(x, pool(3, 3, 2, 2, 1, 1, 1, 1, true, false));
    EXPECT_TRUE(all_close(include, from_vector<double>({16.0 / 9, 33.0 / 9, 28.0 / 9, 69.0 / 9, 13.0, 87.0 / 9,
                                                        76.0 / 9, 123.0 / 9, 88.0 / 9},
                                                       {1, 1, 3, 3})));
    EXPECT_TRUE(all_close(exclude, from_vector<double>({4, 5.5, 7, 11.5, 13, 14.5, 19, 20.5, 22}, {1, 1, 3, 3})));
}

TEST(AvgPool2dTest, MatchesReference) {
    uint64_t seed = 20;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (bool include_pad : {true, false}) {
            for (const PoolCase& c : max_cases()) {
                Pool2dParams p = c.params;
                if (p.dilation_h != 1 || p.dilation_w != 1) continue;
                p.count_include_pad = include_pad;
                const Tensor x = random_tensor(c.shape, ++seed, dtype);
                const RefPool r = ref_avg_pool(x, p);
                const double tol = dtype == DType::Float32 ? 1e-6 : 1e-12;
                EXPECT_TRUE(all_close(avg_pool2d(x, p), as_tensor(r.values, r.out, DType::Float64), tol, tol))
                    << shape_str(c.shape) << " include_pad " << include_pad;
            }
        }
        // A ceil_mode window reaching past the padded input divides by its in-range taps only.
        const Tensor x = random_tensor({1, 2, 6, 6}, ++seed, dtype);
        const Pool2dParams p = pool(3, 3, 2, 2, 0, 0, 1, 1, true);
        const RefPool r = ref_avg_pool(x, p);
        EXPECT_TRUE(all_close(avg_pool2d(x, p), as_tensor(r.values, r.out, DType::Float64), 1e-6, 1e-6));
    }
}

TEST(AvgPool2dTest, NonContiguousAnd3DAndInteger) {
    const Pool2dParams p = pool(2, 3, 1, 2, 1, 1, 1, 1, true, false);
    const Tensor x = random_tensor({2, 3, 8, 5}, 30, DType::Float64).transpose(2, 3);
    ASSERT_FALSE(x.is_contiguous());
    const RefPool r = ref_avg_pool(x, p);
    const Tensor y = avg_pool2d(x, p);
    EXPECT_TRUE(all_close(y, as_tensor(r.values, r.out, DType::Float64), 1e-12, 1e-12));
    EXPECT_TRUE(all_close(avg_pool2d(x.select(0, 1), p), y.select(0, 1), 0, 0));

    // int64 divides with truncation toward zero, as PyTorch: -14 / 9 -> -1.
    const Tensor xi = neg(arange(1, 17, 1, DType::Int64)).view({1, 1, 4, 4});
    const Tensor yi = avg_pool2d(xi, pool(3, 3, 3, 3, 1, 1, 1, 1, true));
    EXPECT_EQ(yi.dtype(), DType::Int64);
    EXPECT_EQ(yi.to_vector<int64_t>(), (std::vector<int64_t>{-1, -2, -5, -6}));
}

TEST(AvgPool2dTest, Backward) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (bool include_pad : {true, false}) {
            const Pool2dParams p = pool(3, 2, 2, 1, 1, 1, 1, 1, true, include_pad);
            Tensor x = random_tensor({2, 2, 7, 6}, 31, dtype);
            x.requires_grad_(true);
            Tensor y = avg_pool2d(x, p);
            const Tensor g = random_tensor(y.shape(), 32, dtype);
            y.backward(g);
            // d y[o] / d x[i] is y's value for a one-hot x at i, so the reference applies the forward rule.
            const Dims d = dims_of(x);
            const std::vector<double> gv = g.to_vector<double>();
            std::vector<double> expected(d.n * d.c * d.h * d.w, 0.0);
            for (int64_t i = 0; i < d.h * d.w; ++i) {
                std::vector<double> one_hot(d.h * d.w, 0.0);
                one_hot[i] = 1.0;
                const RefPool r = ref_avg_pool(as_tensor(one_hot, {1, 1, d.h, d.w}, DType::Float64), p);
                for (int64_t plane = 0; plane < d.n * d.c; ++plane)
                    for (size_t o = 0; o < r.values.size(); ++o)
                        expected[plane * d.h * d.w + i] += r.values[o] * gv[plane * r.values.size() + o];
            }
            EXPECT_TRUE(all_close(x.grad(), as_tensor(expected, d, DType::Float64), 1e-5, 1e-5));
        }
    }
}

TEST(AdaptiveAvgPool2dTest, MatchesReference) {
    struct Case {
        Shape shape;
        int64_t out_h, out_w;
    };
    const Case cases[] = {{{2, 3, 7, 7}, 3, 3}, {{1, 2, 5, 5}, 5, 5}, {{1, 1, 4, 4}, 8, 6},
                          {{2, 1, 1, 1}, 2, 3}, {{1, 3, 6, 5}, 4, 3}, {{1, 2, 9, 11}, 1, 1}};
    uint64_t seed = 40;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Case& c : cases) {
            const Tensor x = random_tensor(c.shape, ++seed, dtype);
            const RefPool r = ref_adaptive(x, c.out_h, c.out_w);
            const double tol = dtype == DType::Float32 ? 1e-6 : 1e-12;
            EXPECT_TRUE(all_close(adaptive_avg_pool2d(x, c.out_h, c.out_w), as_tensor(r.values, r.out, DType::Float64),
                                  tol, tol))
                << shape_str(c.shape);
        }
    }
    const Tensor x = random_tensor({2, 3, 10, 7}, 50, DType::Float64).transpose(2, 3).narrow(2, 1, 5);
    ASSERT_FALSE(x.is_contiguous());
    const RefPool r = ref_adaptive(x, 3, 4);
    const Tensor y = adaptive_avg_pool2d(x, 3, 4);
    EXPECT_TRUE(all_close(y, as_tensor(r.values, r.out, DType::Float64), 1e-12, 1e-12));
    EXPECT_TRUE(all_close(adaptive_avg_pool2d(x.select(0, 0), 3, 4), y.select(0, 0), 0, 0));
    EXPECT_EQ(adaptive_avg_pool2d(x, 0, 2).shape(), (Shape{2, 3, 0, 2}));  // empty output, as PyTorch
}

TEST(AdaptiveAvgPool2dTest, Backward) {
    Tensor x = random_tensor({1, 2, 7, 5}, 51, DType::Float32);
    x.requires_grad_(true);
    Tensor y = adaptive_avg_pool2d(x, 3, 4);
    const Tensor g = random_tensor(y.shape(), 52, DType::Float32);
    y.backward(g);
    const std::vector<double> gv = g.to_vector<double>();
    std::vector<double> expected(2 * 7 * 5, 0.0);
    for (int64_t plane = 0; plane < 2; ++plane) {
        for (int64_t oh = 0; oh < 3; ++oh) {
            const int64_t h0 = oh * 7 / 3, h1 = ((oh + 1) * 7 + 2) / 3;
            for (int64_t ow = 0; ow < 4; ++ow) {
                const int64_t w0 = ow * 5 / 4, w1 = ((ow + 1) * 5 + 3) / 4;
                const double share = gv[plane * 12 + oh * 4 + ow] / double((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; ++h)
                    for (int64_t w = w0; w < w1; ++w) expected[plane * 35 + h * 5 + w] += share;
            }
        }
    }
    EXPECT_TRUE(all_close(x.grad(), as_tensor(expected, {1, 2, 7, 5}, DType::Float64), 1e-6, 1e-5));
}

TEST(PoolTest, BadInputs) {
    const Tensor x = random_tensor({1, 2, 4, 4}, 60);
    EXPECT_ENGINE_ERROR(max_pool2d(random_tensor({4, 4}, 1), pool(2, 2, 0, 0, 0, 0)), "3-D (C,H,W) or 4-D");
    EXPECT_ENGINE_ERROR(avg_pool2d(random_tensor({1, 1, 1, 4, 4}, 1), pool(2, 2, 0, 0, 0, 0)),
                        "got shape [1, 1, 1, 4, 4]");
    EXPECT_ENGINE_ERROR(adaptive_avg_pool2d(random_tensor({4}, 1), 2, 2), "adaptive_avg_pool2d");
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(0, 2, 0, 0, 0, 0)), "kernel size must be greater than zero");
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(2, 2, -1, 1, 0, 0)), "stride must be greater than zero");
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(2, 2, 1, 1, 2, 0)), "pad should be at most half of kernel size");
    EXPECT_ENGINE_ERROR(avg_pool2d(x, pool(3, 3, 1, 1, 1, 2)), "pad should be at most half of kernel size");
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(2, 2, 1, 1, 0, 0, 0, 1)), "dilation must be greater than zero");
    EXPECT_ENGINE_ERROR(avg_pool2d(x, pool(2, 2, 1, 1, 0, 0, 2, 2)), "dilation is not supported");
    // Kernel larger than the padded input: the message names the input size.
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(5, 5, 1, 1, 0, 0)),
                        "Given input size: (2x4x4). Calculated output size: (2x0x0)");
    EXPECT_ENGINE_ERROR(avg_pool2d(x, pool(7, 2, 1, 1, 1, 0)), "Output size is too small");
    EXPECT_ENGINE_ERROR(max_pool2d(x, pool(3, 3, 1, 1, 0, 0, 2, 2)), "Output size is too small");
    EXPECT_ENGINE_ERROR(max_pool2d(random_tensor({1, 0, 4, 4}, 1), pool(2, 2, 0, 0, 0, 0)), "non-zero sizes");
    EXPECT_ENGINE_ERROR(adaptive_avg_pool2d(random_tensor({1, 1, 0, 4}, 1), 2, 2), "non-zero sizes");
    EXPECT_ENGINE_ERROR(adaptive_avg_pool2d(x, -1, 2), "non-negative");
    EXPECT_ENGINE_ERROR(adaptive_avg_pool2d(x.to(DType::Int64), 2, 2), "float32 or float64");
    EXPECT_ENGINE_ERROR(max_pool2d(x.to(DType::Bool), pool(2, 2, 0, 0, 0, 0)), "bool");
    EXPECT_ENGINE_ERROR(avg_pool2d(x.to(DType::Int32), pool(2, 2, 0, 0, 0, 0)), "int32");
    // An empty batch is fine, as in PyTorch.
    EXPECT_EQ(max_pool2d(random_tensor({0, 2, 4, 4}, 1), pool(2, 2, 0, 0, 0, 0)).shape(), (Shape{0, 2, 2, 2}));
}

}  // namespace
}  // namespace engine
