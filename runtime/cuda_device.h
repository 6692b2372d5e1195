// The CUDA device layer seen from the rest of the runtime. Every function works in every build: without a
// GPU (or in a build with ENGINE_WITH_CUDA=OFF) device_count() is 0 and anything that needs a device throws
// DeviceError with a one-line reason, e.g. "no CUDA device: CUDA driver version is insufficient ...".
#pragma once

#include <cstddef>
#include <string>

#include "runtime/allocator.h"

namespace engine::cuda {

bool built_with_cuda();
int device_count();
// Empty when at least one device is usable; otherwise why not (no driver, no device, built without CUDA).
std::string unavailable_reason();
inline bool is_available() { return device_count() > 0; }
// Throws DeviceError unless device `index` exists.
void require_device(int index);
// Name and compute capability of a present device, e.g. "NVIDIA H100 (sm_90)".
std::string device_name(int index);

Allocator& device_allocator(int index);
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);
void synchronize(int index);

}  // namespace engine::cuda
