// Streams of a CUDA device (real or emulated). Every device has a default stream (non-blocking, created on first
// use) that kernels, transfers, the caching allocator and the vendor libraries use, unless a StreamGuard selects
// another stream for the current thread. Work on one stream runs in order; streams run concurrently.
#pragma once

#include "runtime/cuda_api.h"

namespace engine::cuda {

// The stream work for `device_index` goes to on this thread: the innermost StreamGuard's, else the default.
cudaStream_t current_stream(int device_index);
// The device's own non-blocking stream; never destroyed.
cudaStream_t default_stream(int device_index);
// Waits for all work queued on `stream` of `device_index`; a failure (e.g. a kernel fault) throws DeviceError.
void synchronize_stream(int device_index, cudaStream_t stream);

// An explicit stream (non-blocking with respect to the legacy NULL stream), destroyed with the object.
// Destruction waits for the work queued on it.
class Stream {
public:
    explicit Stream(int device_index = 0);
    ~Stream();
    Stream(Stream&& other) noexcept;
    Stream& operator=(Stream&& other) noexcept;
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    cudaStream_t handle() const { return stream_; }
    int device_index() const { return device_; }
    void synchronize() const;
    // True when every piece of work queued so far has finished.
    bool query() const;

private:
    void destroy() noexcept;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
};

// Makes `stream` the current stream of its device for this thread until the guard goes out of scope (guards
// nest). Other threads and other devices are unaffected.
class StreamGuard {
public:
    explicit StreamGuard(const Stream& stream) : StreamGuard(stream.device_index(), stream.handle()) {}
    StreamGuard(int device_index, cudaStream_t stream);
    ~StreamGuard();
    StreamGuard(const StreamGuard&) = delete;
    StreamGuard& operator=(const StreamGuard&) = delete;

private:
    int device_;
    bool had_previous_;
    cudaStream_t previous_;
};

}  // namespace engine::cuda
