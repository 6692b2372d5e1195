// The CUDA runtime API of the emulated device: errors, the one device and its properties, memory, streams and
// events. Every call completes its work before returning (kernels run at launch), so streams are always idle,
// events are complete once recorded, and elapsed times measure the host time between two records.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "runtime/allocator.h"
#include "runtime/cuda/emu/emu_internal.h"

struct EmuStream {
    unsigned int flags;
};

struct EmuEvent {
    unsigned int flags;
    bool recorded;
    std::chrono::steady_clock::time_point time;
};

namespace emu::detail {
namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_failure;
std::mutex attribute_mutex;
std::map<const void*, size_t> dynamic_shared_limits;

size_t total_memory() {
    const size_t memory = engine::physical_memory_bytes();
    return memory > 0 ? memory : size_t{16} << 30;
}

cudaError_t fail(cudaError_t error) {
    last_error = error;
    return error;
}

}  // namespace

void set_last_error(cudaError_t error) { last_error = error; }

void record_launch_failure(const char* message) {
    last_failure = message;
    last_error = cudaErrorLaunchFailure;
}

size_t max_dynamic_shared(const void* kernel) {
    std::lock_guard<std::mutex> lock(attribute_mutex);
    auto it = dynamic_shared_limits.find(kernel);
    return it == dynamic_shared_limits.end() ? 0 : it->second;
}

}  // namespace emu::detail

using emu::detail::fail;

const char* cudaGetErrorName(cudaError_t error) {
    switch (error) {
#define ENGINE_EMU_NAME(e) \
    case e: return #e;
        ENGINE_EMU_NAME(cudaSuccess)
        ENGINE_EMU_NAME(cudaErrorInvalidValue)
        ENGINE_EMU_NAME(cudaErrorMemoryAllocation)
        ENGINE_EMU_NAME(cudaErrorInitializationError)
        ENGINE_EMU_NAME(cudaErrorInvalidConfiguration)
        ENGINE_EMU_NAME(cudaErrorInvalidPitchValue)
        ENGINE_EMU_NAME(cudaErrorInvalidSymbol)
        ENGINE_EMU_NAME(cudaErrorInvalidDevicePointer)
        ENGINE_EMU_NAME(cudaErrorInvalidMemcpyDirection)
        ENGINE_EMU_NAME(cudaErrorInvalidDeviceFunction)
        ENGINE_EMU_NAME(cudaErrorNoDevice)
        ENGINE_EMU_NAME(cudaErrorInvalidDevice)
        ENGINE_EMU_NAME(cudaErrorInvalidKernelImage)
        ENGINE_EMU_NAME(cudaErrorInvalidResourceHandle)
        ENGINE_EMU_NAME(cudaErrorNotReady)
        ENGINE_EMU_NAME(cudaErrorIllegalAddress)
        ENGINE_EMU_NAME(cudaErrorLaunchOutOfResources)
        ENGINE_EMU_NAME(cudaErrorLaunchTimeout)
        ENGINE_EMU_NAME(cudaErrorAssert)
        ENGINE_EMU_NAME(cudaErrorLaunchFailure)
        ENGINE_EMU_NAME(cudaErrorNotSupported)
        ENGINE_EMU_NAME(cudaErrorUnknown)
#undef ENGINE_EMU_NAME
    }
    return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
    switch (error) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInitializationError: return "initialization error";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInvalidDevicePointer: return "invalid device pointer";
        case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
        case cudaErrorInvalidDeviceFunction: return "invalid device function";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        case cudaErrorInvalidDevice: return "invalid device ordinal";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorNotReady: return "device not ready";
        case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
        case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
        case cudaErrorLaunchFailure:
            return emu::detail::last_failure.empty() ? "unspecified launch failure"
                                                     : emu::detail::last_failure.c_str();
        case cudaErrorNotSupported: return "operation not supported";
        default: return "unknown error";
    }
}

