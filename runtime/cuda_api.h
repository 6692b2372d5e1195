// The CUDA runtime API as this build sees it: the toolkit's header in the real build, the emulator's
// implementation of the same names (runtime/cuda/emu) in engine_emu. Every CUDA-aware source includes this
// instead of <cuda_runtime_api.h> or <cuda_runtime.h>.
#pragma once

#if ENGINE_CUDA_EMULATION
#include "runtime/cuda/emu/emu_runtime.h"
#elif defined(__CUDACC__)
#include <cuda_runtime.h>
#else
#include <cuda_runtime_api.h>
#endif
