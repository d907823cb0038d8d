// Run-time failures are convpipe::Errors a user can act on; nothing aborts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "convpipe/registry.h"
#include "halide_buffers.h"
#include "reference/reference.h"
#include "registry_table.h"

using namespace convpipe;
using ::testing::HasSubstr;

namespace {

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(RuntimeErrors, UnknownPipelineListsLinkedOnes) {
    std::string e = error_of([] { Pipeline::open("no_such_pipeline"); });
    EXPECT_THAT(e, HasSubstr("unknown pipeline 'no_such_pipeline' (linked: "));
    EXPECT_THAT(e, HasSubstr("edges"));
}

TEST(RuntimeErrors, WrongChannelCount) {
    Pipeline p = Pipeline::open("edges");
    EXPECT_THAT(error_of([&] { p.run({Tensor({1, 8, 8, 3})}); }),
                HasSubstr("edges: input 'image' must have NHWC shape [-1, -1, -1, 1] (-1: any size), got [1, 8, 8, 3]"));
}

TEST(RuntimeErrors, TooSmallForValidWindow) {
    Pipeline p = Pipeline::open("aot_k7_s2_gelu");  // 'same': any size works
    EXPECT_NO_THROW(p.run({Tensor({1, 1, 1, 3}), Tensor({7, 7, 3, 24}), Tensor({24})}));
    Pipeline q = Pipeline::open("aot_k6_selu");
    EXPECT_THAT(error_of([&] { q.run({Tensor({1, 5, 9, 2}), Tensor({6, 6, 2, 1}), Tensor({1})}); }),
                HasSubstr("layer 'conv' needs at least 6x6 pixels for its 'valid' 6x6 window, got 5x9"));
}

TEST(RuntimeErrors, WrongInputCountAndRank) {
    Pipeline p = Pipeline::open("aot_k6_selu");
    EXPECT_THAT(error_of([&] { p.run({Tensor({1, 8, 8, 2})}); }),
                HasSubstr("takes 3 inputs (image, conv.kernel, conv.bias), got 1"));
    EXPECT_THAT(error_of([&] { p.run({Tensor({64}), Tensor({6, 6, 2, 1}), Tensor({1})}); }),
                HasSubstr("must be 2-D (HW), 3-D (HWC) or 4-D (NHWC), got shape [64]"));
    EXPECT_THAT(error_of([&] { p.run({Tensor({1, 8, 8, 2}), Tensor({6, 6, 1, 2}), Tensor({1})}); }),
                HasSubstr("input 'conv.kernel' must have shape [6, 6, 2, 1]"));
    EXPECT_THAT(error_of([&] { p.run({Tensor(), Tensor({6, 6, 2, 1}), Tensor({1})}); }), HasSubstr("is empty"));
}

TEST(RuntimeErrors, CudaWithoutABuildOrDevice) {
    EXPECT_THAT(error_of([] { Pipeline::open("edges", Device::CUDA); }), HasSubstr("has no CUDA build"));
    graph::Graph g = graph::load_spec(std::string(CONVPIPE_SOURCE_DIR) + "/pipelines/edges.json");
    CompileOptions cuda;
    cuda.device = Device::CUDA;
    EXPECT_THAT(error_of([&] { compile_graph(g, cuda); }), HasSubstr("in-process compilation targets the CPU only"));
}

TEST(RuntimeErrors, HalideErrorsBecomeMessagesNotAborts) {
    // Call the generated library directly with a buffer that breaks its
    // promises (3 channels where the spec fixes 1): Halide's own check fails
    // and its text must come back through our error handler.
    const detail::Registry::Entry *entry = detail::find_registration("edges");
    ASSERT_NE(entry, nullptr);
    Tensor bad({1, 4, 4, 3});
    std::vector<Tensor> out{Tensor({1, 4, 4, 1})};
    detail::BufferSet in({&bad}, {bad.shape()});
    detail::BufferSet outs(out);
    detail::ErrorSink sink;
    int rc = entry->reg->variants[entry->reg->variant_count - 1].entry(&sink, in.pointers(), outs.pointers());
    EXPECT_NE(rc, 0);
    EXPECT_THAT(sink.text(), HasSubstr("image"));
}

TEST(RuntimeErrors, BadThreadAndIsaSettings) {
    EXPECT_THAT(error_of([] { set_num_threads(-1); }), HasSubstr("set_num_threads"));
    EXPECT_THAT(error_of([] { set_cpu_isa_limit("neon"); }), HasSubstr("unknown ISA 'neon'"));
}

TEST(Threads, ResultsDoNotDependOnThreadCount) {
    Pipeline p = Pipeline::open("aot_nobias_linear");
    std::vector<Tensor> in{reference::random_tensor({2, 13, 17, 16}, 5), reference::random_tensor({3, 3, 16, 64}, 6)};
    set_num_threads(1);
    std::vector<Tensor> one = p.run(in);
    set_num_threads(2);
    std::vector<Tensor> two = p.run(in);
    set_num_threads(0);
    EXPECT_EQ(one[0].values(), two[0].values());
}