cudaError_t cudaGetLastError() {
    const cudaError_t e = emu::detail::last_error;
    emu::detail::last_error = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError() { return emu::detail::last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
    if (!count) return fail(cudaErrorInvalidValue);
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
    if (!device) return fail(cudaErrorInvalidValue);
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
    if (!prop) return fail(cudaErrorInvalidValue);
    if (device != 0) return fail(cudaErrorInvalidDevice);
    std::memset(prop, 0, sizeof *prop);
    std::strncpy(prop->name, "CUDA emulator (CPU)", sizeof prop->name - 1);
    prop->totalGlobalMem = emu::detail::total_memory();
    prop->sharedMemPerBlock = 48 * 1024;
    prop->sharedMemPerBlockOptin = 227 * 1024;
    prop->sharedMemPerMultiprocessor = 228 * 1024;
    prop->regsPerBlock = 65536;
    prop->regsPerMultiprocessor = 65536;
    prop->warpSize = 32;
    prop->memPitch = 2147483647;
    prop->maxThreadsPerBlock = 1024;
    prop->maxThreadsDim[0] = 1024;
    prop->maxThreadsDim[1] = 1024;
    prop->maxThreadsDim[2] = 64;
    prop->maxGridSize[0] = 2147483647;
    prop->maxGridSize[1] = 65535;
    prop->maxGridSize[2] = 65535;
    prop->clockRate = 1000000;
    prop->totalConstMem = 64 * 1024;
    prop->major = 9;
    prop->minor = 0;
    prop->textureAlignment = 512;
    prop->multiProcessorCount = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    prop->maxThreadsPerMultiProcessor = 2048;
    prop->maxBlocksPerMultiProcessor = 32;
    prop->concurrentKernels = 1;
    prop->unifiedAddressing = 1;
    prop->canMapHostMemory = 1;
    prop->managedMemory = 1;
    prop->l2CacheSize = 50 * 1024 * 1024;
    prop->memoryBusWidth = 5120;
    prop->memoryClockRate = 2619000;
    prop->asyncEngineCount = 2;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (!value) return fail(cudaErrorInvalidValue);
    cudaDeviceProp p;
    if (const cudaError_t e = cudaGetDeviceProperties(&p, device)) return e;
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
        case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
        case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
        case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
        case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
        case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
        case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
        case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(p.sharedMemPerBlock); break;
        case cudaDevAttrWarpSize: *value = p.warpSize; break;
        case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
        case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
        case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(p.sharedMemPerBlockOptin); break;
        default: return fail(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaDeviceReset() { return cudaSuccess; }
cudaError_t cudaDeviceSetLimit(cudaLimit, size_t) { return cudaSuccess; }

cudaError_t cudaDeviceGetLimit(size_t* value, cudaLimit limit) {
    if (!value) return fail(cudaErrorInvalidValue);
    *value = limit == cudaLimitStackSize ? size_t{64 * 1024} : 0;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t size) {
    if (!ptr) return fail(cudaErrorInvalidValue);
    *ptr = nullptr;
    if (size == 0) return cudaSuccess;
    *ptr = emu::detail::device_allocate(size, emu::options().guard_memory);
    return *ptr ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void* ptr) {
    if (!ptr) return cudaSuccess;
    return emu::detail::device_free(ptr) ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaHostAlloc(ptr, size, cudaHostAllocDefault); }

cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int) {
    if (!ptr) return fail(cudaErrorInvalidValue);
    *ptr = size ? std::aligned_alloc(256, (size + 255) & ~size_t{255}) : nullptr;
    return *ptr || !size ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* ptr) {
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
    if (!free || !total) return fail(cudaErrorInvalidValue);
    *total = emu::detail::total_memory();
    const size_t used = emu::detail::device_bytes_in_use();
    *free = used < *total ? *total - used : 0;
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
    if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return fail(cudaErrorInvalidMemcpyDirection);
    if (count == 0) return cudaSuccess;
    if (!dst || !src) return fail(cudaErrorInvalidValue);
    std::memmove(dst, src, count);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t) {
    return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
    if (width > dpitch || width > spitch) return fail(cudaErrorInvalidPitchValue);
    for (size_t row = 0; row < height; ++row) {
        if (const cudaError_t e = cudaMemcpy(static_cast<char*>(dst) + row * dpitch,
                                             static_cast<const char*>(src) + row * spitch, width, kind))
            return e;
    }
    return cudaSuccess;
}

cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t count) {
    if (dst_device != 0 || src_device != 0) return fail(cudaErrorInvalidDevice);
    return cudaMemcpy(dst, src, count, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t count,
                                cudaStream_t) {
    return cudaMemcpyPeer(dst, dst_device, src, src_device, count);
}

cudaError_t cudaDeviceCanAccessPeer(int* can_access, int device, int peer_device) {
    if (!can_access) return fail(cudaErrorInvalidValue);
    if (device != 0 || peer_device != 0) return fail(cudaErrorInvalidDevice);
    *can_access = 0;
    return cudaSuccess;
}

cudaError_t cudaMemset(void* ptr, int value, size_t count) {
    if (count == 0) return cudaSuccess;
    if (!ptr) return fail(cudaErrorInvalidValue);
    std::memset(ptr, value, count);
    return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t) { return cudaMemset(ptr, value, count); }

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
    if (!stream) return fail(cudaErrorInvalidValue);
    *stream = new EmuStream{flags};
    return cudaSuccess;
}

cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int flags, int) {
    return cudaStreamCreateWithFlags(stream, flags);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    if (!stream || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
        return fail(cudaErrorInvalidResourceHandle);
    delete stream;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned int) {
    return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }
cudaError_t cudaEventCreate(cudaEvent_t* event, unsigned int flags) { return cudaEventCreateWithFlags(event, flags); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
    if (!event) return fail(cudaErrorInvalidValue);
    *event = new EmuEvent{flags, false, {}};
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
    if (!event) return fail(cudaErrorInvalidResourceHandle);
    event->recorded = true;
    event->time = std::chrono::steady_clock::now();
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaEventQuery(cudaEvent_t event) { return event ? cudaSuccess : fail(cudaErrorInvalidResourceHandle); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!ms) return fail(cudaErrorInvalidValue);
    if (!start || !end) return fail(cudaErrorInvalidResourceHandle);
    if ((start->flags | end->flags) & cudaEventDisableTiming) return fail(cudaErrorInvalidResourceHandle);
    if (!start->recorded || !end->recorded) return fail(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
    if (!event) return fail(cudaErrorInvalidResourceHandle);
    delete event;
    return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
    if (!func) return fail(cudaErrorInvalidDeviceFunction);
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
        if (value < 0 || value > 227 * 1024) return fail(cudaErrorInvalidValue);
        std::lock_guard<std::mutex> lock(emu::detail::attribute_mutex);
        emu::detail::dynamic_shared_limits[func] = static_cast<size_t>(value);
    }
    return cudaSuccess;
}

cudaError_t cudaFuncSetCacheConfig(const void* func, cudaFuncCache) {
    return func ? cudaSuccess : fail(cudaErrorInvalidDeviceFunction);
}
