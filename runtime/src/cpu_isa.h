#pragma once
// Internal: which x86 instruction-set variant of a generated function runs.
// Every generated x86 function exists once per level (0 = SSE4.1, 1 = AVX2
// with FMA, 2 = the AVX-512 Skylake set); each call runs the best level the
// CPU has, within the limit set_cpu_isa_limit() gives. (Halide's own
// multi-target wrapper caches its first choice, so it cannot be limited
// later; that is why dispatch lives here.)
#include <string>

namespace convpipe::detail {

constexpr int kIsaLevels = 3;
const char *isa_name(int level);
int isa_level(const std::string &name);   // -1 when unknown
int cpu_isa_level();                       // the best this CPU runs
// The level a call should use now (min of the CPU's and the limit); it is
// also recorded as the last one used.
int choose_isa_level();

}  // namespace convpipe::detail
