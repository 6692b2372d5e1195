// Elementwise CPU kernels: fill, copy/convert, unary ops and their gradients, binary ops with broadcasting,
// comparisons, where and clamp.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/loops.h"

namespace engine {
namespace {

template <class T>
T unary_value(UnaryOp op, T x) {
    if constexpr (std::is_floating_point_v<T>) {
        switch (op) {
            case UnaryOp::Neg: return -x;
            case UnaryOp::Exp: return std::exp(x);
            case UnaryOp::Log: return std::log(x);
            case UnaryOp::Log1p: return std::log1p(x);
            case UnaryOp::Sqrt: return std::sqrt(x);
            case UnaryOp::Rsqrt: return T(1) / std::sqrt(x);
            case UnaryOp::Abs: return std::abs(x);
            case UnaryOp::Sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
            case UnaryOp::Relu: return x > T(0) ? x : T(0);
            case UnaryOp::Sigmoid: return T(1) / (T(1) + std::exp(-x));
            case UnaryOp::Tanh: return std::tanh(x);
            case UnaryOp::Floor: return std::floor(x);
            case UnaryOp::Ceil: return std::ceil(x);
            case UnaryOp::Round: return std::nearbyint(x);
            case UnaryOp::Sin: return std::sin(x);
            case UnaryOp::Cos: return std::cos(x);
            case UnaryOp::Square: return x * x;
            case UnaryOp::Reciprocal: return T(1) / x;
        }
    } else {
        switch (op) {
            case UnaryOp::Neg: return static_cast<T>(-x);
            case UnaryOp::Abs: return x < T(0) ? static_cast<T>(-x) : x;
            case UnaryOp::Sign: return x > T(0) ? T(1) : (x < T(0) ? static_cast<T>(-1) : T(0));
            case UnaryOp::Relu: return x > T(0) ? x : T(0);
            case UnaryOp::Square: return static_cast<T>(x * x);
            case UnaryOp::Floor:
            case UnaryOp::Ceil:
            case UnaryOp::Round: return x;
            default: break;
        }
    }
    return x;  // unreachable: the op layer only sends supported (op, dtype) pairs
}

// d op(x) / dx * g, given x and y = op(x).
template <class T>
T unary_grad(UnaryOp op, T x, T y, T g) {
    switch (op) {
        case UnaryOp::Neg: return -g;
        case UnaryOp::Exp: return g * y;
        case UnaryOp::Log: return g / x;
        case UnaryOp::Log1p: return g / (T(1) + x);
        case UnaryOp::Sqrt: return g / (T(2) * y);
        case UnaryOp::Rsqrt: return T(-0.5) * g * y * y * y;
        case UnaryOp::Abs: return x > T(0) ? g : (x < T(0) ? -g : T(0));
        case UnaryOp::Relu: return x > T(0) ? g : T(0);
        case UnaryOp::Sigmoid: return g * y * (T(1) - y);
        case UnaryOp::Tanh: return g * (T(1) - y * y);
        case UnaryOp::Sin: return g * std::cos(x);
        case UnaryOp::Cos: return -g * std::sin(x);
        case UnaryOp::Square: return T(2) * x * g;
        case UnaryOp::Reciprocal: return -g * y * y;
        case UnaryOp::Sign:
        case UnaryOp::Floor:
        case UnaryOp::Ceil:
        case UnaryOp::Round: return T(0);
    }
    return T(0);
}

template <class T>
T binary_value(BinaryOp op, T a, T b) {
    switch (op) {
        case BinaryOp::Add: return static_cast<T>(a + b);
        case BinaryOp::Sub: return static_cast<T>(a - b);
        case BinaryOp::Mul: return static_cast<T>(a * b);
        case BinaryOp::Div:
            if constexpr (std::is_integral_v<T>) {
                return b == 0 ? T(0) : static_cast<T>(a / b);  // the op layer promotes true division to float
            } else {
                return a / b;
            }
        case BinaryOp::Pow: return static_cast<T>(std::pow(a, b));
        case BinaryOp::Maximum:
            if constexpr (std::is_floating_point_v<T>) {
                if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
            }
            return a > b ? a : b;
        case BinaryOp::Minimum:
            if constexpr (std::is_floating_point_v<T>) {
                if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
            }
            return a < b ? a : b;
    }
    return a;
}

template <class T>
bool compare_value(CompareOp op, T a, T b) {
    switch (op) {
        case CompareOp::Eq: return a == b;
        case CompareOp::Ne: return a != b;
        case CompareOp::Lt: return a < b;
        case CompareOp::Le: return a <= b;
        case CompareOp::Gt: return a > b;
        case CompareOp::Ge: return a >= b;
    }
    return false;
}

// Turning the op switch inside the loop into a per-op instantiation lets each inner loop vectorise.
template <class T, class Body>
void with_binary_op(BinaryOp op, const Body& body) {
    switch (op) {
        case BinaryOp::Add: return body([](T a, T b) { return static_cast<T>(a + b); });
        case BinaryOp::Sub: return body([](T a, T b) { return static_cast<T>(a - b); });
        case BinaryOp::Mul: return body([](T a, T b) { return static_cast<T>(a * b); });
        default: return body([op](T a, T b) { return binary_value<T>(op, a, b); });
    }
}

Shape broadcast_of(const Tensor& a, const Tensor& b) { return broadcast_shapes(a.shape(), b.shape(), "binary"); }

}  // namespace

void CpuBackend::fill_(Tensor& out, double value) {
    ENGINE_DISPATCH_ALL(out.dtype(), "fill_", [&] {
        const scalar_t v = static_cast<scalar_t>(value);
        auto ops = cpu::loop_operands<1>(out.shape(), {&out});
        cpu::for_each_row<1>(out.shape(), ops, [&](std::array<char*, 1> p, std::array<int64_t, 1> s, int64_t n) {
            scalar_t* o = reinterpret_cast<scalar_t*>(p[0]);
            const int64_t step = s[0] / static_cast<int64_t>(sizeof(scalar_t));
            if (step == 1) {
                for (int64_t i = 0; i < n; ++i) o[i] = v;
            } else {
                for (int64_t i = 0; i < n; ++i) o[i * step] = v;
            }
        });
    });
}

void CpuBackend::copy_(Tensor& dst, const Tensor& src) {
    ENGINE_DISPATCH_ALL(dst.dtype(), "copy_", [&] {
        using dst_t = scalar_t;
        ENGINE_DISPATCH_ALL(src.dtype(), "copy_", [&] {
            cpu::map_unary<dst_t, scalar_t>(dst, src, [](scalar_t v) { return static_cast<dst_t>(v); });
        });
    });
}

Tensor CpuBackend::unary(UnaryOp op, const Tensor& x) {
    Tensor out = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_ALL(x.dtype(), unary_op_name(op), [&] {
        switch (op) {
            case UnaryOp::Relu:
                cpu::map_unary<scalar_t, scalar_t>(out, x, [](scalar_t v) { return v > scalar_t(0) ? v : scalar_t(0); });
                break;
            case UnaryOp::Neg:
                cpu::map_unary<scalar_t, scalar_t>(out, x, [](scalar_t v) { return static_cast<scalar_t>(-v); });
                break;
            default:
                cpu::map_unary<scalar_t, scalar_t>(out, x, [op](scalar_t v) { return unary_value<scalar_t>(op, v); });
        }
    });
    return out;
}

Tensor CpuBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y) {
    Tensor out = empty(grad_y.shape(), grad_y.dtype());
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), unary_op_name(op), [&] {
        if (op == UnaryOp::Relu) {  // the hot one in every CNN: a select the compiler vectorises
            cpu::map_binary<scalar_t, scalar_t, scalar_t>(
                out, x, grad_y, [](scalar_t v, scalar_t g) { return v > scalar_t(0) ? g : scalar_t(0); });
            return;
        }
        cpu::map_ternary<scalar_t, scalar_t, scalar_t, scalar_t>(
            out, x, y, grad_y, [op](scalar_t a, scalar_t b, scalar_t g) { return unary_grad<scalar_t>(op, a, b, g); });
    });
    return out;
}

