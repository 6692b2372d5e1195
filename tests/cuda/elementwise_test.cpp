// CUDA elementwise kernels (unary, gradients, binary with broadcasting and in place, scalars, comparisons,
// where, clamp) against the CPU backend on awkward sizes, views and dtypes, plus gradchecks through the device.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

const int64_t kSizes[] = {1, 7, 31, 33, 255, 257, 1000, 1025, 4099};

double rtol_of(DType dt) { return dt == DType::Float32 ? 2e-6 : 1e-13; }

// Inputs in the domain of every unary op (positive, away from 0 and from the kinks).
Tensor positive(const Shape& shape, uint64_t seed, DType dt) { return random_tensor(shape, seed, dt, 0.1, 3.0); }

const UnaryOp kUnaryOps[] = {UnaryOp::Neg,  UnaryOp::Exp,     UnaryOp::Log,   UnaryOp::Log1p,  UnaryOp::Sqrt,
                             UnaryOp::Rsqrt, UnaryOp::Abs,    UnaryOp::Sign,  UnaryOp::Relu,   UnaryOp::Sigmoid,
                             UnaryOp::Tanh, UnaryOp::Floor,   UnaryOp::Ceil,  UnaryOp::Round,  UnaryOp::Sin,
                             UnaryOp::Cos,  UnaryOp::Square,  UnaryOp::Reciprocal};

const BinaryOp kBinaryOps[] = {BinaryOp::Add, BinaryOp::Sub,     BinaryOp::Mul,    BinaryOp::Div,
                               BinaryOp::Pow, BinaryOp::Maximum, BinaryOp::Minimum};

const CompareOp kCompareOps[] = {CompareOp::Eq, CompareOp::Ne, CompareOp::Lt,
                                 CompareOp::Le, CompareOp::Gt, CompareOp::Ge};

// Bitwise-equal values (NaN equal to NaN, infinities to themselves), where all_close's tolerance arithmetic
// cannot express "the same infinity".
::testing::AssertionResult equals_cpu(const Tensor& cuda_result, const Tensor& cpu_result) {
    if (cuda_result.shape() != cpu_result.shape() || cuda_result.dtype() != cpu_result.dtype())
        return ::testing::AssertionFailure() << "shape or dtype differs";
    const std::vector<double> a = cuda_result.to_vector<double>(), e = cpu_result.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
        if (!(a[i] == e[i] || (std::isnan(a[i]) && std::isnan(e[i]))))
            return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected " << e[i];
    }
    return ::testing::AssertionSuccess();
}

}  // namespace

TEST(CudaUnaryTest, EveryOpMatchesCpuOnAwkwardSizes) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (int64_t n : kSizes) {
            // Both signs for the sign-sensitive ops; the log-domain ops get |x| + 0.1.
            const Tensor mixed = random_tensor({n}, 10 + n, dt, -3.0, 3.0);
            const Tensor pos = positive({n}, 20 + n, dt);
            const Tensor dm = to_cuda(mixed), dp = to_cuda(pos);
            for (UnaryOp op : kUnaryOps) {
                const bool needs_positive = op == UnaryOp::Log || op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt ||
                                            op == UnaryOp::Log1p || op == UnaryOp::Reciprocal;
                const Tensor& x = needs_positive ? pos : mixed;
                const Tensor& d = needs_positive ? dp : dm;
                EXPECT_TRUE(matches_cpu(gpu().unary(op, d), cpu_backend().unary(op, x), 1e-7, rtol_of(dt)))
                    << unary_op_name(op) << " n=" << n << " " << dtype_name(dt);
            }
        }
    }
}

TEST(CudaUnaryTest, NonContiguousAndMisalignedInputs) {
    REQUIRE_CUDA_DEVICE();
    const Tensor base = random_tensor({33, 17}, 3, DType::Float32, -2.0, 2.0);
    const Tensor dev = to_cuda(base);
    // A transpose, a column slice, an expand and an offset (misaligned for the vectorised path) view.
    const std::vector<std::pair<Tensor, Tensor>> views = {
        {base.t(), dev.t()},
        {base.narrow(1, 3, 11), dev.narrow(1, 3, 11)},
        {base.narrow(1, 2, 1).expand({33, 40}), dev.narrow(1, 2, 1).expand({33, 40})},
        {base.flatten().narrow(0, 1, 500), dev.flatten().narrow(0, 1, 500)},
    };
    for (const auto& [cpu_view, dev_view] : views) {
        for (UnaryOp op : {UnaryOp::Exp, UnaryOp::Tanh, UnaryOp::Abs, UnaryOp::Neg}) {
            EXPECT_TRUE(matches_cpu(gpu().unary(op, dev_view), cpu_backend().unary(op, cpu_view), 1e-7, 2e-6))
                << unary_op_name(op) << " on " << shape_str(cpu_view.shape());
        }
    }
}

