#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"

using namespace engine;
using engine::test::all_close;

namespace {

// Applies f elementwise in double to a's values broadcast to `shape` (reference for broadcasting).
template <class F>
Tensor reference_binary(const Tensor& a, const Tensor& b, F f) {
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), "ref");
    const Tensor ae = a.expand(shape).contiguous().to(DType::Float64), be = b.expand(shape).contiguous().to(DType::Float64);
    std::vector<double> av = ae.to_vector<double>(), bv = be.to_vector<double>(), out(av.size());
    for (size_t i = 0; i < av.size(); ++i) out[i] = f(av[i], bv[i]);
    return from_vector<double>(out, shape);
}

}  // namespace

TEST(ElementwiseTest, BinaryOpsBroadcastLikeNumPy) {
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor a = test::random_tensor({2, 3, 4}, 1, dt);
        Tensor b = test::random_tensor({3, 1}, 2, dt, 0.5, 2.0);
        EXPECT_TRUE(all_close(add(a, b), reference_binary(a, b, [](double x, double y) { return x + y; }), 1e-6));
        EXPECT_TRUE(all_close(sub(b, a), reference_binary(b, a, [](double x, double y) { return x - y; }), 1e-6));
        EXPECT_TRUE(all_close(mul(a, b), reference_binary(a, b, [](double x, double y) { return x * y; }), 1e-6));
        EXPECT_TRUE(all_close(div(a, b), reference_binary(a, b, [](double x, double y) { return x / y; }), 1e-6));
        EXPECT_TRUE(all_close(pow(b, a), reference_binary(b, a, [](double x, double y) { return std::pow(x, y); }), 1e-5));
        EXPECT_TRUE(all_close(maximum(a, b), reference_binary(a, b, [](double x, double y) { return std::max(x, y); })));
        EXPECT_TRUE(all_close(minimum(a, b), reference_binary(a, b, [](double x, double y) { return std::min(x, y); })));
        EXPECT_EQ(add(a, b).dtype(), dt);
    }
}

TEST(ElementwiseTest, NonContiguousOperands) {
    Tensor base = test::random_tensor({5, 7}, 3);
    Tensor a = base.t();                   // (7, 5), strides (1, 7)
    Tensor b = test::random_tensor({5, 7}, 4).t();
    EXPECT_TRUE(all_close(add(a, b), add(a.contiguous(), b.contiguous())));
    Tensor n = base.narrow(1, 2, 3);       // a row-strided slice
    EXPECT_TRUE(all_close(mul(n, 2.0), mul(n.contiguous(), 2.0)));
    Tensor e = test::random_tensor({1, 7}, 5).expand({5, 7});
    EXPECT_TRUE(all_close(sub(base, e), sub(base, e.contiguous())));
}

TEST(ElementwiseTest, LargeTensorsTakeTheParallelPathCorrectly) {
    Tensor a = test::random_tensor({300, 257}, 6, DType::Float32);
    Tensor b = test::random_tensor({257}, 7, DType::Float32);
    EXPECT_TRUE(all_close(add(a, b), reference_binary(a, b, [](double x, double y) { return x + y; }), 1e-6));
    Tensor at = a.t();
    EXPECT_TRUE(all_close(exp(at), exp(at.contiguous())));
}

TEST(ElementwiseTest, UnaryOpsMatchTheMath) {
    const std::vector<double> v = {-2.5, -0.5, 0.25, 1.5, 3.0};
    Tensor x = from_vector<double>(v, {5});
    auto check = [&](const Tensor& y, double (*f)(double)) {
        std::vector<double> expected;
        for (double e : v) expected.push_back(f(e));
        EXPECT_TRUE(all_close(y, from_vector<double>(expected, {5}), 1e-12));
    };
    check(neg(x), [](double e) { return -e; });
    check(exp(x), [](double e) { return std::exp(e); });
    check(abs(x), [](double e) { return std::abs(e); });
    check(relu(x), [](double e) { return e > 0 ? e : 0.0; });
    check(sigmoid(x), [](double e) { return 1.0 / (1.0 + std::exp(-e)); });
    check(tanh(x), [](double e) { return std::tanh(e); });
    check(sign(x), [](double e) { return e > 0 ? 1.0 : (e < 0 ? -1.0 : 0.0); });
    check(floor(x), [](double e) { return std::floor(e); });
    check(ceil(x), [](double e) { return std::ceil(e); });
    check(round(x), [](double e) { return std::nearbyint(e); });
    check(square(x), [](double e) { return e * e; });
    check(sin(x), [](double e) { return std::sin(e); });
    check(cos(x), [](double e) { return std::cos(e); });
    Tensor p = from_vector<double>({0.5, 1.0, 4.0}, {3});
    EXPECT_TRUE(all_close(log(p), from_vector<double>({std::log(0.5), 0.0, std::log(4.0)}, {3})));
    EXPECT_TRUE(all_close(sqrt(p), from_vector<double>({std::sqrt(0.5), 1.0, 2.0}, {3})));
    EXPECT_TRUE(all_close(rsqrt(p), from_vector<double>({1 / std::sqrt(0.5), 1.0, 0.5}, {3})));
    EXPECT_TRUE(all_close(reciprocal(p), from_vector<double>({2.0, 1.0, 0.25}, {3})));
    EXPECT_TRUE(all_close(log1p(p), from_vector<double>({std::log1p(0.5), std::log1p(1.0), std::log1p(4.0)}, {3})));
    EXPECT_TRUE(all_close(clamp(x, -1.0, 2.0), from_vector<double>({-1, -0.5, 0.25, 1.5, 2.0}, {5})));
    EXPECT_TRUE(all_close(clamp(x, std::nullopt, 0.0), from_vector<double>({-2.5, -0.5, 0, 0, 0}, {5})));
}

