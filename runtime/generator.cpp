#include "runtime/generator.h"

namespace engine {

uint64_t Generator::offset() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return offset_;
}

void Generator::manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    seed_ = seed;
    offset_ = 0;
}

void Generator::set_offset(uint64_t offset) {
    std::lock_guard<std::mutex> lock(mutex_);
    offset_ = offset;
}

uint64_t Generator::reserve(uint64_t count) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t first = offset_;
    offset_ += count;
    return first;
}

Generator& default_generator() {
    static Generator instance;
    return instance;
}

}  // namespace engine
