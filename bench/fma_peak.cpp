// FMA peak microbenchmark. Each thread runs many independent chains
// acc = acc * m + c held in vector registers: enough chains to cover the FMA
// latency on every FMA port (latency 4-5 cycles x 2 ports needs >= 10 in
// flight), no loads or stores, so the loop runs at the FMA throughput limit.
// The kernels are compiled for their ISA with target attributes and picked at
// run time, so one binary measures AVX2 or AVX-512 as the CPU allows.
#include "fma_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

// 12 ymm accumulators + 2 constants fit AVX2's 16 registers.
constexpr int kChainsAvx2 = 12;
// AVX-512 has 32 registers; 16 chains cover 2 ports x latency 4 with room.
constexpr int kChainsAvx512 = 16;

// Returns a value that depends on every chain so none can be optimised away.
__attribute__((target("avx2,fma"))) float chains_avx2(int64_t iterations) {
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    __m256 acc[kChainsAvx2];
    for (int i = 0; i < kChainsAvx2; i++) acc[i] = _mm256_set1_ps(float(i));
    for (int64_t n = 0; n < iterations; n++) {
#pragma GCC unroll 16
        for (int i = 0; i < kChainsAvx2; i++) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
    }
    __m256 sum = acc[0];
    for (int i = 1; i < kChainsAvx2; i++) sum = _mm256_add_ps(sum, acc[i]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, sum);
    return lanes[0] + lanes[7];
}

__attribute__((target("avx512f"))) float chains_avx512(int64_t iterations) {
    const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
    __m512 acc[kChainsAvx512];
    for (int i = 0; i < kChainsAvx512; i++) acc[i] = _mm512_set1_ps(float(i));
    for (int64_t n = 0; n < iterations; n++) {
#pragma GCC unroll 16
        for (int i = 0; i < kChainsAvx512; i++) acc[i] = _mm512_fmadd_ps(acc[i], m, c);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < kChainsAvx512; i++) sum = _mm512_add_ps(sum, acc[i]);
    return _mm512_reduce_add_ps(sum);
}

struct Kernel {
    float (*run)(int64_t);
    double flops_per_iteration;   // chains x lanes x 2 (multiply and add)
};

Kernel kernel_for(const std::string &isa) {
    if (isa == "avx512") return {chains_avx512, kChainsAvx512 * 16 * 2.0};
    return {chains_avx2, kChainsAvx2 * 8 * 2.0};
}

// One timed run: all threads start together after a barrier; the time is from
// the first start to the last finish. The calling thread only waits in join(),
// so it does not take a core from the workers.
double timed_run(const Kernel &k, int threads, int64_t iterations) {
    std::atomic<int> arrived{0};
    std::vector<Clock::time_point> start(threads), end(threads);
    std::vector<float> sink(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++)
        pool.emplace_back([&, t] {
            arrived.fetch_add(1);
            while (arrived.load() < threads) {
            }
            start[t] = Clock::now();
            sink[t] = k.run(iterations);
            end[t] = Clock::now();
        });
    for (auto &th : pool) th.join();
    volatile float keep = 0;
    for (float s : sink) keep = keep + s;
    (void)keep;
    auto first = *std::min_element(start.begin(), start.end());
    auto last = *std::max_element(end.begin(), end.end());
    return std::chrono::duration<double>(last - first).count();
}

}  // namespace

std::string fma_peak_isa(const std::string &max_isa) {
    __builtin_cpu_init();
    if (max_isa != "avx2" && __builtin_cpu_supports("avx512f")) return "avx512";
    return "avx2";
}

FmaPeak measure_fma_peak(int threads, const std::string &max_isa, int runs, double seconds_per_run) {
    threads = std::max(threads, 1);
    FmaPeak peak;
    peak.isa = fma_peak_isa(max_isa);
    const Kernel k = kernel_for(peak.isa);
    // Calibrate the iteration count on one thread so each run lasts about
    // seconds_per_run (long enough for the clock to ramp up and settle).
    int64_t iterations = 1 << 20;
    const double probe = timed_run(k, 1, iterations);
    iterations = std::max<int64_t>(iterations, int64_t(iterations * seconds_per_run / std::max(probe, 1e-6)));
    for (int r = 0; r < runs; r++) {
        const double seconds = timed_run(k, threads, iterations);
        peak.gflops = std::max(peak.gflops, k.flops_per_iteration * iterations * threads / seconds / 1e9);
    }
    return peak;
}

}  // namespace bench
