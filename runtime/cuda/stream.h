// Streams of a CUDA device (real or emulated): every device has a default stream that kernels, transfers and
// the vendor libraries use unless a StreamGuard selects another one for the current thread.
#pragma once

#include "runtime/cuda_api.h"

namespace engine::cuda {

// The stream work for `device_index` goes to on this thread.
cudaStream_t current_stream(int device_index);

}  // namespace engine::cuda
