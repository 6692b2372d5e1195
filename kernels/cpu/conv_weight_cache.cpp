// ConvWeightCache: reordered convolution weights keyed by primitive, storage and offset, valid for one version.
#if ENGINE_WITH_ONEDNN  // the whole file
#include "kernels/cpu/conv_weight_cache.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "runtime/settings.h"

namespace engine::cpu {
namespace {

struct EntryKey {
    const void* owner;
    const void* storage;
    int64_t offset;
    bool operator==(const EntryKey& o) const { return owner == o.owner && storage == o.storage && offset == o.offset; }
};

struct EntryHash {
    size_t operator()(const EntryKey& k) const {
        return std::hash<const void*>()(k.owner) * 31 + std::hash<const void*>()(k.storage) * 7 +
               static_cast<size_t>(k.offset);
    }
};

struct Entry {
    std::shared_ptr<const void> owner;  // keeps the primitive (and so its address, part of the key) alive
    TensorSighting weight;
    std::shared_ptr<void> data;  // null until the weight was seen unchanged twice
    size_t bytes = 0;
    uint64_t last_use = 0;
};

}  // namespace

struct ConvWeightCache::Impl {
    const size_t limit = setting(&Settings::conv_weight_cache_mb) << 20;  // ENGINE_CONV_WEIGHT_CACHE_MB
    std::mutex mutex;
    std::unordered_map<EntryKey, Entry, EntryHash> entries;
    size_t held = 0, sweep_at = 64;
    uint64_t clock = 0;

    void release(Entry& e) {
        held -= e.bytes;
        e.data.reset();
        e.bytes = 0;
    }

    // Drops the entries of freed weights.
    void sweep() {
        for (auto it = entries.begin(); it != entries.end();) {
            if (it->second.weight.storage.expired()) {
                release(it->second);
                it = entries.erase(it);
            } else {
                ++it;
            }
        }
        sweep_at = std::max<size_t>(64, 2 * entries.size());
    }

    // Frees the least recently used copies until `bytes` more fit under the limit.
    void make_room(size_t bytes) {
        sweep();
        while (held + bytes > limit) {
            Entry* oldest = nullptr;
            for (auto& [key, e] : entries)
                if (e.data && (!oldest || e.last_use < oldest->last_use)) oldest = &e;
            if (!oldest) break;
            release(*oldest);
        }
    }
};

ConvWeightCache::ConvWeightCache() : impl_(std::make_unique<Impl>()) {}
ConvWeightCache::~ConvWeightCache() = default;

std::shared_ptr<void> ConvWeightCache::get(const std::shared_ptr<const void>& owner, const dnnl::reorder* reorder,
                                           const dnnl::memory::desc& plain, const dnnl::memory::desc& used,
                                           const Tensor& w, dnnl::stream& stream) {
    Impl& c = *impl_;
    const size_t bytes = used.get_size();
    if (!reorder || bytes > c.limit) return nullptr;
    std::lock_guard<std::mutex> lock(c.mutex);
    Entry& e = c.entries[EntryKey{owner.get(), w.storage().get(), w.offset()}];
    const bool same = e.owner == owner && e.weight.matches(w);
    if (same && e.data) {
        e.last_use = ++c.clock;
        return e.data;
    }
    if (!same) {  // first sighting, or the weight changed since: remember it, the caller reorders into scratch
        c.release(e);
        e.owner = owner;
        e.weight = TensorSighting::of(w);
        if (c.entries.size() > c.sweep_at) c.sweep();
        return nullptr;
    }
    c.make_room(bytes);
    std::shared_ptr<void> data(std::aligned_alloc(64, (bytes + 63) / 64 * 64), std::free);
    if (!data) return nullptr;
    const dnnl::engine& eng = stream.get_engine();
    dnnl::memory from(plain, eng, w.raw_data()), to(used, eng, data.get());
    reorder->execute(stream, from, to);
    stream.wait();
    e.data = data;
    e.bytes = bytes;
    e.last_use = ++c.clock;
    c.held += bytes;
    return data;
}

ConvWeightCache& conv_weight_cache() {
    static ConvWeightCache* cache = new ConvWeightCache();  // never destroyed: convolutions may run at exit
    return *cache;
}

}  // namespace engine::cpu
#endif  // ENGINE_WITH_ONEDNN