Tensor CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    Tensor out = empty(broadcast_of(a, b), a.dtype());
    ENGINE_DISPATCH_ALL(a.dtype(), binary_op_name(op), [&] {
        with_binary_op<scalar_t>(op, [&](auto f) { cpu::map_binary<scalar_t, scalar_t, scalar_t>(out, a, b, f); });
    });
    return out;
}

Tensor CpuBackend::binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first) {
    Tensor out = empty(a.shape(), a.dtype());
    ENGINE_DISPATCH_ALL(a.dtype(), binary_op_name(op), [&] {
        const scalar_t sv = static_cast<scalar_t>(s);
        with_binary_op<scalar_t>(op, [&](auto f) {
            if (scalar_first) {
                cpu::map_unary<scalar_t, scalar_t>(out, a, [&](scalar_t v) { return f(sv, v); });
            } else {
                cpu::map_unary<scalar_t, scalar_t>(out, a, [&](scalar_t v) { return f(v, sv); });
            }
        });
    });
    return out;
}

void CpuBackend::binary_(BinaryOp op, Tensor& a, const Tensor& b) {
    ENGINE_DISPATCH_ALL(a.dtype(), binary_op_name(op), [&] {
        with_binary_op<scalar_t>(op, [&](auto f) { cpu::map_binary<scalar_t, scalar_t, scalar_t>(a, a, b, f); });
    });
}

