#include "cpu_isa.h"

#include <algorithm>
#include <atomic>

#include "convpipe/error.h"
#include "convpipe/cpu.h"

namespace convpipe {

namespace {
const char *const kIsaNames[detail::kIsaLevels] = {"sse41", "avx2", "avx512", "avx512_sapphirerapids"};
std::atomic<int> g_isa_limit{detail::kIsaLevels - 1};
std::atomic<int> g_last_isa{-1};
}  // namespace

namespace detail {

const char *isa_name(int level) { return level >= 0 && level < kIsaLevels ? kIsaNames[level] : ""; }

int isa_level(std::string_view name) {
    for (int i = 0; i < kIsaLevels; i++)
        if (name == kIsaNames[i]) return i;
    return -1;
}

int cpu_isa_level() {
    static const int level = [] {
        __builtin_cpu_init();
        const bool skylake = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                             __builtin_cpu_supports("avx512cd");
        // Sapphire Rapids and its successors (Halide's
        // avx512_sapphirerapids: Cannon Lake's set, BF16 and AVX-VNNI); FP16
        // too, which no AMD part has (their L2 is 1 MB).
        const bool sapphire_rapids = skylake && __builtin_cpu_supports("avx512ifma") &&
                                     __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bf16") &&
                                     __builtin_cpu_supports("avxvnni") && __builtin_cpu_supports("avx512fp16");
        if (sapphire_rapids) return 3;
        if (skylake) return 2;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
        return 0;
    }();
    return level;
}

int choose_isa_level() { return std::min(cpu_isa_level(), g_isa_limit.load()); }

void record_isa_level(int level) { g_last_isa = level; }

}  // namespace detail

void set_cpu_isa_limit(const std::string &isa) {
    int level = isa == "auto" ? detail::kIsaLevels - 1 : detail::isa_level(isa);
    if (level < 0)
        throw Error("unknown ISA '" + isa + "' (expected auto, avx512_sapphirerapids, avx512, avx2 or sse41)");
    g_isa_limit = level;
}

std::string last_cpu_isa() { return detail::isa_name(g_last_isa.load()); }

}  // namespace convpipe
