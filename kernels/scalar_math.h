// The scalar formulas of the elementwise ops (unary ops and their gradients, binary ops, comparisons), written
// once for every backend: the CPU loops call them on the host and the CUDA kernels on the device, so both give
// the same results, integer rules and NaN handling. The one deliberate difference, integer pow, is a template
// parameter.
#pragma once

#include <math.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "runtime/host_device.h"
#include "kernels/params.h"

namespace engine::scalar {

// float and double overloads of the C math functions, which nvcc provides on the device and which are what
// std::exp and friends call on the host. Only floating types reach them (an integer argument is ambiguous).
ENGINE_HOST_DEVICE inline float exp(float x) { return ::expf(x); }
ENGINE_HOST_DEVICE inline double exp(double x) { return ::exp(x); }
ENGINE_HOST_DEVICE inline float log(float x) { return ::logf(x); }
ENGINE_HOST_DEVICE inline double log(double x) { return ::log(x); }
ENGINE_HOST_DEVICE inline float log1p(float x) { return ::log1pf(x); }
ENGINE_HOST_DEVICE inline double log1p(double x) { return ::log1p(x); }
ENGINE_HOST_DEVICE inline float sqrt(float x) { return ::sqrtf(x); }
ENGINE_HOST_DEVICE inline double sqrt(double x) { return ::sqrt(x); }
ENGINE_HOST_DEVICE inline float abs(float x) { return ::fabsf(x); }
ENGINE_HOST_DEVICE inline double abs(double x) { return ::fabs(x); }
ENGINE_HOST_DEVICE inline float tanh(float x) { return ::tanhf(x); }
ENGINE_HOST_DEVICE inline double tanh(double x) { return ::tanh(x); }
ENGINE_HOST_DEVICE inline float floor(float x) { return ::floorf(x); }
ENGINE_HOST_DEVICE inline double floor(double x) { return ::floor(x); }
ENGINE_HOST_DEVICE inline float ceil(float x) { return ::ceilf(x); }
ENGINE_HOST_DEVICE inline double ceil(double x) { return ::ceil(x); }
// Half to even in the default rounding mode (the same values as nearbyint, which only differs in FE_INEXACT).
ENGINE_HOST_DEVICE inline float rint(float x) { return ::rintf(x); }
ENGINE_HOST_DEVICE inline double rint(double x) { return ::rint(x); }
ENGINE_HOST_DEVICE inline float sin(float x) { return ::sinf(x); }
ENGINE_HOST_DEVICE inline double sin(double x) { return ::sin(x); }
ENGINE_HOST_DEVICE inline float cos(float x) { return ::cosf(x); }
ENGINE_HOST_DEVICE inline double cos(double x) { return ::cos(x); }
ENGINE_HOST_DEVICE inline float pow(float a, float b) { return ::powf(a, b); }
ENGINE_HOST_DEVICE inline double pow(double a, double b) { return ::pow(a, b); }

// x < 0 without a "pointless comparison" warning for unsigned types and bool.
template <class T>
ENGINE_HOST_DEVICE inline bool is_negative(T x) {
    if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, bool>) {
        return false;
    } else {
        return x < T(0);
    }
}

template <class T>
ENGINE_HOST_DEVICE inline T unary_value(UnaryOp op, T x) {
    if constexpr (std::is_floating_point_v<T>) {
        switch (op) {
            case UnaryOp::Neg: return -x;
            case UnaryOp::Exp: return exp(x);
            case UnaryOp::Log: return log(x);
            case UnaryOp::Log1p: return log1p(x);
            case UnaryOp::Sqrt: return sqrt(x);
            case UnaryOp::Rsqrt: return T(1) / sqrt(x);
            case UnaryOp::Abs: return abs(x);
            case UnaryOp::Sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
            case UnaryOp::Relu: return x <= T(0) ? T(0) : x;  // NaN propagates, as in PyTorch
            case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-x));
            case UnaryOp::Tanh: return tanh(x);
            case UnaryOp::Floor: return floor(x);
            case UnaryOp::Ceil: return ceil(x);
            case UnaryOp::Round: return rint(x);
            case UnaryOp::Sin: return sin(x);
            case UnaryOp::Cos: return cos(x);
            case UnaryOp::Square: return x * x;
            case UnaryOp::Reciprocal: return T(1) / x;
        }
    } else {
        switch (op) {
            case UnaryOp::Neg: return static_cast<T>(-x);
            case UnaryOp::Abs: return is_negative(x) ? static_cast<T>(-x) : x;
            case UnaryOp::Sign: return x > T(0) ? T(1) : (is_negative(x) ? static_cast<T>(-1) : T(0));
            case UnaryOp::Relu: return x <= T(0) ? T(0) : x;
            case UnaryOp::Square: return static_cast<T>(x * x);
            default: break;  // Floor, Ceil, Round are the identity; the op layer sends no other integer op
        }
    }
    return x;
}

