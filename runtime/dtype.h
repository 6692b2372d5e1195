// Element types and the switch that turns a runtime dtype into a template parameter.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/error.h"
#include "runtime/half.h"

namespace engine {

// BFloat16 and Float16 are storage types (runtime/half.h): copies, casts and the ops that take them compute
// in float32.
enum class DType : uint8_t { Float32, Float64, Int64, Int32, UInt8, Bool, BFloat16, Float16 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
inline bool is_half(DType dtype) { return dtype == DType::BFloat16 || dtype == DType::Float16; }
inline bool is_floating(DType dtype) {
    return dtype == DType::Float32 || dtype == DType::Float64 || is_half(dtype);
}
inline bool is_integral(DType dtype) { return !is_floating(dtype); }

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<float> { static constexpr DType value = DType::Float32; };
template <>
struct DTypeOf<double> { static constexpr DType value = DType::Float64; };
template <>
struct DTypeOf<int64_t> { static constexpr DType value = DType::Int64; };
template <>
struct DTypeOf<int32_t> { static constexpr DType value = DType::Int32; };
template <>
struct DTypeOf<uint8_t> { static constexpr DType value = DType::UInt8; };
template <>
struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };
template <>
struct DTypeOf<bfloat16> { static constexpr DType value = DType::BFloat16; };
template <>
struct DTypeOf<float16> { static constexpr DType value = DType::Float16; };

template <class T>
constexpr DType dtype_of() { return DTypeOf<T>::value; }

// Promotion for binary ops between two tensors (a subset of PyTorch's table: float64 > float32 > bfloat16,
// float16 > int64 > int32 > uint8 > bool; bfloat16 with float16 gives float32).
DType promote_types(DType a, DType b);

}  // namespace engine

// ENGINE_DISPATCH_FLOATING(dtype, "op", [&] { ... scalar_t ... }): runs the lambda with scalar_t bound to
// float or double; any other dtype is an error naming the op.
#define ENGINE_DISPATCH_FLOATING(DTYPE, OPNAME, ...)                                                 \
    [&] {                                                                                            \
        switch (DTYPE) {                                                                             \
            case ::engine::DType::Float32: { using scalar_t = float; return __VA_ARGS__(); }         \
            case ::engine::DType::Float64: { using scalar_t = double; return __VA_ARGS__(); }        \
            default:                                                                                 \
                throw ::engine::Error(::engine::detail::concat(OPNAME, ": expected a float32 or "    \
                                                               "float64 tensor, got ",               \
                                                               ::engine::dtype_name(DTYPE)));        \
        }                                                                                            \
    }()

#define ENGINE_DISPATCH_ALL(DTYPE, OPNAME, ...)                                                  \
    [&] {                                                                                        \
        switch (DTYPE) {                                                                         \
            case ::engine::DType::Float32: { using scalar_t = float; return __VA_ARGS__(); }     \
            case ::engine::DType::Float64: { using scalar_t = double; return __VA_ARGS__(); }    \
            case ::engine::DType::Int64: { using scalar_t = int64_t; return __VA_ARGS__(); }     \
            case ::engine::DType::Int32: { using scalar_t = int32_t; return __VA_ARGS__(); }     \
            case ::engine::DType::UInt8: { using scalar_t = uint8_t; return __VA_ARGS__(); }     \
            case ::engine::DType::Bool: { using scalar_t = bool; return __VA_ARGS__(); }         \
            default: break;                                                                      \
        }                                                                                        \
        throw ::engine::Error(::engine::detail::concat(OPNAME, ": not implemented for ",         \
                                                       ::engine::dtype_name(DTYPE), " tensors"));\
    }()

// ENGINE_DISPATCH_FLOATING_AND_HALF: float, double, bfloat16 and float16 (which compute in OpMath<scalar_t>).
#define ENGINE_DISPATCH_FLOATING_AND_HALF(DTYPE, OPNAME, ...)                                         \
    [&] {                                                                                             \
        switch (DTYPE) {                                                                              \
            case ::engine::DType::BFloat16: { using scalar_t = ::engine::bfloat16; return __VA_ARGS__(); } \
            case ::engine::DType::Float16: { using scalar_t = ::engine::float16; return __VA_ARGS__(); }   \
            default: return ENGINE_DISPATCH_FLOATING(DTYPE, OPNAME, __VA_ARGS__);                     \
        }                                                                                             \
    }()

// ENGINE_DISPATCH_ALL_AND_HALF: ENGINE_DISPATCH_ALL plus bfloat16 and float16, for the ops that only move
// or convert elements (copies, casts, fills, shape ops).
#define ENGINE_DISPATCH_ALL_AND_HALF(DTYPE, OPNAME, ...)                                            \
    [&] {                                                                                           \
        switch (DTYPE) {                                                                            \
            case ::engine::DType::BFloat16: { using scalar_t = ::engine::bfloat16; return __VA_ARGS__(); } \
            case ::engine::DType::Float16: { using scalar_t = ::engine::float16; return __VA_ARGS__(); }   \
            default: return ENGINE_DISPATCH_ALL(DTYPE, OPNAME, __VA_ARGS__);                        \
        }                                                                                           \
    }()

// Index tensors (gather, scatter, targets) may be int64 or int32.
#define ENGINE_DISPATCH_INDEX(DTYPE, OPNAME, ...)                                                 \
    [&] {                                                                                         \
        switch (DTYPE) {                                                                          \
            case ::engine::DType::Int64: { using index_t = int64_t; return __VA_ARGS__(); }       \
            case ::engine::DType::Int32: { using index_t = int32_t; return __VA_ARGS__(); }       \
            default:                                                                              \
                throw ::engine::Error(::engine::detail::concat(OPNAME, ": expected an int64 or "  \
                                                               "int32 index tensor, got ",        \
                                                               ::engine::dtype_name(DTYPE)));     \
        }                                                                                         \
    }()
