// The CPU backend: OpenMP across cores, oneDNN for GEMM and convolution where built with it, hand-written
// loops for the rest. It declares every op of kernels/backend_ops.def and defines each in this folder's file of
// the op's family (kernels/cpu/<family>.cpp); everything of this folder is in engine::cpu.
#pragma once

#include "kernels/backend.h"

namespace engine::cpu {

class CpuBackend final : public Backend {
public:
    const char* name() const override { return "cpu"; }

#define ENGINE_BACKEND_OP(ret, op, params, ...) ret op params override;
#include "kernels/backend_ops.def"
#undef ENGINE_BACKEND_OP
};

}  // namespace engine::cpu
