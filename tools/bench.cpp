// convpipe bench: steady-state time of one pipeline on given shapes. Inputs
// and outputs are allocated once and reused (fresh pages are expensive);
// weights given at run time are random and bound (Pipeline::bind), so they
// are in place, packed once, as a network's weights would be.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <random>

#include "commands.h"

namespace convpipe::cli {

namespace {

Tensor random_tensor(const Shape &shape, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    Tensor t(shape);
    for (float &v : t.values()) v = uniform(rng);
    return t;
}

struct BenchArgs {
    std::string target, shape, device = "auto", schedule, isa = "auto";
    int threads = 0;
    double seconds = 1.0;
    bool json = false;
};

int run_bench(const BenchArgs &a) {
    if (a.threads < 0) throw SpecError("--threads: expected 0 or more");
    if (a.seconds <= 0 || a.seconds > 600) throw SpecError("--seconds: expected a time from 0 to 600");
    set_num_threads(a.threads);
    set_cpu_isa_limit(a.isa);
    Pipeline p = open_pipeline(a.target, parse_device(a.device), a.schedule);
    const graph::Graph &g = p.graph();
    Shape data = parse_shape(a.shape);
    std::vector<graph::Value> call = g.call_inputs();
    std::vector<Tensor> inputs;
    std::vector<Shape> shapes;
    for (size_t i = 0; i < call.size(); i++) {
        Shape s = i < g.inputs.size() ? data : call[i].shape;
        if (i < g.inputs.size() && s[3] != call[i].shape[3])
            throw SpecError("--shape: pipeline '" + g.name + "' input '" + call[i].name + "' has " +
                            std::to_string(call[i].shape[3]) + " channels, --shape gives " + std::to_string(s[3]));
        Tensor t = random_tensor(s, 17 + static_cast<uint32_t>(i));
        if (i < g.inputs.size()) inputs.push_back(std::move(t));
        else p.bind(call[i].name, t);
        shapes.push_back(s);
    }
    double flops = g.flops(shapes);

    // Warm up (first call allocates outputs and lets caches settle), then
    // take samples of about 20 ms each until the time budget is spent.
    std::vector<Tensor> outputs;
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    p.run_into(inputs, outputs);
    p.run_into(inputs, outputs);
    double one = std::chrono::duration<double>(clock::now() - t0).count() / 2;
    int per_sample = std::max(1, static_cast<int>(0.02 / std::max(one, 1e-7)));
    std::vector<double> samples;
    auto start = clock::now();
    while (samples.size() < 5 ||
           (std::chrono::duration<double>(clock::now() - start).count() < a.seconds && samples.size() < 1000)) {
        auto s0 = clock::now();
        for (int i = 0; i < per_sample; i++) p.run_into(inputs, outputs);
        samples.push_back(std::chrono::duration<double>(clock::now() - s0).count() / per_sample);
    }
    std::sort(samples.begin(), samples.end());
    double median = samples[samples.size() / 2], best = samples.front();
    double gflops = flops / median / 1e9;
    int threads = num_threads_setting();
    if (a.json) {
        std::cout << std::setprecision(6) << "{\"pipeline\": \"" << g.name << "\", \"shape\": [" << data[0] << ", "
                  << data[1] << ", " << data[2] << ", " << data[3] << "], \"threads\": " << threads
                  << ", \"device\": \"" << device_name(p.device()) << "\", \"isa\": \"" << last_cpu_isa()
                  << "\", \"median_ms\": " << median * 1e3 << ", \"min_ms\": " << best * 1e3
                  << ", \"gflops\": " << gflops << ", \"samples\": " << samples.size() << "}\n";
    } else {
        std::cout << g.name << " " << shape_to_string(data) << " on " << threads << " thread"
                  << (threads == 1 ? "" : "s") << " (" << p.description() << ")\n"
                  << std::fixed << std::setprecision(4) << "  median " << median * 1e3 << " ms, best "
                  << best * 1e3 << " ms, " << std::setprecision(1) << gflops << " GFLOP/s over " << samples.size()
                  << " samples of " << per_sample << " runs\n";
    }
    return 0;
}

}  // namespace

void add_bench_command(CLI::App &app, Commands &commands) {
    auto args = std::make_shared<BenchArgs>();
    auto *bench = app.add_subcommand("bench", "Time a pipeline in steady state (median of samples)");
    bench->add_option("pipeline", args->target, "NAME of a linked pipeline, or SPEC.json")->required();
    bench->add_option("--shape", args->shape, "N,H,W,C of the data input")->required();
    bench->add_option("--device", args->device, "auto, cpu or cuda")->capture_default_str();
    bench->add_option("--threads", args->threads, "worker threads (0: one per core)")->capture_default_str();
    bench->add_option("--schedule", args->schedule, "schedule file to use instead of the heuristic (spec only)");
    bench->add_option("--isa", args->isa, "highest x86 variant to run: auto, avx512_sapphirerapids, avx512, avx2, sse41")->capture_default_str();
    bench->add_option("--seconds", args->seconds, "time budget for the measurement")->capture_default_str();
    bench->add_flag("--json", args->json, "print one JSON object");
    bench->callback([&commands, args] { commands.run = [args] { return run_bench(*args); }; });
}

}  // namespace convpipe::cli
