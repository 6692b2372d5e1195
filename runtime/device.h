// Where a tensor's memory lives. Each tensor carries its device and every op dispatches on it: there is no
// global "mode" (unlike Caffe's or dlib's), so CPU and CUDA tensors can be used side by side.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace engine {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
    DeviceType type = DeviceType::CPU;
    int index = 0;  // CUDA ordinal; always 0 for the CPU

    static Device cpu() { return {DeviceType::CPU, 0}; }
    static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
    bool is_cpu() const { return type == DeviceType::CPU; }
    bool is_cuda() const { return type == DeviceType::CUDA; }
    bool operator==(const Device& o) const { return type == o.type && index == o.index; }
    bool operator!=(const Device& o) const { return !(*this == o); }

    // "cpu", "cuda", "cuda:1"
    static Device parse(const std::string& text);
    std::string str() const;
};

inline std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace engine
