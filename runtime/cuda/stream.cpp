// Default streams (one per device, created once, never destroyed: destroying a stream during static
// destruction can run after the driver has shut down), explicit streams and the per-thread current stream.
#include "runtime/cuda/stream.h"

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda_check.h"
#include "runtime/cuda_device.h"

namespace engine::cuda {
namespace {

// Runs f with `device` current, then restores the caller's device (streams belong to the device current
// at creation).
template <class F>
void with_device(int device, const char* what, const F& f) {
    int previous = 0;
    ENGINE_CUDA_CHECK(cudaGetDevice(&previous), what);
    ENGINE_CUDA_CHECK(cudaSetDevice(device), what, " (cuda:", device, ")");
    f();
    if (previous != device) ENGINE_CUDA_CHECK(cudaSetDevice(previous), what);
}

cudaStream_t create_stream(int device, const char* what) {
    cudaStream_t stream = nullptr;
    with_device(device, what, [&] {
        ENGINE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), what, " on cuda:", device);
    });
    return stream;
}

struct DefaultStreams {
    std::unique_ptr<std::once_flag[]> once;
    std::vector<cudaStream_t> streams;
};

DefaultStreams& default_streams() {
    static DefaultStreams* instance = [] {
        auto* d = new DefaultStreams;  // leaked on purpose, see the file comment
        const int count = device_count();
        d->once = std::make_unique<std::once_flag[]>(static_cast<size_t>(count > 0 ? count : 1));
        d->streams.assign(static_cast<size_t>(count), nullptr);
        return d;
    }();
    return *instance;
}

// This thread's stream overrides, indexed by device; unset entries mean "the default stream".
struct CurrentSlot {
    bool set = false;
    cudaStream_t stream = nullptr;
};

CurrentSlot& current_slot(int device) {
    thread_local std::vector<CurrentSlot> slots;
    if (slots.size() <= static_cast<size_t>(device)) slots.resize(static_cast<size_t>(device) + 1);
    return slots[static_cast<size_t>(device)];
}

}  // namespace

cudaStream_t default_stream(int device_index) {
    require_device(device_index);
    DefaultStreams& d = default_streams();
    const auto i = static_cast<size_t>(device_index);
    std::call_once(d.once[i], [&] { d.streams[i] = create_stream(device_index, "default stream"); });
    return d.streams[i];
}

cudaStream_t current_stream(int device_index) {
    require_device(device_index);
    const CurrentSlot& slot = current_slot(device_index);
    return slot.set ? slot.stream : default_stream(device_index);
}

void synchronize_stream(int device_index, cudaStream_t stream) {
    ENGINE_CUDA_CHECK(cudaStreamSynchronize(stream), "synchronize stream of cuda:", device_index);
}

Stream::Stream(int device_index) : device_(device_index) {
    require_device(device_index);
    stream_ = create_stream(device_index, "Stream");
}

Stream::~Stream() { destroy(); }

Stream::Stream(Stream&& other) noexcept : device_(other.device_), stream_(std::exchange(other.stream_, nullptr)) {}

Stream& Stream::operator=(Stream&& other) noexcept {
    if (this != &other) {
        destroy();
        device_ = other.device_;
        stream_ = std::exchange(other.stream_, nullptr);
    }
    return *this;
}

void Stream::destroy() noexcept {
    if (stream_ == nullptr) return;
    // Waiting first makes the blocks the caching allocator holds for this stream safe for any other stream.
    // Errors here are not actionable (and a sticky one surfaces at the next checked call).
    if (cudaStreamSynchronize(stream_) == cudaSuccess) retire_stream(device_, stream_);
    cudaStreamDestroy(stream_);
    stream_ = nullptr;
}

void Stream::synchronize() const { synchronize_stream(device_, stream_); }

bool Stream::query() const {
    const cudaError_t status = cudaStreamQuery(stream_);
    if (status == cudaErrorNotReady) {
        cudaGetLastError();  // "not ready" is an answer, not an error to report later
        return false;
    }
    ENGINE_CUDA_CHECK(status, "query stream of cuda:", device_);
    return true;
}

StreamGuard::StreamGuard(int device_index, cudaStream_t stream) : device_(device_index) {
    require_device(device_index);
    CurrentSlot& slot = current_slot(device_index);
    had_previous_ = slot.set;
    previous_ = slot.stream;
    slot.set = true;
    slot.stream = stream;
}

StreamGuard::~StreamGuard() {
    CurrentSlot& slot = current_slot(device_);
    slot.set = had_previous_;
    slot.stream = previous_;
}

}  // namespace engine::cuda
