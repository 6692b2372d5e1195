// Convolution weights kept in a oneDNN primitive's layout between calls, so that repeated forwards with
// unchanged weights (eval, Grad-CAM, integrated gradients, feature ablation) skip the weight reorder, which costs
// about a tenth of a UNet's forward. Internal to the oneDNN convolution path (conv_onednn.cpp).
#pragma once

#if ENGINE_WITH_ONEDNN
#include <memory>

#include <dnnl.hpp>

#include "runtime/storage.h"
#include "runtime/tensor.h"

namespace engine::cpu {

// A tensor's storage (held weakly, so a freed one never matches), offset and version counter: a later tensor
// matches while it views the same data and nothing wrote to its storage since.
struct TensorSighting {
    std::weak_ptr<StorageImpl> storage;
    int64_t offset = 0;
    uint64_t version = 0;

    static TensorSighting of(const Tensor& t) { return {t.storage(), t.offset(), t.version()}; }
    bool matches(const Tensor& t) const {
        return version == t.version() && offset == t.offset() && storage.lock() == t.storage();
    }
};

// A weight is identified by its storage (held weakly, so a freed one never matches) and offset, and its copy is
// valid for one value of the storage's version counter, which every in-place write bumps (code that writes
// through data<T>() must call bump_version(), as autograd already requires). Only weights seen unchanged on two
// calls are copied, so training, whose weights change every step, holds no copies. ENGINE_CONV_WEIGHT_CACHE_MB
// caps the memory (default 1024; 0 disables); past it the least recently used copies are dropped.
class ConvWeightCache {
public:
    ConvWeightCache();
    ~ConvWeightCache();

    // `w` (contiguous, `plain` layout) in layout `used` for the primitive `owner` identifies, or null when it is
    // not (yet) cached: the caller then reorders into its own scratch. `reorder` converts plain to used (null:
    // no conversion needed, nothing to cache).
    std::shared_ptr<void> get(const std::shared_ptr<const void>& owner, const dnnl::reorder* reorder,
                              const dnnl::memory::desc& plain, const dnnl::memory::desc& used, const Tensor& w,
                              dnnl::stream& stream);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

ConvWeightCache& conv_weight_cache();

}  // namespace engine::cpu
#endif  // ENGINE_WITH_ONEDNN
