// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based RNG,
// so element i of a random tensor is a pure function of (seed, offset + i). Every backend computes the same
// formula per element, which makes CPU and CUDA draw identical uniform and Bernoulli values (normal values
// agree to the last bits of log/cos) for the same seed, whatever the thread or block layout.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define ENGINE_HOST_DEVICE __host__ __device__
#else
#define ENGINE_HOST_DEVICE
#endif

namespace engine::philox {

struct Block {
    uint32_t x[4];
};

ENGINE_HOST_DEVICE inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
    const uint64_t product = static_cast<uint64_t>(a) * b;
    *hi = static_cast<uint32_t>(product >> 32);
    return static_cast<uint32_t>(product);
}

// One 128-bit output block for a 64-bit counter and a 64-bit key.
ENGINE_HOST_DEVICE inline Block generate(uint64_t counter, uint64_t key) {
    uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, hi1;
        const uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
        const uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
        const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return Block{{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 53 random bits.
ENGINE_HOST_DEVICE inline double uniform_double(const Block& b) {
    const uint64_t bits = (static_cast<uint64_t>(b.x[0]) << 21) ^ (b.x[1] >> 11);
    return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Uniform in [0, 1) with 24 random bits, exactly representable as a float.
ENGINE_HOST_DEVICE inline float uniform_float(const Block& b) {
    return static_cast<float>(b.x[0] >> 8) * (1.0f / 16777216.0f);
}

// Standard normal by Box-Muller on two 32-bit words (u1 in (0, 1] so the log is finite).
ENGINE_HOST_DEVICE inline double normal(const Block& b) {
    const double u1 = (static_cast<double>(b.x[2]) + 1.0) * (1.0 / 4294967296.0);
    const double u2 = static_cast<double>(b.x[3]) * (1.0 / 4294967296.0);
    return ::sqrt(-2.0 * ::log(u1)) * ::cos(6.283185307179586 * u2);  // global: engine:: has tensor log/cos
}

// True with probability p (compared on 32 bits, so exact on every backend).
ENGINE_HOST_DEVICE inline bool bernoulli(const Block& b, double p) {
    return static_cast<double>(b.x[0]) * (1.0 / 4294967296.0) < p;
}

}  // namespace engine::philox
