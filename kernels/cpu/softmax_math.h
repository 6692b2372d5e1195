// exp(x) for x <= 0 (shifted logits, log-probabilities) and log(x) for x >= 1 (sums of exponentials) written so
// that loops over them vectorise: the float versions are Cephes' expf / logf polynomials (about 1 ulp) without
// branches (selections work on bits); double uses the C library.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace engine::cpu {

inline float bits_to_float(uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof(f));
    return f;
}

inline uint32_t float_to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, sizeof(b));
    return b;
}

inline float exp_nonpositive(float x) {
    // Round x / ln 2 to the nearest integer n by adding and removing 1.5 * 2^23; t's low mantissa bits then
    // hold n, which gives 2^n without a float-to-int conversion (those block vectorisation).
    const float t = x * 1.44269504088896341f + 12582912.0f;
    const float n = t - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    const float value = p * bits_to_float((float_to_bits(t) - 0x4B400000u + 127u) << 23);
    // Select on bits: a float select lets the compiler sink the multiply into a branch, which it then refuses
    // to vectorise under trapping math. Below -87 the result flushes to 0 (exp is under FLT_MIN); NaN stays.
    const uint32_t keep = x < -87.0f ? 0u : ~0u;
    const uint32_t nan = x == x ? 0u : ~0u;
    return bits_to_float((float_to_bits(value) & keep & ~nan) | (float_to_bits(x) & nan));
}

inline double exp_nonpositive(double x) { return std::exp(x); }

// Accurate for any positive normal float; NaN and +inf pass through.
inline float log_positive(float v) {
    const uint32_t vb = float_to_bits(v);
    // v = m * 2^e with m in [0.5, 1), then m moved to [sqrt(1/2), sqrt(2)) around 1.
    const float e0 = static_cast<float>(static_cast<int32_t>((vb >> 23) & 0xffu) - 126);
    float m = bits_to_float((vb & 0x007fffffu) | 0x3f000000u);
    const uint32_t small = m < 0.707106781186547524f ? ~0u : 0u;
    const float e = e0 - bits_to_float(small & float_to_bits(1.0f));
    m = (m - 1.0f) + bits_to_float(small & float_to_bits(m));
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    const float r = (m + y) + 0.693359375f * e;
    const uint32_t special = (v == v ? 0u : ~0u) | (v == std::numeric_limits<float>::infinity() ? ~0u : 0u);
    return bits_to_float((float_to_bits(r) & ~special) | (vb & special));
}

inline double log_positive(double v) { return std::log(v); }

}  // namespace engine::cpu
