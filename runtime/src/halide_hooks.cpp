// Replacements for Halide runtime functions, which the runtime declares weak
// so that an application may override them (HalideRuntime.h).
#include <HalideRuntime.h>

#include <cstdlib>
#include <map>
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

struct BlockCache {
    std::mutex mutex;
    std::multimap<size_t, void *> free_blocks;  // size -> block
    size_t cached_bytes = 0;
};

BlockCache &cache() {
    static BlockCache *c = new BlockCache;  // never destroyed: Halide may free at exit
    return *c;
}

size_t &block_size(void *p) { return *reinterpret_cast<size_t *>(static_cast<char *>(p) - kAlignment); }

}  // namespace

extern "C" void *halide_malloc(void *, size_t size) {
    size = (size + kAlignment - 1) / kAlignment * kAlignment;
    BlockCache &c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        auto it = c.free_blocks.find(size);
        if (it != c.free_blocks.end()) {
            void *p = it->second;
            c.free_blocks.erase(it);
            c.cached_bytes -= size;
            return p;
        }
    }
    // One aligned header slot before the block records its size.
    char *base = static_cast<char *>(std::aligned_alloc(kAlignment, size + kAlignment));
    if (!base) return nullptr;
    void *p = base + kAlignment;
    block_size(p) = size;
    return p;
}

extern "C" void halide_free(void *, void *p) {
    if (!p) return;
    size_t size = block_size(p);
    BlockCache &c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        if (c.cached_bytes + size <= kCacheCap) {
            c.free_blocks.emplace(size, p);
            c.cached_bytes += size;
            return;
        }
    }
    std::free(static_cast<char *>(p) - kAlignment);
}

namespace convpipe::detail {
// Referenced from Pipeline so that these definitions are always linked in.
void link_halide_hooks() {}
}  // namespace convpipe::detail
