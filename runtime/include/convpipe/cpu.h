#pragma once
// Which x86 instruction-set variant of generated code runs. Every pipeline
// and classic convolution carries AVX-512, AVX2+FMA and SSE4.1 variants,
// pipelines also one for AVX-512 on Sapphire Rapids and later (schedules
// for their caches), and each call runs the best one this CPU has, within
// this limit.
#include <string>

namespace convpipe {

// "auto" (the best the CPU has), "avx512_sapphirerapids", "avx512", "avx2"
// or "sse41". For testing and comparison; asking for more than the CPU has
// runs the best it has.
void set_cpu_isa_limit(const std::string &isa);
// The variant the most recent x86 call ran ("avx512_sapphirerapids",
// "avx512", "avx2", "sse41").
std::string last_cpu_isa();

}  // namespace convpipe
