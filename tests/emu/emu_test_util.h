// Helpers for the emulator's own tests: device buffers, running a kernel under given options, and asserting
// that a launch reports an emulation error whose message contains given words.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "runtime/cuda_api.h"

namespace emu_test {

// A device array filled from / copied back to host vectors.
template <class T>
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t n) : n_(n) { EXPECT_EQ(cudaMalloc(&ptr_, n * sizeof(T)), cudaSuccess); }
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
    ~DeviceBuffer() { cudaFree(ptr_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    T* get() const { return ptr_; }
    size_t size() const { return n_; }
    void upload(const std::vector<T>& host) {
        EXPECT_EQ(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
    }
    std::vector<T> download() const {
        std::vector<T> host(n_);
        EXPECT_EQ(cudaMemcpy(host.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
        return host;
    }

private:
    T* ptr_ = nullptr;
    size_t n_;
};

inline emu::Options checked(emu::Schedule schedule = emu::Schedule::Forward, uint64_t seed = 0) {
    emu::Options o;
    o.schedule = schedule;
    o.seed = seed;
    o.check = true;
    o.guard_memory = true;
    return o;
}

inline emu::Options fast(emu::Schedule schedule = emu::Schedule::Forward, uint64_t seed = 0) {
    emu::Options o;
    o.schedule = schedule;
    o.seed = seed;
    return o;
}

// The schedules a race must be exposed under: forward, reverse and two random orders.
inline std::vector<emu::Options> all_schedules(bool check) {
    std::vector<emu::Options> result;
    for (auto s : {emu::Schedule::Forward, emu::Schedule::Reverse}) result.push_back(check ? checked(s) : fast(s));
    for (uint64_t seed : {1u, 12345u}) {
        result.push_back(check ? checked(emu::Schedule::Random, seed) : fast(emu::Schedule::Random, seed));
    }
    return result;
}

}  // namespace emu_test

// Runs `statement` (a launch) and expects an emu::EmulationError whose message contains every one of the words.
#define EXPECT_EMULATION_ERROR(statement, ...)                                                          \
    do {                                                                                                \
        try {                                                                                           \
            statement;                                                                                  \
            ADD_FAILURE() << "no EmulationError from " #statement;                                      \
        } catch (const ::emu::EmulationError& e) {                                                      \
            const std::string message_ = e.what();                                                      \
            for (const char* word_ : std::initializer_list<const char*>{__VA_ARGS__})                   \
                EXPECT_NE(message_.find(word_), std::string::npos) << "missing \"" << word_ << "\" in: " \
                                                                   << message_;                         \
            EXPECT_EQ(message_.find('\n'), std::string::npos) << "not one line: " << message_;          \
        }                                                                                               \
    } while (0)
