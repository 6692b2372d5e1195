// Scalar math of the CUDA elementwise kernels, written to give the CPU backend's results
// (kernels/cpu/elementwise.cpp): the same formulas, integer rules and NaN handling, on device math functions.
#pragma once

#include "runtime/cuda_api.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/params.h"

namespace engine::cuda_kernels {

// float and double overloads of the device math functions (C names, available under nvcc and the emulator).
__device__ inline float dev_exp(float x) { return expf(x); }
__device__ inline double dev_exp(double x) { return exp(x); }
__device__ inline float dev_log(float x) { return logf(x); }
__device__ inline double dev_log(double x) { return log(x); }
__device__ inline float dev_log1p(float x) { return log1pf(x); }
__device__ inline double dev_log1p(double x) { return log1p(x); }
__device__ inline float dev_sqrt(float x) { return sqrtf(x); }
__device__ inline double dev_sqrt(double x) { return sqrt(x); }
__device__ inline float dev_abs(float x) { return fabsf(x); }
__device__ inline double dev_abs(double x) { return fabs(x); }
__device__ inline float dev_tanh(float x) { return tanhf(x); }
__device__ inline double dev_tanh(double x) { return tanh(x); }
__device__ inline float dev_floor(float x) { return floorf(x); }
__device__ inline double dev_floor(double x) { return floor(x); }
__device__ inline float dev_ceil(float x) { return ceilf(x); }
__device__ inline double dev_ceil(double x) { return ceil(x); }
__device__ inline float dev_rint(float x) { return rintf(x); }  // half to even, as nearbyint
__device__ inline double dev_rint(double x) { return rint(x); }
__device__ inline float dev_sin(float x) { return sinf(x); }
__device__ inline double dev_sin(double x) { return sin(x); }
__device__ inline float dev_cos(float x) { return cosf(x); }
__device__ inline double dev_cos(double x) { return cos(x); }
__device__ inline float dev_pow(float a, float b) { return powf(a, b); }
__device__ inline double dev_pow(double a, double b) { return pow(a, b); }

template <class T>
__device__ inline T quiet_nan() {
    return std::numeric_limits<T>::quiet_NaN();
}

// x < 0 without a "pointless comparison" warning for unsigned types and bool.
template <class T>
__device__ inline bool is_negative(T x) {
    if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, bool>) {
        return false;
    } else {
        return x < T(0);
    }
}

template <class T>
__device__ inline T unary_value(UnaryOp op, T x) {
    if constexpr (std::is_floating_point_v<T>) {
        switch (op) {
            case UnaryOp::Neg: return -x;
            case UnaryOp::Exp: return dev_exp(x);
            case UnaryOp::Log: return dev_log(x);
            case UnaryOp::Log1p: return dev_log1p(x);
            case UnaryOp::Sqrt: return dev_sqrt(x);
            case UnaryOp::Rsqrt: return T(1) / dev_sqrt(x);
            case UnaryOp::Abs: return dev_abs(x);
            case UnaryOp::Sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
            case UnaryOp::Relu: return x > T(0) ? x : T(0);
            case UnaryOp::Sigmoid: return T(1) / (T(1) + dev_exp(-x));
            case UnaryOp::Tanh: return dev_tanh(x);
            case UnaryOp::Floor: return dev_floor(x);
            case UnaryOp::Ceil: return dev_ceil(x);
            case UnaryOp::Round: return dev_rint(x);
            case UnaryOp::Sin: return dev_sin(x);
            case UnaryOp::Cos: return dev_cos(x);
            case UnaryOp::Square: return x * x;
            case UnaryOp::Reciprocal: return T(1) / x;
        }
    } else {
        switch (op) {
            case UnaryOp::Neg: return static_cast<T>(-x);
            case UnaryOp::Abs: return is_negative(x) ? static_cast<T>(-x) : x;
            case UnaryOp::Sign: return x > T(0) ? T(1) : (is_negative(x) ? static_cast<T>(-1) : T(0));
            case UnaryOp::Relu: return x > T(0) ? x : T(0);
            case UnaryOp::Square: return static_cast<T>(x * x);
            default: break;  // Floor, Ceil, Round are the identity; the op layer sends no other integer op
        }
    }
    return x;
}

// d op(x) / dx * g, given x and y = op(x).
template <class T>
__device__ inline T unary_grad(UnaryOp op, T x, T y, T g) {
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
        case UnaryOp::Sin: return g * dev_cos(x);
        case UnaryOp::Cos: return -g * dev_sin(x);
        case UnaryOp::Square: return T(2) * x * g;
        case UnaryOp::Reciprocal: return -g * y * y;
        case UnaryOp::Sign:
        case UnaryOp::Floor:
        case UnaryOp::Ceil:
        case UnaryOp::Round: return T(0);
    }
    return T(0);
}

// Integer powers by repeated squaring, exact where the CPU's double std::pow is exact (|result| < 2^53) and
// wrapping beyond, as PyTorch's integer pow; a negative exponent truncates 1/a^|b| toward zero as the CPU's cast
// of std::pow does (0 to a negative power, undefined there, gives 0). The device's double pow is not exact on
// integers (3^1 can come out as 2.9999999999999996), so the CPU formula cannot be reused.
template <class T>
__device__ inline T integer_pow(T a, T b) {
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

template <class T>
__device__ inline T binary_value(BinaryOp op, T a, T b) {
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
                return dev_pow(a, b);
            } else {
                return integer_pow(a, b);
            }
        case BinaryOp::Maximum:
            if constexpr (std::is_floating_point_v<T>) {
                if (a != a || b != b) return quiet_nan<T>();
            }
            return a > b ? a : b;
        case BinaryOp::Minimum:
            if constexpr (std::is_floating_point_v<T>) {
                if (a != a || b != b) return quiet_nan<T>();
            }
            return a < b ? a : b;
    }
    return a;
}

template <class T>
__device__ inline bool compare_value(CompareOp op, T a, T b) {
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

}  // namespace engine::cuda_kernels
