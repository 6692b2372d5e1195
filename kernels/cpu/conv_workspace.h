// Per-thread, grow-only scratch memory for the convolution kernels (reordered operands, oneDNN scratchpads,
// im2col columns). Fresh multi-MiB buffers on every call would be mmap'ed and page-fault on first touch, which
// costs about as much as the reorders themselves; a training loop reuses the same sizes every step.
#pragma once

#include <cstddef>

namespace engine::cpu {

enum class ConvSlot { Input0, Input1, Output, Scratchpad, Columns, Partial, Count };

// At least `bytes` bytes, 4096-aligned, owned by the calling thread; valid until its next call with this slot.
void* conv_workspace(ConvSlot slot, size_t bytes);

template <class T>
T* conv_workspace_as(ConvSlot slot, size_t count) {
    return static_cast<T*>(conv_workspace(slot, count * sizeof(T)));
}

}  // namespace engine::cpu
