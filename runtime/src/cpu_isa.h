#pragma once
// Internal: which x86 instruction-set variant of a generated function runs.
// Every generated x86 function exists once per level (0 = SSE4.1, 1 = AVX2
// with FMA, 2 = the AVX-512 Skylake set), and pipelines also at level 3
// (the AVX-512 Sapphire Rapids set: the same instructions for f32, with
// schedules for its 48 KB L1d and 2 MB L2); each call runs the best level
// the CPU has, within the limit set_cpu_isa_limit() gives. (Halide's own
// multi-target wrapper caches its first choice, so it cannot be limited
// later; that is why dispatch lives here.)
#include <string>
#include <string_view>

namespace convpipe::detail {

constexpr int kIsaLevels = 4;
const char *isa_name(int level);
int isa_level(std::string_view name);   // -1 when unknown (no allocation: run-time calls use it)
int cpu_isa_level();                       // the best this CPU runs
// The highest level a call may use now (min of the CPU's and the limit).
int choose_isa_level();
// Records the level a call ran, for last_cpu_isa().
void record_isa_level(int level);

}  // namespace convpipe::detail
