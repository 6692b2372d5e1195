// Dynamic shared memory that compiles under nvcc and the emulator:
//   ENGINE_DYNAMIC_SHARED(float, buffer);   // nvcc: extern __shared__ float buffer[];
// declares `buffer`, a T* const pointing at the launch's dynamic shared memory (the shared_bytes of the launch
// config), aligned to 16 bytes. In the emulator it is a per-block arena, poisoned with 0xFF at each block start in check
// mode. Several declarations in one kernel alias the same memory, as in CUDA.
#pragma once

#if defined(ENGINE_CUDA_EMULATION) && ENGINE_CUDA_EMULATION
#include "runtime/cuda/emu/emu_runtime.h"
#define EMU_DYN_SMEM(T, name) T* const name = static_cast<T*>(::emu::detail::tls_builtins.dynamic_shared)
#define ENGINE_DYNAMIC_SHARED(T, name) EMU_DYN_SMEM(T, name)
#else
// One raw byte array for every element type: nvcc rejects one extern __shared__ name with several types.
#define ENGINE_DYNAMIC_SHARED(T, name)                                      \
    extern __shared__ __align__(16) unsigned char engine_dynamic_shared_[]; \
    T* const name = reinterpret_cast<T*>(engine_dynamic_shared_)
#endif