TEST(CudaUnaryTest, IntegerOpsAndNaN) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Int64, DType::Int32}) {
        const Tensor x = random_tensor({257}, 5, DType::Float64, -50.0, 50.0).to(dt);
        for (UnaryOp op : {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::Relu, UnaryOp::Square,
                           UnaryOp::Floor, UnaryOp::Ceil, UnaryOp::Round}) {
            EXPECT_TRUE(matches_cpu(gpu().unary(op, to_cuda(x)), cpu_backend().unary(op, x), 0, 0))
                << unary_op_name(op) << " " << dtype_name(dt);
        }
    }
    const Tensor u8 = random_tensor({33}, 6, DType::Float64, 0.0, 200.0).to(DType::UInt8);
    EXPECT_TRUE(matches_cpu(gpu().unary(UnaryOp::Relu, to_cuda(u8)), cpu_backend().unary(UnaryOp::Relu, u8), 0, 0));
    // Halves round to even; NaN stays NaN (relu too, as in PyTorch) on both backends.
    const Tensor special = from_vector<double>({0.5, 1.5, 2.5, -0.5, -2.5, NAN, -INFINITY, INFINITY}, {8});
    for (UnaryOp op : {UnaryOp::Round, UnaryOp::Relu, UnaryOp::Sign, UnaryOp::Exp, UnaryOp::Sigmoid}) {
        EXPECT_TRUE(equals_cpu(gpu().unary(op, to_cuda(special)), cpu_backend().unary(op, special)))
            << unary_op_name(op);
    }
}

TEST(CudaUnaryTest, BackwardOfEveryOpMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (int64_t n : {1, 31, 1025}) {
            const Tensor x = positive({n}, 30 + n, dt);
            const Tensor g = random_tensor({n}, 40 + n, dt);
            for (UnaryOp op : kUnaryOps) {
                const Tensor y = cpu_backend().unary(op, x);
                const Tensor expected = cpu_backend().unary_backward(op, x, y, g);
                const Tensor actual = gpu().unary_backward(op, to_cuda(x), to_cuda(y), to_cuda(g));
                EXPECT_TRUE(matches_cpu(actual, expected, 1e-7, rtol_of(dt)))
                    << unary_op_name(op) << " n=" << n << " " << dtype_name(dt);
            }
        }
    }
    // Strided gradient operands: a transposed grad_y.
    const Tensor x = positive({17, 9}, 1, DType::Float64), g = random_tensor({9, 17}, 2).t();
    const Tensor y = cpu_backend().unary(UnaryOp::Sigmoid, x);
    EXPECT_TRUE(matches_cpu(gpu().unary_backward(UnaryOp::Sigmoid, to_cuda(x), to_cuda(y), to_cuda(g)),
                            cpu_backend().unary_backward(UnaryOp::Sigmoid, x, y, g), 0, 1e-13));
}

TEST(CudaBinaryTest, EveryOpWithBroadcasting) {
    REQUIRE_CUDA_DEVICE();
    const std::vector<std::pair<Shape, Shape>> shapes = {
        {{1}, {1}},         {{4099}, {4099}},     {{257}, {1}},           {{1}, {33}},
        {{7, 33}, {33}},    {{7, 1}, {1, 31}},    {{2, 3, 5, 7}, {1, 3, 1, 1}}, {{5, 1, 7}, {5, 31, 1}},
    };
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const auto& [sa, sb] : shapes) {
            const Tensor a = positive(sa, 7, dt), b = random_tensor(sb, 8, dt, 0.5, 2.0);
            for (BinaryOp op : kBinaryOps) {
                EXPECT_TRUE(matches_cpu(gpu().binary(op, to_cuda(a), to_cuda(b)), cpu_backend().binary(op, a, b),
                                        1e-7, rtol_of(dt)))
                    << binary_op_name(op) << " " << shape_str(sa) << " with " << shape_str(sb) << " "
                    << dtype_name(dt);
            }
        }
    }
}

