// Device memory of the emulated GPU. Fresh allocations are filled with 0xFF (NaN for floats, -1 for integers) so
// reads of memory no kernel wrote stand out. With guarded memory each allocation ends exactly at a PROT_NONE page
// (a read or write past the end faults and the launch reports it), is preceded by a poisoned red zone checked
// after every launch and a second guard page, and stays PROT_NONE in a quarantine for a while after cudaFree so
// that a use after free faults too.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <string>

#include "runtime/cuda/emu/emu_internal.h"

namespace emu::detail {
namespace {

constexpr unsigned char kRedZone = 0xfb;
constexpr size_t kMinRedZone = 64;
constexpr size_t kCheckedRedZone = 256;
constexpr size_t kQuarantine = 256;

struct Allocation {
    uint64_t id = 0;
    char* user = nullptr;
    size_t size = 0;
    char* map_base = nullptr;  // guarded only
    size_t map_bytes = 0;
    bool guarded = false;
};

std::mutex mutex;
std::map<uintptr_t, Allocation> live;  // by user pointer
std::deque<Allocation> quarantine;
uint64_t next_id = 1;
size_t bytes_in_use = 0;
std::atomic<size_t> guarded_live{0};

size_t page_size() {
    static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

std::string describe(const Allocation& a) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", static_cast<void*>(a.user));
    return "allocation #" + std::to_string(a.id) + " (" + std::to_string(a.size) + " bytes at " + buf + ")";
}

std::string relative(const Allocation& a, uintptr_t addr) {
    const auto start = reinterpret_cast<uintptr_t>(a.user);
    if (addr >= start + a.size)
        return std::to_string(addr - (start + a.size)) + " bytes past the end of " + describe(a);
    if (addr < start) return std::to_string(start - addr) + " bytes before the start of " + describe(a);
    return "offset " + std::to_string(addr - start) + " inside " + describe(a);
}

}  // namespace

void* device_allocate(size_t bytes, bool guarded) {
    Allocation a;
    a.size = bytes;
    a.guarded = guarded;
    if (guarded) {
        const size_t p = page_size();
        const size_t align = std::min<size_t>(256, bytes & (~bytes + 1));  // the largest power of two dividing bytes
        const size_t data_pages = (bytes + kMinRedZone + align + p - 1) / p;
        a.map_bytes = (data_pages + 2) * p;
        void* m = mmap(nullptr, a.map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) return nullptr;
        a.map_base = static_cast<char*>(m);
        if (mprotect(a.map_base + p, data_pages * p, PROT_READ | PROT_WRITE) != 0) {
            munmap(m, a.map_bytes);
            return nullptr;
        }
        a.user = a.map_base + p + data_pages * p - bytes;
        std::memset(a.map_base + p, kRedZone, static_cast<size_t>(a.user - (a.map_base + p)));
    } else {
        a.user = static_cast<char*>(std::aligned_alloc(256, (bytes + 255) & ~size_t{255}));
        if (!a.user) return nullptr;
    }
    std::memset(a.user, 0xff, bytes);
    std::lock_guard<std::mutex> lock(mutex);
    a.id = next_id++;
    bytes_in_use += bytes;
    if (guarded) ++guarded_live;
    live[reinterpret_cast<uintptr_t>(a.user)] = a;
    return a.user;
}

bool device_free(void* ptr) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = live.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == live.end()) return false;
    const Allocation a = it->second;
    live.erase(it);
    bytes_in_use -= a.size;
    if (!a.guarded) {
        std::free(a.user);
        return true;
    }
    --guarded_live;
    mprotect(a.map_base, a.map_bytes, PROT_NONE);
    quarantine.push_back(a);
    if (quarantine.size() > kQuarantine) {
        munmap(quarantine.front().map_base, quarantine.front().map_bytes);
        quarantine.pop_front();
    }
    return true;
}

size_t device_bytes_in_use() {
    std::lock_guard<std::mutex> lock(mutex);
    return bytes_in_use;
}

std::string describe_device_address(const void* ptr) {
    const auto addr = reinterpret_cast<uintptr_t>(ptr);
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& entry : live) {
        const Allocation& a = entry.second;
        if (a.guarded) {
            const auto base = reinterpret_cast<uintptr_t>(a.map_base);
            if (addr >= base && addr < base + a.map_bytes) return relative(a, addr);
        }
    }
    for (auto it = quarantine.rbegin(); it != quarantine.rend(); ++it) {
        const auto base = reinterpret_cast<uintptr_t>(it->map_base);
        if (addr >= base && addr < base + it->map_bytes)
            return relative(*it, addr) + ", which was freed by cudaFree (use after free)";
    }
    // Unguarded memory: name the nearest allocation within a page, if any.
    auto it = live.upper_bound(addr);
    if (it != live.begin()) {
        const Allocation& a = std::prev(it)->second;
        if (addr < reinterpret_cast<uintptr_t>(a.user) + a.size + page_size()) return relative(a, addr);
    }
    if (it != live.end() && it->first - addr < page_size()) return relative(it->second, addr);
    return "";
}

std::string check_red_zones() {
    if (guarded_live.load(std::memory_order_relaxed) == 0) return "";
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& entry : live) {
        const Allocation& a = entry.second;
        if (!a.guarded) continue;
        const char* zone_start = std::max(a.map_base + page_size(), a.user - kCheckedRedZone);
        for (const char* p = zone_start; p < a.user; ++p) {
            if (static_cast<unsigned char>(*p) != kRedZone) {
                // Re-poison so that one bug is reported once.
                std::memset(const_cast<char*>(zone_start), kRedZone, static_cast<size_t>(a.user - zone_start));
                return "CUDA emulator: out-of-bounds write " + std::to_string(a.user - p) +
                       " bytes before the start of " + describe(a) + " during the last launch";
            }
        }
    }
    return "";
}

}  // namespace emu::detail
