// Elementwise CPU kernels: unary ops and their gradients, binary ops with broadcasting, comparisons, where and
// clamp.
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/loops.h"
#include "kernels/scalar_math.h"

namespace engine::cpu {
namespace {

// Turning the op switch inside the loop into a per-op instantiation lets each inner loop vectorise.
// The functions take OpMath<T> (T's elements convert on the way in) and round to T once.
template <class T, class Body>
void with_binary_op(BinaryOp op, const Body& body) {
    using M = OpMath<T>;
    switch (op) {
        case BinaryOp::Add: return body([](M a, M b) { return static_cast<T>(a + b); });
        case BinaryOp::Sub: return body([](M a, M b) { return static_cast<T>(a - b); });
        case BinaryOp::Mul: return body([](M a, M b) { return static_cast<T>(a * b); });
        default:
            return body([op](M a, M b) {
                return static_cast<T>(scalar::binary_value<scalar::IntegerPow::ThroughDouble, M>(op, a, b));
            });
    }
}

Shape broadcast_of(const Tensor& a, const Tensor& b) { return broadcast_shapes(a.shape(), b.shape(), "binary"); }

}  // namespace

Tensor CpuBackend::unary(UnaryOp op, const Tensor& x) {
    Tensor out = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), unary_op_name(op), [&] {
        using M = OpMath<scalar_t>;
        switch (op) {
            case UnaryOp::Relu:  // v <= 0 rather than v > 0: NaN propagates, as in PyTorch
                map_unary<scalar_t, scalar_t>(out, x, [](scalar_t v) { return v <= scalar_t(0) ? scalar_t(0) : v; });
                break;
            case UnaryOp::Neg:
                map_unary<scalar_t, scalar_t>(out, x, [](scalar_t v) { return static_cast<scalar_t>(-v); });
                break;
            default:
                map_unary<scalar_t, scalar_t>(
                    out, x, [op](scalar_t v) { return static_cast<scalar_t>(scalar::unary_value<M>(op, M(v))); });
        }
    });
    return out;
}

Tensor CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y) {
    Tensor out = empty(grad_y.shape(), grad_y.dtype());
    ENGINE_DISPATCH_FLOATING_AND_HALF(grad_y.dtype(), unary_op_name(op), [&] {
        using M = OpMath<scalar_t>;
        if (op == UnaryOp::Relu) {  // the hot one in every CNN: a select the compiler vectorises
            map_binary<scalar_t, scalar_t, scalar_t>(
                out, x, grad_y, [](scalar_t v, scalar_t g) { return v <= scalar_t(0) ? scalar_t(0) : g; });
            return;
        }
        map_ternary<scalar_t, scalar_t, scalar_t, scalar_t>(
            out, x, y, grad_y,
            [op](M a, M b, M g) { return static_cast<scalar_t>(scalar::unary_grad<M>(op, a, b, g)); });
    });
    return out;
}

Tensor CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    Tensor out = empty(broadcast_of(a, b), a.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), binary_op_name(op), [&] {
        with_binary_op<scalar_t>(op, [&](auto f) { map_binary<scalar_t, scalar_t, scalar_t>(out, a, b, f); });
    });
    return out;
}

Tensor CpuBackend::binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first) {
    Tensor out = empty(a.shape(), a.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), binary_op_name(op), [&] {
        const OpMath<scalar_t> sv = static_cast<OpMath<scalar_t>>(s);  // as PyTorch: not rounded to a half first
        with_binary_op<scalar_t>(op, [&](auto f) {
            if (scalar_first) {
                map_unary<scalar_t, scalar_t>(out, a, [&](scalar_t v) { return f(sv, v); });
            } else {
                map_unary<scalar_t, scalar_t>(out, a, [&](scalar_t v) { return f(v, sv); });
            }
        });
    });
    return out;
}

void CpuBackend::binary_(BinaryOp op, Tensor& a, const Tensor& b) {
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), binary_op_name(op), [&] {
        with_binary_op<scalar_t>(op, [&](auto f) { map_binary<scalar_t, scalar_t, scalar_t>(a, a, b, f); });
    });
}

Tensor CpuBackend::compare(CompareOp op, const Tensor& a, const Tensor& b) {
    Tensor out = empty(broadcast_of(a, b), DType::Bool);
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), compare_op_name(op), [&] {
        using M = OpMath<scalar_t>;
        map_binary<bool, scalar_t, scalar_t>(out, a, b, [op](M x, M y) { return scalar::compare_value<M>(op, x, y); });
    });
    return out;
}

Tensor CpuBackend::compare_scalar(CompareOp op, const Tensor& a, double s) {
    Tensor out = empty(a.shape(), DType::Bool);
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), compare_op_name(op), [&] {
        // Compare in double so that e.g. an int tensor against 0.5 behaves as in PyTorch.
        map_unary<bool, scalar_t>(
            out, a, [op, s](scalar_t x) { return scalar::compare_value<double>(op, static_cast<double>(x), s); });
    });
    return out;
}

Tensor CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    const Shape shape = broadcast_shapes(cond.shape(), broadcast_of(a, b), "where");
    Tensor out = empty(shape, a.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), "where", [&] {
        map_ternary<scalar_t, bool, scalar_t, scalar_t>(out, cond, a, b,
                                                        [](bool c, scalar_t x, scalar_t y) { return c ? x : y; });
    });
    return out;
}

Tensor CpuBackend::clamp(const Tensor& x, double lo, double hi) {
    Tensor out = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "clamp", [&] {
        map_unary<scalar_t, scalar_t>(out, x, [lo, hi](scalar_t v) {
            const double d = static_cast<double>(v);
            if (d != d) return v;  // NaN passes through, as in PyTorch
            return static_cast<scalar_t>(d < lo ? lo : (d > hi ? hi : d));
        });
    });
    return out;
}

Tensor CpuBackend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y) {
    Tensor out = empty(grad_y.shape(), grad_y.dtype());
    ENGINE_DISPATCH_FLOATING_AND_HALF(grad_y.dtype(), "clamp_backward", [&] {
        map_binary<scalar_t, scalar_t, scalar_t>(out, x, grad_y, [lo, hi](scalar_t v, scalar_t g) {
            const double d = static_cast<double>(v);
            return d >= lo && d <= hi ? g : scalar_t(0);
        });
    });
    return out;
}

}  // namespace engine::cpu