// d op(x) / dx * g, given x and y = op(x).
template <class T>
ENGINE_HOST_DEVICE inline T unary_grad(UnaryOp op, T x, T y, T g) {
    switch (op) {
        case UnaryOp::Neg: return -g;
        case UnaryOp::Exp: return g * y;
        case UnaryOp::Log: return g / x;
        case UnaryOp::Log1p: return g / (T(1) + x);
        case UnaryOp::Sqrt: return g / (T(2) * y);
        case UnaryOp::Rsqrt: return T(-0.5) * g * y * y * y;
        case UnaryOp::Abs: return x > T(0) ? g : (x < T(0) ? -g : T(0));
        case UnaryOp::Relu: return x <= T(0) ? T(0) : g;  // PyTorch's threshold_backward: NaN lets g through
        case UnaryOp::Sigmoid: return g * y * (T(1) - y);
        case UnaryOp::Tanh: return g * (T(1) - y * y);
        case UnaryOp::Sin: return g * cos(x);
        case UnaryOp::Cos: return -g * sin(x);
        case UnaryOp::Square: return T(2) * x * g;
        case UnaryOp::Reciprocal: return -g * y * y;
        case UnaryOp::Sign:
        case UnaryOp::Floor:
        case UnaryOp::Ceil:
        case UnaryOp::Round: return T(0);
    }
    return T(0);
}

// How a binary pow evaluates on integer types; floating pow is the math library's on both backends.
//   ThroughDouble: the CPU's cast of double pow, exact where |result| < 2^53 (beyond, the cast is undefined).
//   BySquaring: CUDA's, because the device's double pow is not exact on integers (3^1 can come out as
//     2.9999999999999996, which the cast turns into 2). It agrees with ThroughDouble wherever that is exact and
//     wraps beyond, as PyTorch's integer pow; a negative exponent truncates 1/a^|b| toward zero as the cast does
//     (0 to a negative power, undefined there, gives 0).
enum class IntegerPow { ThroughDouble, BySquaring };

template <class T>
ENGINE_HOST_DEVICE inline T integer_pow_by_squaring(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) {
        return b ? a : true;
    } else {
        if (is_negative(b)) {
            if (a == T(1)) return T(1);
            if (is_negative(a) && a == static_cast<T>(-1)) return (b % 2 != 0) ? a : T(1);
            return T(0);
        }
        uint64_t base = static_cast<uint64_t>(static_cast<int64_t>(a)), result = 1;
        for (uint64_t e = static_cast<uint64_t>(b); e != 0; e >>= 1) {
            if (e & 1) result *= base;
            base *= base;
        }
        return static_cast<T>(result);
    }
}

template <IntegerPow Rule, class T>
ENGINE_HOST_DEVICE inline T binary_value(BinaryOp op, T a, T b) {
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
        case BinaryOp::Pow:
            if constexpr (std::is_floating_point_v<T>) {
                return pow(a, b);
            } else if constexpr (Rule == IntegerPow::BySquaring) {
                return integer_pow_by_squaring(a, b);
            } else {
                return static_cast<T>(pow(static_cast<double>(a), static_cast<double>(b)));
            }
        case BinaryOp::Maximum:
            if constexpr (std::is_floating_point_v<T>) {
                if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
            }
            return a > b ? a : b;
        case BinaryOp::Minimum:
            if constexpr (std::is_floating_point_v<T>) {
                if (a != a || b != b) return std::numeric_limits<T>::quiet_NaN();
            }
            return a < b ? a : b;
    }
    return a;
}

template <class T>
ENGINE_HOST_DEVICE inline bool compare_value(CompareOp op, T a, T b) {
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

}  // namespace engine::scalar
