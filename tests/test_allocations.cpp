// A warm run_into with unchanged shapes allocates nothing: no operator new,
// and no fresh memory for Halide's intermediate buffers. Its own binary,
// because it replaces the global operator new to count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
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
