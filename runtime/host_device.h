// ENGINE_HOST_DEVICE: marks a function that both backends call, compiled for host and device by nvcc and as plain
// C++ everywhere else (the CPU backend, and the CUDA emulator, whose g++ build of the .cu files has no __CUDACC__).
#pragma once

#ifndef ENGINE_HOST_DEVICE
#if defined(__CUDACC__)
#define ENGINE_HOST_DEVICE __host__ __device__
#else
#define ENGINE_HOST_DEVICE
#endif
#endif