TEST(CudaBinaryTest, NonContiguousOperandsAndNaN) {
    REQUIRE_CUDA_DEVICE();
    const Tensor a = random_tensor({31, 20}, 1), b = random_tensor({20, 31}, 2);
    const Tensor da = to_cuda(a), db = to_cuda(b);
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul, BinaryOp::Maximum}) {
        EXPECT_TRUE(matches_cpu(gpu().binary(op, da, db.t()), cpu_backend().binary(op, a, b.t()), 0, 1e-15));
        EXPECT_TRUE(matches_cpu(gpu().binary(op, da.narrow(1, 1, 7), db.t().narrow(1, 5, 7)),
                                cpu_backend().binary(op, a.narrow(1, 1, 7), b.t().narrow(1, 5, 7)), 0, 1e-15));
    }
    const Tensor x = from_vector<float>({1, NAN, 3, -INFINITY}, {4}), y = from_vector<float>({NAN, 2, 3, 1}, {4});
    for (BinaryOp op : {BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Add}) {
        EXPECT_TRUE(equals_cpu(gpu().binary(op, to_cuda(x), to_cuda(y)), cpu_backend().binary(op, x, y)))
            << binary_op_name(op);
    }
}

TEST(CudaBinaryTest, IntegerSemantics) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Int64, DType::Int32, DType::UInt8}) {
        const double lo = dt == DType::UInt8 ? 0.0 : -20.0;
        const Tensor a = random_tensor({1025}, 11, DType::Float64, lo, 20.0).to(dt);
        // Zeros included: integer division by zero gives 0 on both backends.
        const Tensor b = random_tensor({1025}, 12, DType::Float64, lo / 4, 5.0).to(dt);
        for (BinaryOp op : kBinaryOps) {
            if (op == BinaryOp::Pow && dt != DType::UInt8) continue;  // negative exponents: checked below
            EXPECT_TRUE(matches_cpu(gpu().binary(op, to_cuda(a), to_cuda(b)), cpu_backend().binary(op, a, b), 0, 0))
                << binary_op_name(op) << " " << dtype_name(dt);
        }
    }
    // Exact integer powers (the device's double pow is not), and negative exponents truncating toward zero.
    const Tensor base = from_vector<int64_t>({2, -3, 5, 7, 0, 1, 3, 2, -1, -1, 1}, {11});
    const Tensor exps = from_vector<int64_t>({10, 3, 0, 2, 4, 60, 1, -1, -3, -2, -5}, {11});
    for (DType dt : {DType::Int64, DType::Int32}) {
        EXPECT_TRUE(matches_cpu(gpu().binary(BinaryOp::Pow, to_cuda(base.to(dt)), to_cuda(exps.to(dt))),
                                cpu_backend().binary(BinaryOp::Pow, base.to(dt), exps.to(dt)), 0, 0));
    }
    const Tensor p = from_vector<bool>({true, false, true, false}, {4}), q = from_vector<bool>({true, true, false, false}, {4});
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul, BinaryOp::Maximum, BinaryOp::Minimum}) {
        EXPECT_TRUE(matches_cpu(gpu().binary(op, to_cuda(p), to_cuda(q)), cpu_backend().binary(op, p, q), 0, 0));
    }
}

TEST(CudaBinaryTest, ScalarAndInPlace) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64}) {
        const Tensor a = positive({7, 33}, 13, DType::Float64).to(dt);
        for (BinaryOp op : kBinaryOps) {
            for (bool first : {false, true}) {
                EXPECT_TRUE(matches_cpu(gpu().binary_scalar(op, to_cuda(a), 1.5, first),
                                        cpu_backend().binary_scalar(op, a, 1.5, first), 1e-7, rtol_of(dt)))
                    << binary_op_name(op) << (first ? " scalar first " : " ") << dtype_name(dt);
            }
        }
        // In place on a strided view, with b broadcast along rows.
        const Tensor b = positive({33}, 14, DType::Float64).to(dt);
        for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul, BinaryOp::Div}) {
            Tensor host = a.clone(), dev = to_cuda(a);
            Tensor host_view = host.narrow(0, 1, 5), dev_view = dev.narrow(0, 1, 5);
            cpu_backend().binary_(op, host_view, b);
            gpu().binary_(op, dev_view, to_cuda(b));
            EXPECT_TRUE(matches_cpu(dev, host, 1e-7, rtol_of(dt))) << binary_op_name(op);
            Tensor host_t = a.clone().t(), dev_t = to_cuda(a).t();  // (33, 7) view with b broadcast along columns
            const Tensor col = positive({33, 1}, 15, DType::Float64).to(dt);
            cpu_backend().binary_(op, host_t, col);
            gpu().binary_(op, dev_t, to_cuda(col));
            EXPECT_TRUE(matches_cpu(dev_t.contiguous(), host_t.contiguous(), 1e-7, rtol_of(dt)));
        }
    }
}

