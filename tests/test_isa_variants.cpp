// Every x86 variant (SSE4.1, AVX2+FMA, AVX-512 for Skylake and for Sapphire
// Rapids) of every test pipeline, forced in turn, against the reference. Its
// own binary, without libHalide (only the runtime and the generated
// libraries), so that it can also be copied to and run on a machine with
// AVX-512 when this one has none.
#include <gtest/gtest.h>

#include "convpipe/convpipe.h"
#include "reference/reference.h"
#include "test_support.h"

using namespace convpipe;

namespace {

bool cpu_has(const std::string &isa) {
    if (isa == "avx512_sapphirerapids")
        return cpu_has("avx512") && __builtin_cpu_supports("avx512ifma") && __builtin_cpu_supports("avx512vbmi") &&
               __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avxvnni") &&
               __builtin_cpu_supports("avx512fp16");
    if (isa == "avx512")
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512cd");
    if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return __builtin_cpu_supports("sse4.1");
}

// The linked test pipelines: tests/specs, all with weights given at run time.
std::vector<std::string> test_pipelines() {
    std::vector<std::string> names;
    for (const LinkedPipeline &lp : linked_pipelines())
        if (lp.name.rfind("aot_", 0) == 0) names.push_back(lp.name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

class IsaVariants : public ::testing::TestWithParam<std::string> {};

TEST_P(IsaVariants, EveryVariantMatchesReference) {
    Pipeline p = Pipeline::open(GetParam(), Device::CPU);
    const graph::Graph &g = p.graph();
    int64_t smallest = tests::smallest_valid_size(g);
    int ran = 0;
    for (std::string isa : {"sse41", "avx2", "avx512", "avx512_sapphirerapids"}) {
        if (!cpu_has(isa)) {
            std::cout << "[ note ] this CPU has no " << isa << "; that variant was not run\n";
            continue;
        }
        set_cpu_isa_limit(isa);
        for (Shape shape : {Shape{1, smallest, smallest, g.inputs[0].shape[3]}, Shape{2, smallest + 9, smallest + 14, g.inputs[0].shape[3]}}) {
            std::vector<Tensor> inputs = tests::random_call_inputs(g, shape, 11);
            std::vector<Tensor> expected = reference::run(g, inputs);
            std::vector<Tensor> actual = p.run(inputs);
            EXPECT_EQ(last_cpu_isa(), isa) << "the " << isa << " variant did not run";
            for (size_t i = 0; i < actual.size(); i++)
                tests::expect_close(actual[i], expected[i], isa + " " + g.name + " " + shape_to_string(shape) + " " + g.outputs[i]);
        }
        ran++;
    }
    set_cpu_isa_limit("auto");
    EXPECT_GE(ran, 2) << "any x86-64 CPU this project targets runs at least the SSE4.1 and AVX2 variants";
}

INSTANTIATE_TEST_SUITE_P(Specs, IsaVariants, ::testing::ValuesIn(test_pipelines()),
                         [](const auto &info) { return info.param; });

// Bound weights are packed for the block of the variant that runs: switching
// variants between calls (AVX2 blocks of 8 filters, SSE4.1 of 4, AVX-512 of
// 16) repacks them rather than feeding one variant another's layout.
TEST(IsaVariantsBound, SwitchingVariantsRepacksBoundWeights) {
    Pipeline p = Pipeline::open("aot_packed", Device::CPU);
    const graph::Graph &g = p.graph();
    std::vector<graph::Value> call = g.call_inputs();
    std::vector<Tensor> inputs = tests::random_call_inputs(g, Shape{1, 9, 8, g.inputs[0].shape[3]}, 21);
    for (size_t i = 1; i < call.size(); i++) p.bind(call[i].name, inputs[i]);
    std::vector<Tensor> expected = reference::run(g, inputs);
    for (std::string isa : {"sse41", "avx2", "avx512", "avx512_sapphirerapids", "sse41", "auto"}) {
        if (isa != "auto" && !cpu_has(isa)) continue;
        set_cpu_isa_limit(isa);
        std::vector<Tensor> actual = p.run({inputs[0]});
        for (size_t i = 0; i < actual.size(); i++) tests::expect_close(actual[i], expected[i], "bound, " + isa);
    }
    set_cpu_isa_limit("auto");
}