Tensor CpuBackend::compare(CompareOp op, const Tensor& a, const Tensor& b) {
    Tensor out = empty(broadcast_of(a, b), DType::Bool);
    ENGINE_DISPATCH_ALL(a.dtype(), compare_op_name(op), [&] {
        cpu::map_binary<bool, scalar_t, scalar_t>(out, a, b,
                                                  [op](scalar_t x, scalar_t y) { return compare_value(op, x, y); });
    });
    return out;
}

Tensor CpuBackend::compare_scalar(CompareOp op, const Tensor& a, double s) {
    Tensor out = empty(a.shape(), DType::Bool);
    ENGINE_DISPATCH_ALL(a.dtype(), compare_op_name(op), [&] {
        // Compare in double so that e.g. an int tensor against 0.5 behaves as in PyTorch.
        cpu::map_unary<bool, scalar_t>(out, a, [op, s](scalar_t x) {
            return compare_value<double>(op, static_cast<double>(x), s);
        });
    });
    return out;
}

Tensor CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    const Shape shape = broadcast_shapes(cond.shape(), broadcast_of(a, b), "where");
    Tensor out = empty(shape, a.dtype());
    ENGINE_DISPATCH_ALL(a.dtype(), "where", [&] {
        cpu::map_ternary<scalar_t, bool, scalar_t, scalar_t>(out, cond, a, b,
                                                             [](bool c, scalar_t x, scalar_t y) { return c ? x : y; });
    });
    return out;
}

Tensor CpuBackend::clamp(const Tensor& x, double lo, double hi) {
    Tensor out = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_ALL(x.dtype(), "clamp", [&] {
        cpu::map_unary<scalar_t, scalar_t>(out, x, [lo, hi](scalar_t v) {
            const double d = static_cast<double>(v);
            if (d != d) return v;  // NaN passes through, as in PyTorch
            return static_cast<scalar_t>(d < lo ? lo : (d > hi ? hi : d));
        });
    });
    return out;
}

Tensor CpuBackend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y) {
    Tensor out = empty(grad_y.shape(), grad_y.dtype());
    ENGINE_DISPATCH_FLOATING(grad_y.dtype(), "clamp_backward", [&] {
        cpu::map_binary<scalar_t, scalar_t, scalar_t>(out, x, grad_y, [lo, hi](scalar_t v, scalar_t g) {
            const double d = static_cast<double>(v);
            return d >= lo && d <= hi ? g : scalar_t(0);
        });
    });
    return out;
}

}  // namespace engine
