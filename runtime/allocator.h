// Memory for tensors. A backend provides one Allocator per device; Storage owns one allocation through it.
// The CUDA backend adds its own (caching) allocator and registers nothing else: allocator_for() is the one
// place that maps a Device to its allocator.
#pragma once

#include <cstddef>

#include "runtime/device.h"

namespace engine {

class Allocator {
public:
    virtual ~Allocator() = default;
    // Returns memory aligned to at least 64 bytes, or throws (Error / DeviceError) naming the size.
    virtual void* allocate(size_t nbytes) = 0;
    virtual void deallocate(void* ptr, size_t nbytes) = 0;
    virtual Device device() const = 0;
};

Allocator& cpu_allocator();

// This machine's physical memory in bytes (sysconf), 0 when the system does not say.
size_t physical_memory_bytes();

// Throws DeviceError when the device is absent or its backend was not built.
Allocator& allocator_for(Device device);

// Copies nbytes between any two devices (host<->device transfers go through the CUDA backend).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

}  // namespace engine
