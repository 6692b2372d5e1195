// bfloat16 and float16: the 16-bit floating-point storage types. Like PyTorch's c10::BFloat16 and c10::Half
// they convert to float for arithmetic, and from float by rounding to nearest, ties to even; Inf stays Inf,
// NaN stays NaN (quiet), a float16 past its range becomes Inf. The conversions are integer code, the same on
// the host, in the emulator and on a GPU, so every backend produces the same bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/host_device.h"

namespace engine {
namespace half_bits {

ENGINE_HOST_DEVICE inline uint32_t of_float(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}

ENGINE_HOST_DEVICE inline float to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

// Rounds `value` right by `shift` bits (1..31) to nearest, ties to even.
ENGINE_HOST_DEVICE inline uint32_t shift_right_rounded(uint32_t value, uint32_t shift) {
    const uint32_t kept = value >> shift, rest = value & ((1u << shift) - 1), half = 1u << (shift - 1);
    return kept + (rest > half || (rest == half && (kept & 1u)) ? 1u : 0u);
}

// NaN becomes PyTorch's canonical 0x7FC0 (its scalar conversion does the same).
ENGINE_HOST_DEVICE inline uint16_t bfloat16_of_float(float f) {
    const uint32_t u = of_float(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
    return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);  // carries into the exponent as needed
}

ENGINE_HOST_DEVICE inline float float_of_bfloat16(uint16_t h) { return to_float(uint32_t{h} << 16); }

// NaN keeps its sign and becomes the quiet 0x7E00 (as PyTorch's fp16_ieee_from_fp32_value).
ENGINE_HOST_DEVICE inline uint16_t float16_of_float(float f) {
    const uint32_t u = of_float(f), sign = (u >> 16) & 0x8000u, magnitude = u & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);
    if (magnitude >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520 rounds to Inf
    if (magnitude >= 0x38800000u) {  // a normal float16 (>= 2^-14): rebias the exponent, round 23 -> 10 bits
        const uint32_t rebiased = magnitude - (112u << 23);
        return static_cast<uint16_t>(sign | shift_right_rounded(rebiased, 13));  // a carry may reach 0x7C00
    }
    if (magnitude <= 0x33000000u) return static_cast<uint16_t>(sign);  // <= 2^-25: ties to the even zero
    // A subnormal float16: the value in units of 2^-24 is the 24-bit significand shifted right 126 - exponent.
    const uint32_t exponent = magnitude >> 23, significand = (magnitude & 0x7FFFFFu) | 0x800000u;
    return static_cast<uint16_t>(sign | shift_right_rounded(significand, 126u - exponent));
}

ENGINE_HOST_DEVICE inline float float_of_float16(uint16_t h) {
    const uint32_t sign = uint32_t{h & 0x8000u} << 16, exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
    if (exponent == 0x1F) return to_float(sign | 0x7F800000u | (mantissa << 13));
    if (exponent != 0) return to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
    const float subnormal = static_cast<float>(mantissa) * (1.0f / 16777216.0f);  // exact: m * 2^-24
    return sign ? -subnormal : subnormal;
}

}  // namespace half_bits

// The two types share everything but their conversions, which Format supplies.
template <class Format>
struct Float16Storage {
    uint16_t bits;

    Float16Storage() = default;
    ENGINE_HOST_DEVICE Float16Storage(float value) : bits(Format::from_float(value)) {}
    // Any other arithmetic value goes through float, as PyTorch's conversions do.
    template <class T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, float>, int> = 0>
    ENGINE_HOST_DEVICE explicit Float16Storage(T value) : bits(Format::from_float(static_cast<float>(value))) {}
    ENGINE_HOST_DEVICE operator float() const { return Format::to_float(bits); }

    ENGINE_HOST_DEVICE static Float16Storage from_bits(uint16_t raw) {
        Float16Storage h;
        h.bits = raw;
        return h;
    }
};

struct BFloat16Format {
    ENGINE_HOST_DEVICE static uint16_t from_float(float f) { return half_bits::bfloat16_of_float(f); }
    ENGINE_HOST_DEVICE static float to_float(uint16_t h) { return half_bits::float_of_bfloat16(h); }
};
struct Float16Format {
    ENGINE_HOST_DEVICE static uint16_t from_float(float f) { return half_bits::float16_of_float(f); }
    ENGINE_HOST_DEVICE static float to_float(uint16_t h) { return half_bits::float_of_float16(h); }
};

using bfloat16 = Float16Storage<BFloat16Format>;
using float16 = Float16Storage<Float16Format>;

// OpMath<T>: the type arithmetic on T's elements runs in (float for the 16-bit types, T itself otherwise), as
// PyTorch's opmath_type: an op on bfloat16 tensors converts, computes in float and rounds once.
template <class T>
struct OpMathOf {
    using type = T;
};
template <class Format>
struct OpMathOf<Float16Storage<Format>> {
    using type = float;
};
template <class T>
using OpMath = typename OpMathOf<T>::type;

static_assert(sizeof(bfloat16) == 2 && sizeof(float16) == 2, "16-bit storage");
static_assert(std::is_trivially_copyable_v<bfloat16> && std::is_trivially_copyable_v<float16>, "raw storage");

}  // namespace engine
