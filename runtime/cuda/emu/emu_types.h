// CUDA runtime types for the emulated build: error codes, dim3/uint3, the vector types, cudaDeviceProp, streams,
// events and the flag enums, spelled and numbered as in the CUDA toolkit so that code written for nvcc compiles.
#pragma once

#include <cstddef>
#include <cstdint>

// ---- error codes (values as in driver_types.h)
enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidPitchValue = 12,
    cudaErrorInvalidSymbol = 13,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInvalidDeviceFunction = 98,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorInvalidKernelImage = 200,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorNotReady = 600,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchOutOfResources = 701,
    cudaErrorLaunchTimeout = 702,
    cudaErrorAssert = 710,
    cudaErrorLaunchFailure = 719,
    cudaErrorNotSupported = 801,
    cudaErrorUnknown = 999,
};
typedef enum cudaError cudaError_t;

// ---- built-in vector and index types
struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define ENGINE_EMU_VECTOR2(T, name, align)                                                        \
    struct alignas(align) name { T x, y; };                                                        \
    inline name make_##name(T x, T y) { return name{x, y}; }
#define ENGINE_EMU_VECTOR3(T, name)                                                               \
    struct name { T x, y, z; };                                                                    \
    inline name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define ENGINE_EMU_VECTOR4(T, name, align)                                                        \
    struct alignas(align) name { T x, y, z, w; };                                                  \
    inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

ENGINE_EMU_VECTOR2(float, float2, 8)
ENGINE_EMU_VECTOR3(float, float3)
ENGINE_EMU_VECTOR4(float, float4, 16)
ENGINE_EMU_VECTOR2(double, double2, 16)
ENGINE_EMU_VECTOR2(int, int2, 8)
ENGINE_EMU_VECTOR3(int, int3)
ENGINE_EMU_VECTOR4(int, int4, 16)
ENGINE_EMU_VECTOR2(unsigned int, uint2, 8)
ENGINE_EMU_VECTOR4(unsigned int, uint4, 16)
ENGINE_EMU_VECTOR2(long long, longlong2, 16)
inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }

#undef ENGINE_EMU_VECTOR2
#undef ENGINE_EMU_VECTOR3
#undef ENGINE_EMU_VECTOR4

// ---- device properties (the fields the engine and common CUDA code read)
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    int regsPerBlock;
    int warpSize;
    size_t memPitch;
    int maxThreadsPerBlock;
    int maxThreadsDim[3];
    int maxGridSize[3];
    int clockRate;
    size_t totalConstMem;
    int major;
    int minor;
    size_t textureAlignment;
    int deviceOverlap;
    int multiProcessorCount;
    int kernelExecTimeoutEnabled;
    int integrated;
    int canMapHostMemory;
    int concurrentKernels;
    int ECCEnabled;
    int pciBusID;
    int pciDeviceID;
    int pciDomainID;
    int asyncEngineCount;
    int unifiedAddressing;
    int memoryClockRate;
    int memoryBusWidth;
    int l2CacheSize;
    int maxThreadsPerMultiProcessor;
    size_t sharedMemPerMultiprocessor;
    int regsPerMultiprocessor;
    int managedMemory;
    int isMultiGpuBoard;
    int concurrentManagedAccess;
    size_t sharedMemPerBlockOptin;
    int maxBlocksPerMultiProcessor;
};

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};

enum cudaFuncAttribute {
    cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
    cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};

enum cudaFuncCache {
    cudaFuncCachePreferNone = 0,
    cudaFuncCachePreferShared = 1,
    cudaFuncCachePreferL1 = 2,
    cudaFuncCachePreferEqual = 3,
};

enum cudaLimit {
    cudaLimitStackSize = 0,
    cudaLimitPrintfFifoSize = 1,
    cudaLimitMallocHeapSize = 2,
};

// Opaque handles: the emulator's own structs (defined in emu_api.cpp).
typedef struct EmuStream* cudaStream_t;
typedef struct EmuEvent* cudaEvent_t;

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02
#define cudaEventInterprocess 0x04
#define cudaHostAllocDefault 0x00
#define cudaHostAllocPortable 0x01
#define cudaHostAllocMapped 0x02
#define cudaHostAllocWriteCombined 0x04
