// Forward tests of cat, stack, split / split_sizes and pad (constant with cropping, reflect, replicate) and of
// pad_backward, against naive references and PyTorch's documented results, plus the bad-input errors.
#include <gtest/gtest.h>

#include <functional>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;
using engine::test::flat_index;
using engine::test::for_each_position;

namespace {


// Source coordinate of output coordinate o along a dim of size n padded by `before`; -1 means "the value".
int64_t naive_source(int64_t o, int64_t n, int64_t before, PadMode mode) {
    int64_t i = o - before;
    if (mode == PadMode::Constant) return i >= 0 && i < n ? i : -1;
    if (mode == PadMode::Replicate) return i < 0 ? 0 : (i >= n ? n - 1 : i);
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;  // mirror without repeating the edge
    return i;
}

Tensor naive_pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
    Shape out_shape = x.shape();
    const size_t nd = out_shape.size();
    for (size_t i = 0; 2 * i < pads.size(); ++i) out_shape[nd - 1 - i] += pads[2 * i] + pads[2 * i + 1];
    const std::vector<double> xv = x.to_vector<double>();
    std::vector<double> out(static_cast<size_t>(shape_numel(out_shape)));
    for_each_position(out_shape, [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q = p;
        bool inside = true;
        for (size_t i = 0; 2 * i < pads.size(); ++i) {
            const size_t d = nd - 1 - i;
            q[d] = naive_source(p[d], x.shape()[d], pads[2 * i], mode);
            inside &= q[d] >= 0;
        }
        out[flat_index(p, out_shape)] = inside ? xv[flat_index(q, x.shape())] : value;
    });
    return from_vector<double>(out, out_shape);
}

double dot(const Tensor& a, const Tensor& b) {
    const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
    double s = 0;
    for (size_t i = 0; i < av.size(); ++i) s += av[i] * bv[i];
    return s;
}

}  // namespace

TEST(CatTest, AlongEveryDim) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (int64_t dim = 0; dim < 3; ++dim) {
            Shape a{2, 3, 4}, b{2, 3, 4}, c{2, 3, 4};
            a[dim] = 1;
            b[dim] = 0;
            c[dim] = 5;
            const Tensor ta = random_tensor(a, 1, dtype), tb = random_tensor(b, 2, dtype),
                         tc = random_tensor(c, 3, dtype);
            const Tensor out = cat({ta, tb, tc}, dim);
            Shape expected_shape{2, 3, 4};
            expected_shape[dim] = 6;
            ASSERT_EQ(out.shape(), expected_shape);
            // Element (p) comes from a when p[dim] < 1, else from c at p[dim] - 1.
            const std::vector<double> av = ta.to_vector<double>(), cv = tc.to_vector<double>(),
                                      ov = out.to_vector<double>();
            for_each_position(expected_shape, [&](const std::vector<int64_t>& p) {
                std::vector<int64_t> q = p;
                const bool from_a = p[dim] < 1;
                if (!from_a) q[dim] -= 1;
                EXPECT_EQ(ov[flat_index(p, expected_shape)], from_a ? av[flat_index(q, a)] : cv[flat_index(q, c)]);
            });
            EXPECT_TRUE(all_close(cat({ta, tb, tc}, dim - 3), out, 0));
        }
    }
}

