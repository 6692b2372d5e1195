// A seeded random stream: a Philox key (the seed) plus a counter offset that each draw advances by the number
// of elements it used, so consecutive draws never reuse counters.
#pragma once

#include <cstdint>
#include <mutex>

namespace engine {

class Generator {
public:
    explicit Generator(uint64_t seed = 0x5eed) : seed_(seed) {}
    uint64_t seed() const { return seed_; }
    uint64_t offset() const;
    void manual_seed(uint64_t seed);
    void set_offset(uint64_t offset);
    // Returns the first counter of a fresh range of `count` counters and advances past it.
    uint64_t reserve(uint64_t count);

private:
    mutable std::mutex mutex_;
    uint64_t seed_;
    uint64_t offset_ = 0;
};

// The process-wide generator used when an op is given none.
Generator& default_generator();
inline void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace engine
