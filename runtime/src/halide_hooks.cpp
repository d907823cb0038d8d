// Replacements for Halide runtime functions, which the runtime declares weak
// so that an application may override them (HalideRuntime.h).
#include <HalideRuntime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "halide_buffers.h"

// Errors: by default Halide prints and aborts. Here the message goes to the
// calling Pipeline through user_context, which turns it into an Error.
extern "C" void halide_error(void *user_context, const char *msg) {
    if (user_context) static_cast<convpipe::detail::ErrorSink *>(user_context)->append(msg);
}

namespace {

// Intermediate buffers: Halide allocates them on every call. Freed memory is
// handed back to the host on this kind of machine, and faulting fresh pages
// in costs about 2 ms per MB, more than many whole pipelines take. So freed
// blocks are kept, by size, for the next call (up to a cap).
constexpr size_t kAlignment = 128;             // >= halide_malloc_alignment()
constexpr size_t kCacheCap = size_t(1) << 30;  // bytes kept at most

struct Block {
    size_t size;
    void *ptr;
};

// A fixed-capacity list (reserved once), so that keeping and reusing blocks
// allocates nothing itself.
struct BlockCache {
    static constexpr size_t kSlots = 1024;
    BlockCache() { free_blocks.reserve(kSlots); }
    std::mutex mutex;
    std::atomic<uint64_t> fresh{0};  // blocks taken from the system
    std::atomic<uint32_t> fill{0};   // bits every block handed out is filled with (0: none)
    std::vector<Block> free_blocks;
    size_t cached_bytes = 0;
};

BlockCache &cache() {
    static BlockCache *c = new BlockCache;  // never destroyed: Halide may free at exit
    return *c;
}

size_t &block_size(void *p) { return *reinterpret_cast<size_t *>(static_cast<char *>(p) - kAlignment); }

// A kept block of at least `size` bytes, else a fresh one.
void *take_block(size_t size) {
    BlockCache &c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        // The smallest kept block that is big enough (and not wastefully
        // so): parallel tasks ask for slightly different sizes.
        Block *best = nullptr;
        for (Block &b : c.free_blocks)
            if (b.size >= size && b.size <= 2 * size + 4096 && (!best || b.size < best->size)) best = &b;
        if (best) {
            void *p = best->ptr;
            c.cached_bytes -= best->size;
            *best = c.free_blocks.back();
            c.free_blocks.pop_back();
            return p;
        }
    }
    // One aligned header slot before the block records its size.
    c.fresh++;
    char *base = static_cast<char *>(std::aligned_alloc(kAlignment, size + kAlignment));
    if (!base) return nullptr;
    void *p = base + kAlignment;
    block_size(p) = size;
    return p;
}

}  // namespace

extern "C" void *halide_malloc(void *, size_t size) {
    size = (size + kAlignment - 1) / kAlignment * kAlignment;
    void *p = take_block(size);
    if (const uint32_t bits = cache().fill.load(std::memory_order_relaxed); bits != 0 && p)
        std::fill_n(static_cast<uint32_t *>(p), size / sizeof(uint32_t), bits);
    return p;
}

extern "C" void halide_free(void *, void *p) {
    if (!p) return;
    size_t size = block_size(p);
    BlockCache &c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.cached_bytes + size <= kCacheCap && c.free_blocks.size() < BlockCache::kSlots) {
            c.free_blocks.push_back({size, p});
            c.cached_bytes += size;
            return;
        }
    }
    std::free(static_cast<char *>(p) - kAlignment);
}

namespace convpipe::detail {
// Referenced from Pipeline so that these definitions are always linked in.
void link_halide_hooks() {}
uint64_t halide_fresh_allocations() { return cache().fresh.load(); }
void fill_halide_buffers(uint32_t bits) { cache().fill.store(bits); }
}  // namespace convpipe::detail