TEST(CatTest, StridedPromotionAndLegacyEmpty) {
    const Tensor x = random_tensor({4, 3}, 4);
    const Tensor xt = x.t();  // (3, 4), strided
    const Tensor out = cat({xt, xt.narrow(0, 1, 2)}, 0);
    EXPECT_TRUE(all_close(out.narrow(0, 0, 3), xt, 0));
    EXPECT_TRUE(all_close(out.narrow(0, 3, 2), xt.narrow(0, 1, 2), 0));
    const Tensor mixed = cat({from_vector<int32_t>({1, 2}, {2}), from_vector<float>({0.5f}, {1})});
    EXPECT_EQ(mixed.dtype(), DType::Float32);
    EXPECT_EQ(mixed.to_vector<float>(), (std::vector<float>{1, 2, 0.5f}));
    EXPECT_EQ(cat({from_vector<int64_t>({1}, {1}), from_vector<double>({2}, {1})}).dtype(), DType::Float64);
    // A 1-D tensor of size 0 is skipped whatever the other shapes are, as in PyTorch.
    EXPECT_EQ(cat({zeros({0}), random_tensor({2, 3}, 5).to(DType::Float32)}, 1).shape(), (Shape{2, 3}));
    EXPECT_EQ(cat({zeros({0}), zeros({0})}).shape(), (Shape{0}));
    EXPECT_EQ(cat({arange(0, 3)}).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(CatTest, BadInputs) {
    EXPECT_ENGINE_ERROR(cat({}), "non-empty");
    EXPECT_ENGINE_ERROR(cat({zeros({2, 3}), zeros({2, 3, 1})}), "same number of dims");
    EXPECT_ENGINE_ERROR(cat({zeros({2, 3}), zeros({2, 4})}, 0), "must match except in dim 0");
    EXPECT_ENGINE_ERROR(cat({zeros({2, 3}), zeros({2, 4})}, 0), "[2, 4]");
    EXPECT_ENGINE_ERROR(cat({zeros({2, 3}), zeros({2, 3})}, 2), "out of range");
    EXPECT_ENGINE_ERROR(cat({scalar_tensor(1.0), scalar_tensor(2.0)}), "0-d");
}

TEST(StackTest, InsertsANewDim) {
    const Tensor a = random_tensor({2, 3}, 1), b = random_tensor({2, 3}, 2);
    for (int64_t dim = -3; dim < 3; ++dim) {
        const Tensor s = stack({a, b}, dim);
        const int64_t d = dim < 0 ? dim + 3 : dim;
        Shape expected{2, 3};
        expected.insert(expected.begin() + d, 2);
        ASSERT_EQ(s.shape(), expected);
        EXPECT_TRUE(all_close(s.select(d, 0), a, 0));
        EXPECT_TRUE(all_close(s.select(d, 1), b, 0));
    }
    EXPECT_EQ(stack({scalar_tensor(1.0), scalar_tensor(2.0)}).to_vector<float>(), (std::vector<float>{1, 2}));
    EXPECT_ENGINE_ERROR(stack({a, random_tensor({3, 2}, 3)}), "equal shape");
    EXPECT_ENGINE_ERROR(stack({a, b}, 3), "out of range");
    EXPECT_ENGINE_ERROR(stack({}), "non-empty");
}

TEST(SplitTest, ViewsOfTheInput) {
    const Tensor x = random_tensor({7, 4}, 1);
    const std::vector<Tensor> parts = split(x, 3);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[2].shape(), (Shape{1, 4}));
    EXPECT_EQ(parts[1].storage(), x.storage());
    EXPECT_TRUE(all_close(cat(parts), x, 0));
    const std::vector<Tensor> cols = split(x, 2, -1);
    ASSERT_EQ(cols.size(), 2u);
    EXPECT_TRUE(all_close(cols[1], x.narrow(1, 2, 2), 0));
    const std::vector<Tensor> sized = split_sizes(x, {2, 0, 5}, 0);
    ASSERT_EQ(sized.size(), 3u);
    EXPECT_EQ(sized[1].shape(), (Shape{0, 4}));
    EXPECT_TRUE(all_close(sized[2], x.narrow(0, 2, 5), 0));
    EXPECT_EQ(split(zeros({0, 3}), 2).size(), 1u);
    EXPECT_ENGINE_ERROR(split(x, 0), "split_size");
    EXPECT_ENGINE_ERROR(split_sizes(x, {2, 2}, 0), "sum to 4 but dim 0 has size 7");
    EXPECT_ENGINE_ERROR(split_sizes(x, {8, -1}, 0), "non-negative");
}

TEST(PadTest, ConstantAnyDimsWithCropping) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = random_tensor({2, 3, 4, 5}, 6, dtype);
        const std::vector<std::vector<int64_t>> cases = {{1, 2},         {0, 0, 2, 1},   {1, 1, 1, 1, 1, 1},
                                                         {-1, 2, 3, -2}, {-1, -2, 0, 0}, {2, 2, 2, 2, 2, 2, 2, 2},
                                                         {-3, 0}};
        for (const auto& pads : cases) {
            EXPECT_TRUE(all_close(pad(x, pads, PadMode::Constant, 1.5), naive_pad(x, pads, PadMode::Constant, 1.5), 0))
                << shape_str(pads);
            EXPECT_TRUE(all_close(pad(x.transpose(1, 3), pads),
                                  naive_pad(x.transpose(1, 3).contiguous(), pads, PadMode::Constant, 0.0), 0));
        }
    }
    const Tensor ints = arange(0, 3).view({1, 3});
    EXPECT_EQ(pad(ints, {1, 0}, PadMode::Constant, 9).to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 1, 2}));
}

