#include "runtime/storage.h"

namespace engine {

StorageImpl::StorageImpl(size_t nbytes, Device device)
    : nbytes_(nbytes), device_(device), allocator_(&allocator_for(device)) {
    data_ = allocator_->allocate(nbytes);
}

StorageImpl::~StorageImpl() {
    if (data_) allocator_->deallocate(data_, nbytes_);
}

}  // namespace engine
