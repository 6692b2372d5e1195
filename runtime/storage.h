// One allocation shared by a tensor and all its views. The version counter lives here because an in-place
// write through any view changes what every alias sees: autograd compares it to detect saved tensors that
// were modified after being saved.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "runtime/allocator.h"

namespace engine {

class StorageImpl {
public:
    StorageImpl(size_t nbytes, Device device);
    ~StorageImpl();
    StorageImpl(const StorageImpl&) = delete;
    StorageImpl& operator=(const StorageImpl&) = delete;

    void* data() const { return data_; }
    size_t nbytes() const { return nbytes_; }
    Device device() const { return device_; }
    uint64_t version() const { return version_.load(std::memory_order_relaxed); }
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

private:
    void* data_ = nullptr;
    size_t nbytes_ = 0;
    Device device_;
    Allocator* allocator_ = nullptr;
    std::atomic<uint64_t> version_{0};
};

using Storage = std::shared_ptr<StorageImpl>;

}  // namespace engine