TEST(CudaCompareTest, TensorAndScalarComparisons) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::UInt8}) {
        // Few distinct values so that ties occur.
        const Tensor a = random_tensor({31, 33}, 16, DType::Float64, 0.0, 4.0).to(DType::Int64).to(dt);
        const Tensor b = random_tensor({33}, 17, DType::Float64, 0.0, 4.0).to(DType::Int64).to(dt);
        for (CompareOp op : kCompareOps) {
            EXPECT_TRUE(matches_cpu(gpu().compare(op, to_cuda(a), to_cuda(b)), cpu_backend().compare(op, a, b), 0, 0))
                << compare_op_name(op) << " " << dtype_name(dt);
            EXPECT_TRUE(matches_cpu(gpu().compare(op, to_cuda(a).t(), to_cuda(a).t()),
                                    cpu_backend().compare(op, a.t(), a.t()), 0, 0));
            for (double s : {2.0, 1.5, -1.0}) {
                EXPECT_TRUE(matches_cpu(gpu().compare_scalar(op, to_cuda(a), s), cpu_backend().compare_scalar(op, a, s),
                                        0, 0))
                    << compare_op_name(op) << " " << s << " " << dtype_name(dt);
            }
        }
    }
    const Tensor n = from_vector<double>({NAN, 1.0, NAN}, {3}), m = from_vector<double>({NAN, 1.0, 2.0}, {3});
    for (CompareOp op : kCompareOps)
        EXPECT_TRUE(matches_cpu(gpu().compare(op, to_cuda(n), to_cuda(m)), cpu_backend().compare(op, n, m), 0, 0));
}

TEST(CudaWhereTest, BroadcastsAllThreeOperands) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64}) {
        const Tensor cond = cpu_backend().compare_scalar(CompareOp::Gt, random_tensor({5, 1, 33}, 18), 0.0);
        const Tensor a = random_tensor({7, 33}, 19).to(dt), b = random_tensor({5, 7, 1}, 20).to(dt);
        EXPECT_TRUE(matches_cpu(gpu().where(to_cuda(cond), to_cuda(a), to_cuda(b)), cpu_backend().where(cond, a, b),
                                0, 0));
        EXPECT_TRUE(matches_cpu(gpu().where(to_cuda(cond).narrow(2, 1, 7), to_cuda(a).narrow(1, 2, 7), to_cuda(b)),
                                cpu_backend().where(cond.narrow(2, 1, 7), a.narrow(1, 2, 7), b), 0, 0));
    }
}

TEST(CudaClampTest, ForwardAndBackwardAtTheBounds) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor x = random_tensor({1000}, 21, dt, -2.0, 2.0);
        x.narrow(0, 0, 1).fill_(-0.5);  // exactly at the bounds: the gradient passes there
        x.narrow(0, 1, 1).fill_(0.75);
        x.narrow(0, 2, 1).fill_(NAN);
        const Tensor g = random_tensor({1000}, 22, dt);
        const double inf = INFINITY;
        for (auto [lo, hi] : {std::pair{-0.5, 0.75}, std::pair{-inf, 0.0}, std::pair{0.0, inf}}) {
            EXPECT_TRUE(matches_cpu(gpu().clamp(to_cuda(x), lo, hi), cpu_backend().clamp(x, lo, hi), 0, 0));
            EXPECT_TRUE(matches_cpu(gpu().clamp_backward(to_cuda(x), lo, hi, to_cuda(g)),
                                    cpu_backend().clamp_backward(x, lo, hi, g), 0, 0));
        }
    }
    const Tensor ints = arange(-10, 10);
    EXPECT_TRUE(matches_cpu(gpu().clamp(to_cuda(ints), -3.5, 4.0), cpu_backend().clamp(ints, -3.5, 4.0), 0, 0));
}

TEST(CudaElementwiseGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return exp(in[0].to(dev)).to(Device::cpu()); },
                                 {random_leaf({3, 5}, 1)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return mul(in[0].to(dev), in[1].to(dev)).to(Device::cpu()); },
        {random_leaf({4, 1, 3}, 2), random_leaf({5, 1}, 3)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            const Tensor a = in[0].to(dev), b = in[1].to(dev);
            return div(tanh(a), add(sigmoid(b).t(), 2.0)).to(Device::cpu());
        },
        {random_leaf({3, 4}, 4), random_leaf({4, 3}, 5)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return clamp(in[0].to(dev), -0.5, 0.5).to(Device::cpu()); },
        {random_leaf({13}, 6, -0.45, 0.45)}));
}
