#pragma once
// This CPU's measured single-precision FMA peak: the ceiling that "% of peak"
// in the benchmarks is taken against.
#include <string>

namespace bench {

struct FmaPeak {
    double gflops = 0;     // all threads together
    std::string isa;       // "avx512" (zmm) or "avx2" (ymm)
};

// Widest vector FMA this CPU has, or the narrower one when `max_isa` is
// "avx2" (so a run limited to AVX2 is compared with the AVX2 peak).
std::string fma_peak_isa(const std::string &max_isa = "auto");

// Runs `threads` threads of independent FMA chains held in registers, started
// together, `runs` times; returns the best run (noise only ever slows it down).
FmaPeak measure_fma_peak(int threads, const std::string &max_isa = "auto", int runs = 5,
                         double seconds_per_run = 0.15);

}  // namespace bench
