// The CUDA emulator's public header, included by runtime/cuda_api.h when ENGINE_CUDA_EMULATION=1: the CUDA
// language surface (emu_device.h, emu_intrinsics.h), the runtime API (emu_api.h) and emu::launch with the
// schedule and check options (emu_launch.h). Kernels (.cu files) compile with g++ as ordinary C++ and run on the
// CPU; see /work/shared/design/cuda-emulation.md for the design.
#pragma once

#include "runtime/cuda/emu/emu_types.h"
#include "runtime/cuda/emu/emu_api.h"
#include "runtime/cuda/emu/emu_device.h"
#include "runtime/cuda/emu/emu_launch.h"