TEST(ElementwiseTest, ScalarFormsAndOperators) {
    Tensor x = from_vector<float>({1, 2, 4}, {3});
    EXPECT_EQ((x + 1.0).to_vector<float>(), (std::vector<float>{2, 3, 5}));
    EXPECT_EQ((10.0 - x).to_vector<float>(), (std::vector<float>{9, 8, 6}));
    EXPECT_EQ((x * 3.0).to_vector<float>(), (std::vector<float>{3, 6, 12}));
    EXPECT_EQ((8.0 / x).to_vector<float>(), (std::vector<float>{8, 4, 2}));
    EXPECT_EQ(pow(x, 2.0).to_vector<float>(), (std::vector<float>{1, 4, 16}));
    EXPECT_EQ(rpow(x, 2.0).to_vector<float>(), (std::vector<float>{2, 4, 16}));
    EXPECT_EQ((-x).to_vector<float>(), (std::vector<float>{-1, -2, -4}));
}

TEST(ElementwiseTest, DtypePromotionFollowsPyTorch) {
    Tensor i = from_vector<int64_t>({1, 2, 3}, {3});
    Tensor f = from_vector<float>({0.5f, 0.5f, 0.5f}, {3});
    EXPECT_EQ(add(i, f).dtype(), DType::Float32);
    EXPECT_EQ(add(i, i).dtype(), DType::Int64);
    EXPECT_EQ(div(i, i).dtype(), DType::Float32);  // true division
    EXPECT_EQ(div(i, i).to_vector<float>(), (std::vector<float>{1, 1, 1}));
    EXPECT_EQ((i * 2.0).dtype(), DType::Int64);
    EXPECT_EQ((i * 0.5).dtype(), DType::Float32);
    EXPECT_EQ(exp(i).dtype(), DType::Float32);
    EXPECT_EQ(add(f, f.to(DType::Float64)).dtype(), DType::Float64);
    EXPECT_EQ(mul(i, i).to_vector<int64_t>(), (std::vector<int64_t>{1, 4, 9}));
}

TEST(ElementwiseTest, ComparisonsAndWhere) {
    Tensor a = from_vector<float>({1, 2, 3, 4}, {4});
    Tensor b = from_vector<float>({4, 2, 2, 1}, {4});
    EXPECT_EQ(gt(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 1, 1}));
    EXPECT_EQ(eq(a, b).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 0, 0}));
    EXPECT_EQ(le(a, 2.0).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 0, 0}));
    EXPECT_EQ(ne(a, 2.0).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 1}));
    EXPECT_EQ(lt(a, b).dtype(), DType::Bool);
    Tensor w = where(ge(a, 3.0), a, b);
    EXPECT_EQ(w.to_vector<float>(), (std::vector<float>{4, 2, 3, 4}));
    Tensor m = masked_fill(a, eq(a, 2.0), -1.0);
    EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{1, -1, 3, 4}));
    // Broadcast condition: a (2,1) mask against (2,3) values.
    Tensor cond = from_vector<uint8_t>({1, 0}, {2, 1});
    Tensor x = ones({2, 3}), y = zeros({2, 3});
    EXPECT_EQ(where(cond, x, y).to_vector<float>(), (std::vector<float>{1, 1, 1, 0, 0, 0}));
}

TEST(ElementwiseTest, NaNPropagatesThroughMaximumAndClamp) {
    const double nan = std::nan("");
    Tensor a = from_vector<double>({nan, 1.0}, {2});
    Tensor b = from_vector<double>({0.0, nan}, {2});
    for (double v : maximum(a, b).to_vector<double>()) EXPECT_TRUE(std::isnan(v));
    EXPECT_TRUE(std::isnan(clamp(a, 0.0, 1.0).to_vector<double>()[0]));
}

TEST(ElementwiseTest, InPlaceOps) {
    Tensor a = ones({2, 3});
    add_(a, from_vector<float>({1, 2, 3}, {3}));
    EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{2, 3, 4, 2, 3, 4}));
    mul_(a, 2.0);
    EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{4, 6, 8, 4, 6, 8}));
    EXPECT_ENGINE_ERROR(add_(a, ones({2, 1, 3})), "add_: shape [2, 1, 3] does not broadcast to the destination shape [2, 3]");
}

TEST(ElementwiseTest, BadInputsRaiseClearErrors) {
    EXPECT_ENGINE_ERROR(add(zeros({2, 3}), zeros({4})), "add: shapes [2, 3] and [4] cannot be broadcast");
    EXPECT_ENGINE_ERROR(mul(zeros({2}), Tensor()), "mul: an input is undefined");
    EXPECT_ENGINE_ERROR(where(zeros({2}), zeros({2}), zeros({2})), "where: the condition must be bool or uint8");
    EXPECT_ENGINE_ERROR(neg(zeros({2}, DType::Bool)), "neg: not defined for bool tensors");
}