TEST(PadTest, ReflectAndReplicate) {
    // PyTorch's results on [0, 1, 2, 3, 4] (F.pad, shape (1, 1, 5)).
    const Tensor row = arange(0, 5, 1, DType::Float32).view({1, 1, 5});
    auto values = [](const Tensor& t) { return t.to_vector<float>(); };
    EXPECT_EQ(values(pad(row, {-1, 2}, PadMode::Reflect)), (std::vector<float>{1, 2, 3, 4, 3, 2}));
    EXPECT_EQ(values(pad(row, {-1, 2}, PadMode::Replicate)), (std::vector<float>{1, 2, 3, 4, 4, 4}));
    EXPECT_EQ(values(pad(row, {2, -1}, PadMode::Reflect)), (std::vector<float>{2, 1, 0, 1, 2, 3}));
    EXPECT_EQ(values(pad(row, {2, -1}, PadMode::Replicate)), (std::vector<float>{0, 0, 0, 1, 2, 3}));
    EXPECT_EQ(values(pad(row, {4, 0}, PadMode::Reflect)), (std::vector<float>{4, 3, 2, 1, 0, 1, 2, 3, 4}));
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (PadMode mode : {PadMode::Reflect, PadMode::Replicate}) {
            const Tensor x3 = random_tensor({2, 3, 6}, 7, dtype), x4 = random_tensor({2, 3, 5, 6}, 8, dtype);
            for (const auto& pads : {std::vector<int64_t>{2, 3}, {0, 5}, {-1, 4}}) {
                EXPECT_TRUE(all_close(pad(x3, pads, mode), naive_pad(x3, pads, mode, 0), 0));
                EXPECT_TRUE(all_close(pad(x3.select(0, 1), pads, mode), naive_pad(x3.select(0, 1), pads, mode, 0), 0));
            }
            for (const auto& pads : {std::vector<int64_t>{1, 2, 3, 4}, {4, 0, 0, 4}, {2, -1, -2, 1}}) {
                EXPECT_TRUE(all_close(pad(x4, pads, mode), naive_pad(x4, pads, mode, 0), 0));
                EXPECT_TRUE(all_close(pad(x4.transpose(2, 3), pads, mode),
                                      naive_pad(x4.transpose(2, 3).contiguous(), pads, mode, 0), 0));
                EXPECT_TRUE(all_close(pad(x4.select(0, 0), pads, mode), naive_pad(x4.select(0, 0), pads, mode, 0), 0));
            }
        }
    }
    // Replicate has no size limit.
    EXPECT_EQ(pad(from_vector<float>({3}, {1, 1, 1}), {2, 1}, PadMode::Replicate).to_vector<float>(),
              (std::vector<float>{3, 3, 3, 3}));
}

TEST(PadTest, BackwardIsTheAdjoint) {
    // <pad(x), g> == <x, pad_backward(g)> for every mode: pad_backward scatter-adds what pad read.
    const Tensor x = random_tensor({2, 3, 5, 6}, 1);
    const std::vector<std::pair<PadMode, std::vector<int64_t>>> cases = {
        {PadMode::Constant, {1, 2, -1, 3}}, {PadMode::Constant, {2, 2}}, {PadMode::Constant, {-2, -1, 0, 0, 1, 1}},
        {PadMode::Reflect, {4, 3, 2, 4}},   {PadMode::Reflect, {-1, 5}}, {PadMode::Replicate, {7, 0, 1, 9}},
        {PadMode::Replicate, {3, -2}}};
    for (const auto& [mode, pads] : cases) {
        const Tensor xin = pads.size() == 2 && mode != PadMode::Constant ? x.select(0, 0) : x;
        const Tensor y = pad(xin, pads, mode);
        const Tensor g = random_tensor(y.shape(), 2);
        const Tensor gx = cpu_backend().pad_backward(g, xin.shape(), pads, mode);
        EXPECT_EQ(gx.shape(), xin.shape());
        EXPECT_NEAR(dot(y, g), dot(xin, gx), 1e-10) << shape_str(pads);
    }
}

TEST(PadTest, BadInputs) {
    const Tensor x = random_tensor({2, 3, 4}, 1);
    EXPECT_ENGINE_ERROR(pad(x, {1, 1, 1}), "even");
    EXPECT_ENGINE_ERROR(pad(x, {1, 1, 1, 1, 1, 1, 1, 1}), "pad 4 dims");
    EXPECT_ENGINE_ERROR(pad(x, {-3, -2}), "negative output size");
    EXPECT_ENGINE_ERROR(pad(x, {4, 0}, PadMode::Reflect), "less than the input size 4");
    EXPECT_ENGINE_ERROR(pad(x, {1, 1}, PadMode::Reflect, 2.0), "does not take a value");
    EXPECT_ENGINE_ERROR(pad(x, {1, 1, 1, 1, 1, 1}, PadMode::Replicate), "takes 2 values");
    EXPECT_ENGINE_ERROR(pad(random_tensor({2, 3, 4, 5, 6}, 1), {1, 1}, PadMode::Reflect), "takes 2 values");
    EXPECT_ENGINE_ERROR(pad(zeros({2, 3, 0}), {1, 1}, PadMode::Replicate), "non-empty");
}
