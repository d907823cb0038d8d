// A warm run_into with unchanged shapes allocates nothing: no operator new,
// and no fresh memory for Halide's intermediate buffers; and no pipeline
// reads a buffer where it did not write. Its own binary, because it
// replaces the global operator new to count.
#include <gtest/gtest.h>
#include <xmmintrin.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "convpipe/notation.h"
#include "halide_buffers.h"
#include "reference/reference.h"
#include "test_support.h"

namespace {
std::atomic<uint64_t> g_news{0};
}

void *operator new(std::size_t n) {
    g_news++;
    if (void *p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }

using namespace convpipe;
namespace fs = std::filesystem;

namespace {

constexpr unsigned kDenormalFlag = 0x0002;   // MXCSR.DE: an operand was denormal
constexpr uint32_t kSmallestDenormal = 0x00000001u;

// Small buffers of a fixed size Halide keeps on the stack: fill the stack
// below this frame, where the pipeline's frames will lie, with the bits too.
__attribute__((noinline)) void fill_stack(uint32_t bits) {
    volatile uint32_t area[64 * 1024];   // volatile: the writes stay
    for (size_t i = 0; i < sizeof(area) / sizeof(area[0]); i++) area[i] = bits;
}

}  // namespace

TEST(Allocations, WarmRunIntoAllocatesNothing) {
    // One worker: with several, how many intermediate buffers are live at
    // once depends on how tasks interleave, so the cache of freed buffers
    // may need a few more runs to reach its high-water mark.
    // A multi-layer pipeline with intermediates, two outputs, and run-time
    // weights; and a single-layer one.
    for (const char *name : {"aot_chain", "aot_k3_same_tanh", "aot_simple_ops"}) {
        set_num_threads(1);
        Pipeline p = Pipeline::open(name);
        graph::Graph g = p.graph();
        std::vector<Tensor> inputs = tests::random_call_inputs(g, {2, 33, 47, g.inputs[0].shape[3]}, 5);
        std::vector<Tensor> outputs;
        p.run_into(inputs, outputs);
        p.run_into(inputs, outputs);
        uint64_t news = g_news.load(), fresh = detail::halide_fresh_allocations();
        for (int i = 0; i < 10; i++) p.run_into(inputs, outputs);
        EXPECT_EQ(g_news.load() - news, 0u) << name << ": operator new in steady state";
        EXPECT_EQ(detail::halide_fresh_allocations() - fresh, 0u) << name << ": fresh Halide buffers in steady state";
        set_num_threads(0);
        // And the numbers are still right.
        std::vector<Tensor> expected = reference::run(g, inputs);
        for (size_t i = 0; i < outputs.size(); i++) tests::expect_close(outputs[i], expected[i], name);
    }
}

// Pipelines compiled in process (convpipe run|bench SPEC, bench_layers) take
// their intermediate buffers from the same cache: fresh blocks on the first
// run (so the JIT does use it), none after.
TEST(Allocations, JitIntermediatesAreReused) {
    set_num_threads(1);
    Pipeline p = compile_spec((tests::specs_root() / "aot_chain.json").string());
    graph::Graph g = p.graph();
    // Larger than the other test's images, so no block it left in the cache fits.
    std::vector<Tensor> inputs = tests::random_call_inputs(g, {1, 96, 96, g.inputs[0].shape[3]}, 3);
    std::vector<Tensor> outputs;
    const uint64_t before = detail::halide_fresh_allocations();
    p.run_into(inputs, outputs);
    EXPECT_GT(detail::halide_fresh_allocations(), before) << "the JIT's intermediates bypass the block cache";
    p.run_into(inputs, outputs);
    const uint64_t warm = detail::halide_fresh_allocations();
    for (int i = 0; i < 10; i++) p.run_into(inputs, outputs);
    EXPECT_EQ(detail::halide_fresh_allocations() - warm, 0u) << "fresh blocks for the JIT in steady state";
    set_num_threads(0);
    std::vector<Tensor> expected = reference::run(g, inputs);
    for (size_t i = 0; i < outputs.size(); i++) tests::expect_close(outputs[i], expected[i], "aot_chain (JIT)");
}

// No pipeline reads memory it did not write. Every buffer Halide takes,
// and the stack below the caller, is filled with the smallest denormal
// float first; arithmetic on a denormal operand sets the denormal flag (DE)
// of MXCSR, so a schedule that sums an uncomputed part of a buffer (even
// into lanes or columns it never stores) is caught, where the outputs
// alone would not show it. Such reads cost microcode assists wherever
// stale memory happens to hold denormals (old pointers do). The data is
// random and the activation relu, so the pipeline's own numbers never go
// denormal. One thread: MXCSR is per thread.
TEST(Allocations, PipelinesReadOnlyMemoryTheyWrote) {
    struct Case {
        const char *layer;    // convpipe/notation.h
        const char *params;   // schedule parameters, "" for the heuristic's
    };
    const Case cases[] = {
        // Guarded last column blocks over a padded copy: per row task, and
        // once for all the channel tasks; filters padded past a vector.
        {"1x28x28x40->20 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 12, "rows": 7})"},
        {"1x20x20x40->20 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "rows": 5})"},
        {"1x17x17x32->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 12, "parallel_channels": true, "rows": 0})"},
        {"2x11x13x16->32 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 4, "rows": 3})"},
        {"1x9x11x32->32 5x5 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 4, "rows": 3})"},
        // Flat positions (a short last block), row accumulators, a stem,
        // depthwise read in place, and the heuristic's picks.
        {"1x7x7x64->128 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        {"1x12x12x16->16 3x3", R"({"accumulate": "rows", "rows": 4})"},
        {"1x30x30x3->20 3x3 s2", ""},
        {"1x13x13x16->16 3x3 dw", ""},
        {"1x20x20x40->20 3x3", ""},
        {"1x19x19x48->80 1x1", ""},
        {"1x14x14x128->100 3x3", ""},
    };
    set_num_threads(1);
    detail::fill_halide_buffers(kSmallestDenormal);
    for (const Case &c : cases) {
        graph::Graph g = graph::parse_conv_notation(c.layer, "conv");
        CompileOptions options;
        const std::string what = std::string(c.layer) + " " + c.params;
        if (*c.params) {
            fs::path file = fs::path(::testing::TempDir()) /
                            ("filled_" + std::to_string(std::hash<std::string>{}(what)) + ".json");
            std::ofstream(file) << R"({"layers": {"conv": )" << c.params << "}}";
            options.schedule_file = file.string();
        }
        Pipeline p = compile_graph(g, options);
        std::vector<Tensor> inputs = tests::random_call_inputs(g, g.inputs[0].shape, 9);
        std::vector<Tensor> outputs;
        p.run_into(inputs, outputs);   // the first run: fresh blocks and packing
        fill_stack(kSmallestDenormal);
        _mm_setcsr(_mm_getcsr() & ~kDenormalFlag);
        p.run_into(inputs, outputs);
        const bool denormal = (_mm_getcsr() & kDenormalFlag) != 0;
        EXPECT_FALSE(denormal) << what << ": read a buffer where it had not written";
        tests::expect_close(outputs.at(0), reference::run(g, inputs).at(0), what);
    }
    detail::fill_halide_buffers(0);
    set_num_threads(0);
}
