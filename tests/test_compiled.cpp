// Compiled pipelines against the oracles: golden Keras data for every golden
// spec (AOT library and JIT), and the reference implementation on random
// shapes and weights for the test specs in tests/specs (AOT, every ISA
// variant, and JIT).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <gmock/gmock.h>

#include "Halide.h"
#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "convpipe/notation.h"
#include "reference/reference.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;
using namespace convpipe::tests;

namespace {

void expect_matches_golden(Pipeline &p, const std::string &name, const std::string &how) {
    fs::path dir = golden_root() / name;
    Tensor input = load_npy((dir / "input.npy").string());
    std::vector<Tensor> expected = load_expected(dir);
    std::vector<Tensor> actual = p.run({input});
    ASSERT_EQ(actual.size(), expected.size()) << name;
    for (size_t i = 0; i < actual.size(); i++) expect_close(actual[i], expected[i], how + " " + name + " output " + std::to_string(i));
}

std::vector<std::string> test_specs() {
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(specs_root()))
        if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// A few random shapes per pipeline: batch 1-3, odd and even sizes, and the
// smallest size the pipeline accepts (narrower than any register tile).
std::vector<Shape> random_shapes(const graph::Graph &g, uint32_t seed) {
    std::mt19937 rng(seed);
    int64_t smallest = smallest_valid_size(g);
    int64_t c = g.inputs[0].shape[3];
    std::vector<Shape> shapes{{1, smallest, smallest, c}};
    for (int i = 0; i < 3; i++) {
        int64_t n = 1 + rng() % 3;
        int64_t h = smallest + rng() % 17, w = smallest + rng() % 23;
        shapes.push_back({n, h, w, c});
    }
    return shapes;
}

void expect_matches_reference(Pipeline &p, const graph::Graph &g, uint32_t seed, const std::string &how) {
    for (const Shape &shape : random_shapes(g, seed)) {
        std::vector<Tensor> inputs = random_call_inputs(g, shape, seed);
        std::vector<Tensor> expected = reference::run(g, inputs);
        std::vector<Tensor> actual = p.run(inputs);
        ASSERT_EQ(actual.size(), expected.size());
        for (size_t i = 0; i < actual.size(); i++)
            expect_close(actual[i], expected[i],
                         how + " " + g.name + " input " + shape_to_string(shape) + " output " + g.outputs[i]);
    }
}

}  // namespace

class GoldenCompiled : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCompiled, AotMatchesKeras) {
    Pipeline p = Pipeline::open(GetParam(), Device::CPU);
    expect_matches_golden(p, GetParam(), "AOT");
}

TEST_P(GoldenCompiled, JitMatchesKeras) {
    Pipeline p = compile_spec((golden_root() / GetParam() / "spec.json").string());
    expect_matches_golden(p, GetParam(), "JIT");
}

INSTANTIATE_TEST_SUITE_P(Keras, GoldenCompiled, ::testing::ValuesIn(golden_cases()),
                         [](const auto &info) { return info.param; });

class SpecCompiled : public ::testing::TestWithParam<std::string> {
protected:
    graph::Graph spec() const { return graph::load_spec((specs_root() / (GetParam() + ".json")).string()); }
};

TEST_P(SpecCompiled, AotMatchesReference) {
    Pipeline p = Pipeline::open(GetParam(), Device::CPU);
    expect_matches_reference(p, spec(), 7, "AOT");
}

TEST_P(SpecCompiled, JitMatchesReference) {
    Pipeline p = compile_spec((specs_root() / (GetParam() + ".json")).string());
    expect_matches_reference(p, spec(), 13, "JIT");
}

INSTANTIATE_TEST_SUITE_P(Specs, SpecCompiled, ::testing::ValuesIn(test_specs()),
                         [](const auto &info) { return info.param; });

TEST(RunInto, ReusesOutputStorage) {
    Pipeline p = Pipeline::open("aot_chain");
    graph::Graph g = graph::load_spec((specs_root() / "aot_chain.json").string());
    std::vector<Tensor> inputs = random_call_inputs(g, {2, 9, 10, 4}, 3);
    std::vector<Tensor> outs;
    p.run_into(inputs, outs);
    std::vector<const float *> before;
    for (const Tensor &t : outs) before.push_back(t.data());
    p.run_into(inputs, outs);
    for (size_t i = 0; i < outs.size(); i++) EXPECT_EQ(outs[i].data(), before[i]) << "output " << i << " was reallocated";
    std::vector<Tensor> expected = reference::run(g, inputs);
    for (size_t i = 0; i < outs.size(); i++) expect_close(outs[i], expected[i], "run_into output " + std::to_string(i));
}

TEST(RunInto, AcceptsHwAndHwcInputs) {
    Pipeline p = Pipeline::open("edges");
    Tensor hw = reference::random_tensor({5, 7}, 1);
    Tensor nhwc = hw.reshaped({1, 5, 7, 1});
    std::vector<Tensor> a = p.run({hw}), b = p.run({nhwc}), c = p.run({hw.reshaped({5, 7, 1})});
    expect_close(a[0], b[0], "HW vs NHWC", 0);
    expect_close(c[0], b[0], "HWC vs NHWC", 0);
    // The edge filter by hand at the last row, where 'same' pads below.
    EXPECT_EQ(shape_to_string(a[0].shape()), "[1, 5, 7, 1]");
}

// The JIT runs on libHalide's own thread pool, not the AOT runtime's: a
// set_num_threads() after compilation must still reach it.
TEST(Jit, FollowsSetNumThreads) {
    Pipeline p = compile_spec((specs_root() / "aot_chain.json").string());
    std::vector<Tensor> inputs = random_call_inputs(p.graph(), {1, 9, 10, 4}, 5);
    for (int threads : {1, 3, 2}) {
        set_num_threads(threads);
        p.run(inputs);
        EXPECT_EQ(Halide::Internal::JITSharedRuntime::get_num_threads(), threads);
    }
    set_num_threads(0);
    expect_matches_reference(p, p.graph(), 22, "JIT after thread count changes");
}

TEST(Schedules, FileReplacesHeuristicInAotBuild) {
    Pipeline p = Pipeline::open("aot_k3_same_tanh");
    EXPECT_THAT(p.description(), ::testing::HasSubstr("schedule: aot_k3_same_tanh.json"));
    bool listed = false;
    for (const LinkedPipeline &lp : linked_pipelines())
        if (lp.name == "aot_k3_same_tanh") listed = lp.schedule_origin == "aot_k3_same_tanh.json";
    EXPECT_TRUE(listed);
    EXPECT_THAT(Pipeline::open("aot_k6_selu").description(), ::testing::HasSubstr("schedule: heuristic"));
}

TEST(Schedules, FileReplacesHeuristicInJit) {
    std::string spec = (specs_root() / "aot_k3_same_tanh.json").string();
    std::string file = (source_dir() / "tests" / "schedules" / "x86" / "aot_k3_same_tanh.json").string();
    CompileOptions options;
    options.schedule_file = file;
    Pipeline p = compile_spec(spec, options);
    EXPECT_THAT(p.description(), ::testing::HasSubstr(file));
    expect_matches_reference(p, p.graph(), 21, "JIT with schedule file");
    std::string described = describe_schedule(p.graph(), file);
    EXPECT_THAT(described, ::testing::HasSubstr("\"chunk_c\":4"));
    EXPECT_THAT(described, ::testing::HasSubstr("(schedule file)"));
}

TEST(Schedules, BadFilesAreRefused) {
    graph::Graph g = graph::load_spec((specs_root() / "aot_k3_same_tanh.json").string());
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_schedules";
    fs::create_directories(dir);
    auto error_of = [&](const std::string &text) -> std::string {
        std::string path = (dir / "s.json").string();
        std::ofstream(path) << text;
        CompileOptions options;
        options.schedule_file = path;
        try {
            compile_graph(g, options);
        } catch (const SpecError &e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_THAT(error_of(R"({"layers": {"nope": {}}})"), ::testing::HasSubstr("layers.nope: pipeline 'aot_k3_same_tanh' has no such layer"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"tile": 4}}})"), ::testing::HasSubstr("unknown schedule parameter 'tile'"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"block_x": 0}}})"), ::testing::HasSubstr("conv.block_x: expected an integer from 1 to 32, got 0"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"vectorize": "y"}}})"), ::testing::HasSubstr("expected \"c\" or \"x\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"block_y": 2, "accumulate": "rows"}}})"),
                ::testing::HasSubstr("conv.block_y: register blocks of several rows need \"accumulate\": \"tile\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"block_y": 9}}})"), ::testing::HasSubstr("conv.block_y: expected an integer from 1 to 8"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"accumulate": "rows", "channels_inner": true}}})"),
                ::testing::HasSubstr("conv.channels_inner: needs \"accumulate\": \"tile\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"channels_inner": 1}}})"),
                ::testing::HasSubstr("conv.channels_inner: expected true or false, got 1"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"accumulate": "rows", "flat_positions": true}}})"),
                ::testing::HasSubstr("conv.flat_positions: needs \"accumulate\": \"tile\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"accumulate": "tile", "kernel_rows_outer": true}}})"),
                ::testing::HasSubstr("conv.kernel_rows_outer: needs \"flat_positions\": true"));
    // 16 input channels: a step of 3 would leave a part step.
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"accumulate": "tile", "channels_per_step": 3}}})"),
                ::testing::HasSubstr("conv.channels_per_step: 3 does not divide the layer's 16 input channels per group"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"accumulate": "rows", "channels_per_step": 2}}})"),
                ::testing::HasSubstr("conv.channels_per_step: needs \"accumulate\": \"tile\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"channels_per_step": 65}}})"),
                ::testing::HasSubstr("conv.channels_per_step: expected an integer from 0 to 64, got 65"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"vector_floats": 12}}})"),
                ::testing::HasSubstr("conv.vector_floats: expected 0 (the target's), 4, 8 or 16, got 12"));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"pad": "zeros"}}})"),
                ::testing::HasSubstr("conv.pad: expected \"copy\" or \"in_place\", got \"zeros\""));
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"compute_at": "inline"}}})"),
                ::testing::HasSubstr("conv.compute_at: expected \"root\" or \"consumer\""));
    // The pipeline's output has no consumer to be computed inside.
    EXPECT_THAT(error_of(R"({"layers": {"conv": {"compute_at": "consumer"}}})"),
                ::testing::HasSubstr("conv.compute_at: \"consumer\" needs a layer that is not a pipeline output"));
    EXPECT_THAT(error_of("{"), ::testing::HasSubstr("invalid JSON"));
    EXPECT_THAT(error_of("[]"), ::testing::HasSubstr("expected an object with \"layers\""));
}

// Every knob of the x86 Conv2D template keeps the numbers: each variant,
// compiled in-process, against the reference.
class TemplateVariants : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(TemplateVariants, MatchReference) {
    auto [spec_name, params] = GetParam();
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_variants";
    fs::create_directories(dir);
    std::string file = (dir / (spec_name + std::to_string(std::hash<std::string>{}(params)) + ".json")).string();
    std::ofstream(file) << R"({"layers": {"conv": )" << params << "}}";
    CompileOptions options;
    options.schedule_file = file;
    Pipeline p = compile_spec((specs_root() / (spec_name + ".json")).string(), options);
    expect_matches_reference(p, p.graph(), 31, "JIT " + params);
}

INSTANTIATE_TEST_SUITE_P(
    Knobs, TemplateVariants,
    ::testing::Values(
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "tile", "block_c": 2, "block_x": 4})"),
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "rows", "rows": 0, "chunk_c": 8, "pack_weights": true})"),
        std::make_pair("aot_k3_same_tanh", R"({"vectorize": "x", "block_x": 2, "rows": 3})"),
        std::make_pair("aot_groups_swish", R"({"accumulate": "tile", "block_x": 7, "parallel": false})"),
        std::make_pair("aot_groups_swish", R"({"rows": 5, "chunk_c": 1, "pack_weights": true})"),
        std::make_pair("aot_k7_s2_gelu", R"({"accumulate": "rows", "block_c": 3, "block_x": 2, "rows": 2, "chunk_c": 1})"),
        std::make_pair("aot_k1_relu", R"({"accumulate": "tile", "block_c": 4, "block_x": 3})"),
        std::make_pair("aot_nobias_linear", R"({"accumulate": "tile", "pack_weights": true, "parallel_channels": true, "rows": 3})"),
        std::make_pair("aot_nobias_linear", R"({"accumulate": "rows", "pack_weights": true, "block_c": 3, "rows": 2})"),
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "tile", "pack_weights": true, "parallel_channels": true, "rows": 0})"),
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "tile", "block_c": 2, "block_x": 2, "block_y": 2, "rows": 4})"),
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "tile", "block_x": 3, "block_y": 3, "rows": 4, "pack_weights": true})"),
        std::make_pair("aot_k7_s2_gelu", R"({"accumulate": "tile", "block_x": 2, "block_y": 2, "parallel_channels": true, "rows": 0})"),
        std::make_pair("aot_groups_swish", R"({"accumulate": "tile", "block_y": 2, "rows": 3})"),
        std::make_pair("aot_depthwise_softplus", R"({"vectorize": "c", "accumulate": "tile", "block_c": 1, "block_x": 3, "block_y": 2, "rows": 4})"),
        std::make_pair("aot_k1_relu", R"({"accumulate": "tile", "block_c": 3, "block_x": 2, "block_y": 2, "rows": 2})"),
        std::make_pair("aot_depthwise_softplus", R"({"vectorize": "c", "accumulate": "tile", "block_x": 4, "pad": "in_place"})"),
        std::make_pair("aot_k3_s2_relu6", R"({"accumulate": "rows", "pad": "in_place"})"),
        std::make_pair("aot_k4_s3_leaky", R"({"vectorize": "x", "pad": "in_place"})"),
        std::make_pair("aot_depthwise_softplus", R"({"vectorize": "c", "accumulate": "tile", "block_x": 3, "channels_inner": true})"),
        std::make_pair("aot_k3_same_tanh", R"({"accumulate": "tile", "block_x": 2, "block_y": 2, "rows": 4, "channels_inner": true})"),
        std::make_pair("aot_groups_swish", R"({"accumulate": "tile", "parallel_channels": true, "channels_inner": true})")),
    [](const auto &info) { return "v" + std::to_string(info.index); });

// Register blocks over flat positions in a layer whose output another layer
// reads (its buffer's channels rounded up to whole blocks where the filters
// are padded), and a file asking for them on a width left to run time.
TEST(FlatPositions, IntermediateLayerMatchesReference) {
    const graph::Graph g = graph::parse_spec(
        R"({"name": "flat", "input": {"name": "x", "shape": [2, 9, 11, 16]}, "layers": [
            {"type": "Conv2D", "name": "head", "filters": 20, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Conv2D", "name": "conv", "filters": 16, "kernel_size": 3, "padding": "same"}]})",
        "flat", ".");
    const fs::path file = fs::path(::testing::TempDir()) / "flat_schedule.json";
    // The third: the head computed inside the flat layer's tasks.
    for (const char *head : {R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "parallel_channels": true, "rows": 0, "flat_positions": true})",
                             R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "rows": 3, "flat_positions": true})",
                             R"({"compute_at": "consumer"})"}) {
        std::ofstream(file) << R"({"layers": {"head": )" << head << R"(, "conv": {"flat_positions": true}}})";
        CompileOptions options;
        options.schedule_file = file.string();
        Pipeline p = compile_graph(g, options);
        std::vector<Tensor> inputs = random_call_inputs(g, g.inputs[0].shape, 3);
        expect_close(p.run(inputs).at(0), reference::run(g, inputs).at(0), head);
    }
    const graph::Graph any_width = graph::parse_spec(
        R"({"name": "flat_any", "input": {"name": "x", "shape": [1, null, null, 16]}, "layers": [
            {"type": "Conv2D", "name": "conv", "filters": 16, "kernel_size": 3, "padding": "same"}]})",
        "flat_any", ".");
    std::ofstream(file) << R"({"layers": {"conv": {"accumulate": "tile", "flat_positions": true}}})";
    CompileOptions options;
    options.schedule_file = file.string();
    EXPECT_THAT([&] {
        try {
            compile_graph(any_width, options);
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    }(),
                ::testing::HasSubstr("conv.flat_positions: needs an output width the spec fixes"));
}

// Lanes of input channels ("vectorize": "ci") where the sizes are left to
// run time, for a pipeline output (images smaller than a block included)
// and for a layer computed inside its consumer's tasks, against the
// reference.
TEST(InputLanes, MatchReferenceAtAnySize) {
    const graph::Graph g = graph::parse_spec(
        R"({"name": "lanes", "input": {"name": "x", "shape": [null, null, null, 32]}, "layers": [
            {"type": "Conv2D", "name": "head", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Conv2D", "name": "conv", "filters": 8, "kernel_size": 3, "padding": "same"}],
            "outputs": ["head", "conv"]})",
        "lanes", ".");
    const graph::Graph fused = graph::parse_spec(
        R"({"name": "lanes_fused", "input": {"name": "x", "shape": [null, null, null, 32]}, "layers": [
            {"type": "Conv2D", "name": "head", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Conv2D", "name": "conv", "filters": 8, "kernel_size": 3, "padding": "same"}]})",
        "lanes_fused", ".");
    const fs::path file = fs::path(::testing::TempDir()) / "lanes_schedule.json";
    for (const char *head : {R"({"vectorize": "ci"})", R"({"vectorize": "ci", "block_x": 3, "rows": 5})",
                             R"({"vectorize": "ci", "compute_at": "consumer"})"}) {
        const bool in_consumer = std::string(head).find("consumer") != std::string::npos;
        const graph::Graph &graph = in_consumer ? fused : g;
        std::ofstream(file) << R"({"layers": {"head": )" << head << "}}";
        CompileOptions options;
        options.schedule_file = file.string();
        Pipeline p = compile_graph(graph, options);
        for (const Shape &shape : {Shape{1, 1, 1, 32}, Shape{1, 2, 5, 32}, Shape{2, 17, 13, 32}}) {
            std::vector<Tensor> inputs = random_call_inputs(graph, shape, 5);
            const std::vector<Tensor> actual = p.run(inputs), expected = reference::run(graph, inputs);
            ASSERT_EQ(actual.size(), expected.size());
            for (size_t i = 0; i < actual.size(); i++)
                expect_close(actual[i], expected[i], std::string(head) + " " + shape_to_string(shape));
        }
    }
}

// Layers whose sizes the spec fixes, so Halide sees exact extents: reading
// the input in place ("pad": "in_place"), where Halide splits the loops into
// edge tiles and an interior without tests, at every edge (odd sizes, stride
// 2, a shifted last block, a channel block past the filters, several
// images), and the heuristic's own picks (stems, 'same' padding that pads
// nothing), against the reference.
struct FixedShapeCase {
    std::string layer;    // convpipe/notation.h: NxHxWxC->F KHxKW [sS] [dD] [gG|dw]
    std::string params;   // schedule parameters, or "" for the heuristic's
};

void PrintTo(const FixedShapeCase &c, std::ostream *os) { *os << c.layer << " " << c.params; }

class FixedShapeLayers : public ::testing::TestWithParam<FixedShapeCase> {};

TEST_P(FixedShapeLayers, MatchesReference) {
    const FixedShapeCase &c = GetParam();
    graph::Graph g = graph::parse_conv_notation(c.layer, "fixed");
    CompileOptions options;
    if (!c.params.empty()) {
        fs::path file = fs::path(::testing::TempDir()) /
                        ("fixed_" + std::to_string(std::hash<std::string>{}(c.layer + c.params)) + ".json");
        std::ofstream(file) << R"({"layers": {"conv": )" << c.params << "}}";
        options.schedule_file = file.string();
    }
    Pipeline p = compile_graph(g, options);
    std::vector<Tensor> inputs = random_call_inputs(g, g.inputs[0].shape, 7);
    expect_close(p.run(inputs).at(0), reference::run(g, inputs).at(0), c.layer + " " + c.params);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FixedShapeLayers,
    ::testing::Values(
        FixedShapeCase{"1x14x14x16->16 3x3 dw", R"({"accumulate": "tile", "block_x": 7, "pad": "in_place"})"},
        FixedShapeCase{"1x15x15x16->16 3x3 s2 dw", R"({"accumulate": "tile", "block_x": 4, "pad": "in_place"})"},
        FixedShapeCase{"1x7x7x32->32 3x3 dw", R"({"accumulate": "tile", "block_x": 7, "rows": 4, "pad": "in_place"})"},
        FixedShapeCase{"1x13x13x16->16 5x5 dw", R"({"accumulate": "tile", "block_x": 4, "pad": "in_place"})"},
        FixedShapeCase{"2x9x11x24->24 3x3 s2 dw", R"({"accumulate": "tile", "block_c": 2, "pad": "in_place"})"},
        FixedShapeCase{"1x12x12x16->16 3x3 d2 dw", R"({"accumulate": "tile", "block_x": 3, "pad": "in_place"})"},
        FixedShapeCase{"1x12x12x40->40 3x3 dw", R"({"accumulate": "tile", "block_x": 4, "pad": "in_place", "channels_inner": true})"},
        FixedShapeCase{"1x10x10x16->16 3x3 g8", R"({"accumulate": "tile", "block_x": 5, "pad": "in_place"})"},
        FixedShapeCase{"1x12x12x16->16 3x3", R"({"accumulate": "rows", "rows": 4, "pad": "in_place"})"},
        FixedShapeCase{"1x10x10x16->16 3x3", R"({"accumulate": "tile", "block_x": 5, "pad": "in_place"})"},
        FixedShapeCase{"1x12x12x4->3 3x3", R"({"vectorize": "x", "pad": "in_place"})"},
        FixedShapeCase{"1x28x28x32->32 3x3 s2 dw", ""},
        FixedShapeCase{"1x7x7x64->64 3x3 dw", ""},
        FixedShapeCase{"1x30x30x3->24 3x3 s2", ""},
        // Prime widths read in place, the last column block guarded.
        FixedShapeCase{"1x13x13x16->16 3x3 dw", ""},
        FixedShapeCase{"1x11x11x20->20 5x5 dw", ""},
        FixedShapeCase{"1x32x32x4->48 2x2 s2", ""},
        // Filters padded to whole register blocks (not a multiple of the
        // vector width): the heuristic's picks, and a last block with a
        // vector wholly past the filters.
        FixedShapeCase{"1x17x17x64->20 1x1", ""},
        FixedShapeCase{"1x9x11x16->20 3x3", ""},
        FixedShapeCase{"1x30x30x3->20 3x3 s2", ""},
        FixedShapeCase{"1x9x10x8->20 1x1", ""},
        FixedShapeCase{"1x7x7x32->36 1x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 7})"},
        // Two or three padded vectors in one block: 3 x 3, and 2 x 4 with a
        // guarded last column.
        FixedShapeCase{"1x9x9x64->18 1x1", ""},
        FixedShapeCase{"1x13x13x32->12 1x1", ""},
        // Register blocks over flat positions, across row ends: channel
        // tasks (49 positions, a last block of one), row tasks whose last
        // task is shifted, filters padded (a pipeline output's last vector
        // shifted; a masked part-vector), groups, dilation, stride, images.
        FixedShapeCase{"1x7x7x32->48 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "parallel_channels": true, "rows": 0, "flat_positions": true})"},
        FixedShapeCase{"2x13x13x16->16 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "rows": 3, "flat_positions": true})"},
        FixedShapeCase{"1x9x9x64->18 1x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "parallel_channels": true, "rows": 0, "flat_positions": true})"},
        FixedShapeCase{"1x6x13x16->20 1x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6, "rows": 2, "flat_positions": true})"},
        FixedShapeCase{"1x10x10x16->32 3x3 g2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 4, "rows": 4, "flat_positions": true})"},
        FixedShapeCase{"1x11x11x16->16 3x3 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 3, "parallel_channels": true, "rows": 0, "flat_positions": true})"},
        FixedShapeCase{"2x7x7x128->128 3x3", ""},   // the heuristic's flat 2 x 5 blocks, a task per image and block
        // Input channels per reduction step set by the file: 4 in flat
        // blocks across row ends, 8 in row blocks read in place, 3 of a
        // group's 24.
        FixedShapeCase{"1x7x7x32->48 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "parallel_channels": true, "rows": 0, "flat_positions": true, "channels_per_step": 4})"},
        FixedShapeCase{"1x10x10x24->32 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "rows": 5, "pad": "in_place", "channels_per_step": 8})"},
        FixedShapeCase{"1x9x9x48->32 3x3 g2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 9, "rows": 3, "channels_per_step": 3})"},
        // One vector of filters whose weights stream from L2 in blocks
        // wider than 16 columns (AVX-512's picks: a row of 20; 30 and a
        // guarded 17 over a width of 47, the filters padded to a vector),
        // and the same widths as files ask for on any target.
        FixedShapeCase{"1x6x20x40->16 7x7", ""},
        FixedShapeCase{"1x5x47x48->12 5x5", ""},
        FixedShapeCase{"1x5x47x48->12 5x5", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 30, "rows": 2})"},
        FixedShapeCase{"2x4x20x40->16 7x7", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 20, "pad": "in_place"})"},
        // Channel tasks in row blocks of a whole row, valid.
        FixedShapeCase{"1x10x11x32->64 3x3 valid", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 9, "parallel_channels": true, "rows": 0})"},
        // Channel tasks of half the rows each (an odd count of blocks).
        FixedShapeCase{"1x12x20x32->80 2x2 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 3})"},
        // One vector of filters (12, padded) over an input past 512 KB:
        // eight input channels per step (AVX-512), in the heuristic's blocks.
        FixedShapeCase{"1x24x24x256->12 3x3", ""},
        // A stem's guarded, unrolled column blocks with the window's columns
        // kept rolled (its step unrolls all three channels), read in place.
        FixedShapeCase{"1x20x20x3->24 5x5", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 13, "rows": 4, "pad": "in_place"})"},
        // Windows one column wide, filters padded, the last column block
        // guarded: columns past the image read clamped (never stored), read
        // in place or copied, at stride 1 and 2.
        FixedShapeCase{"1x6x20x40->20 3x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6, "rows": 2, "pad": "in_place"})"},
        FixedShapeCase{"2x7x21x24->20 5x1 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 4, "rows": 1, "pad": "in_place"})"},
        FixedShapeCase{"1x6x20x40->20 3x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6, "rows": 2, "pad": "copy"})"},
        // 9-15 filters over input channels in fours or eights: one padded
        // vector of 16 (AVX-512), the heuristic's picks.
        FixedShapeCase{"2x9x9x72->12 3x3", ""},
        FixedShapeCase{"1x12x12x4->9 5x5", ""},
        // 8 filters over sixteens of input channels in a short reduction:
        // vectors of 8 filters (AVX-512), the heuristic's picks.
        FixedShapeCase{"2x9x11x32->8 3x1", ""},
        FixedShapeCase{"1x5x7x64->8 1x1", ""},
        // A depthwise row narrower than 8 columns without padding: one
        // block of the row (the heuristic's pick).
        FixedShapeCase{"1x14x14x48->48 5x5 d2 dw valid", ""},
        // 2 x 14 blocks over a width of four, unrolled, skipping the
        // padding's columns, read in place (Sapphire Rapids' pick at 56).
        FixedShapeCase{"2x3x56x16->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "rows": 1, "pad": "in_place"})"},
        // The heuristic's blocks of whole groups, each group's 6 filters
        // padded to 8, the channel blocks outside the column blocks.
        FixedShapeCase{"1x12x20x24->48 3x3 g8 valid", ""},
        // A task per channel block, the last half past the filters, in row
        // blocks of 2 vectors x the width that skip the window's taps over
        // the padding (AVX-512's pick for 5x5 12x12x320->120).
        FixedShapeCase{"1x12x12x40->40 5x5", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 12, "parallel_channels": true, "rows": 0, "pad": "in_place"})"},
        // The heuristic's 4 x 6 row blocks with two input channels per step
        // on AVX-512, three per row (the last guarded, unrolled), in place.
        FixedShapeCase{"2x17x17x128->128 3x3", ""},
        FixedShapeCase{"1x31x31x128->256 3x3 s2", ""},
        // Unrolled column blocks whose last is guarded, the window's
        // columns unrolled too: 1x7 in 2 x 12 and 2 x 5 (the heuristic's
        // pick), eleven blocks of 2 on a small input, 5x5 in 3-column
        // blocks.
        FixedShapeCase{"1x17x17x160->160 1x7", ""},
        FixedShapeCase{"1x21x21x16->32 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 2, "rows": 7, "pad": "in_place"})"},
        FixedShapeCase{"1x23x23x16->16 5x5", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 3, "rows": 6, "pad": "in_place"})"},
        // Kernel rows outside the flat blocks: channel tasks (the
        // heuristic's pick, 221 KB of weights per block), row tasks with
        // padded filters, a 5x5 window with dilation, two images.
        FixedShapeCase{"1x7x7x384->128 3x3", ""},
        FixedShapeCase{"2x9x9x16->20 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "rows": 4, "flat_positions": true, "kernel_rows_outer": true})"},
        FixedShapeCase{"1x11x11x16->32 5x5 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        // Depthwise on 4 KB pixels: the heuristic's 4 x 7 blocks, in place.
        FixedShapeCase{"1x7x7x1024->1024 3x3 dw", ""},
        // 5x5 depthwise in 1-vector blocks of 7 columns, in place (the
        // heuristic's pick).
        FixedShapeCase{"1x14x14x40->40 5x5 dw", ""},
        // AVX-512's pick for channel tasks whose weights and input would
        // not share L2: 2 vectors x 14 columns, a last block of 3; and
        // vectors of columns on an image one vector wide.
        FixedShapeCase{"1x17x17x32->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "parallel_channels": true, "rows": 0})"},
        FixedShapeCase{"1x16x16x3->8 3x3", ""},
        // Window rows over the padding skipped (skips_padding_rows): flat
        // blocks one row wide, with kernel rows outside and inside, in
        // tasks of part of the rows (the last shifted), dilated; blocks one
        // row high, strided, over a batch.
        FixedShapeCase{"1x7x7x32->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 7, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        FixedShapeCase{"1x10x10x16->32 3x3 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "rows": 4, "flat_positions": true})"},
        FixedShapeCase{"2x11x9x16->24 5x5 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 3, "block_y": 1, "rows": 2})"},
        FixedShapeCase{"1x17x17x32->64 7x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6, "block_y": 1, "parallel_channels": true, "rows": 9})"},
        // Window columns over the padding skipped as well
        // (skips_padding_columns): flat blocks two rows long, the last
        // short; blocks one row wide and two high; 'same' padding uneven
        // (a 4x4 window), after a stride, dilated; a 1x3 window.
        FixedShapeCase{"1x5x5x16->32 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 10, "parallel_channels": true, "rows": 0, "flat_positions": true})"},
        FixedShapeCase{"2x7x7x16->24 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 7, "block_y": 2, "rows": 4})"},
        FixedShapeCase{"1x8x8x16->32 4x4", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 8, "parallel_channels": true, "rows": 0, "flat_positions": true})"},
        FixedShapeCase{"1x14x13x16->32 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 7, "rows": 3, "flat_positions": true})"},
        FixedShapeCase{"1x11x11x16->32 3x3 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 11, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        FixedShapeCase{"1x8x8x32->48 1x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 8, "rows": 2})"},
        // ... and read in place where no tap reads the padding: flat
        // blocks a row long over a batch; blocks one row wide in row tasks;
        // a 1x3 window; the heuristic's picks for 2 x 9 and 4 x 7.
        FixedShapeCase{"2x7x7x32->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 7, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true, "pad": "in_place"})"},
        FixedShapeCase{"1x9x9x16->48 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 9, "block_y": 1, "rows": 3, "pad": "in_place"})"},
        FixedShapeCase{"1x8x8x32->48 1x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 8, "rows": 2, "pad": "in_place"})"},
        FixedShapeCase{"1x9x9x256->256 3x3", ""},
        FixedShapeCase{"1x7x7x128->256 3x3", ""},
        // AVX-512's 2-vector channel-task blocks one row high where 4-vector
        // ones would hold too many weights: 2 x 11, a row each; two per
        // row, 9 + 8 (the last guarded); both read the input in place; 10
        // + 9 over filters padded to two vectors (19x19x1024->126's
        // blocks).
        FixedShapeCase{"1x11x11x256->256 3x3", ""},
        FixedShapeCase{"1x17x17x48->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 9, "block_y": 1, "parallel_channels": true, "rows": 0, "pad": "in_place"})"},
        FixedShapeCase{"1x19x19x32->30 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 10, "block_y": 1, "parallel_channels": true, "rows": 0, "pad": "in_place"})"},
        // AVX-512's flat 4 x 7 channel tasks for a 1x1 layer with a long
        // reduction; its 4 x 6 channel tasks one row high, three blocks a
        // row, the last guarded (1 MB of weights over 512 channels).
        FixedShapeCase{"1x7x7x256->128 1x1", ""},
        FixedShapeCase{"1x14x14x512->512 1x1", ""},
        // A stem's vector of filters by 8 columns (AVX-512's pick), a
        // shifted last block.
        FixedShapeCase{"1x19x21x3->16 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 8})"},
        // Stems read in place, their row tasks' loop left whole: padding
        // only after the image (the heuristic's pick, 17 columns in blocks
        // of 8, the last guarded), and before it too (asked for).
        FixedShapeCase{"1x32x34x3->16 3x3 s2", ""},
        // A 1x1 layer's vector of filters by 8 columns (AVX-512's pick), a
        // guarded last block of 6.
        FixedShapeCase{"1x14x14x32->16 1x1", ""},
        FixedShapeCase{"1x19x21x3->16 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 8, "rows": 3, "pad": "in_place"})"},
        // AVX-512's flat 4 x 6 blocks with kernel rows outside, in channel
        // tasks; 4 x 7 over a batch (a task per image and block).
        FixedShapeCase{"1x7x7x64->128 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        FixedShapeCase{"2x7x7x64->128 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 7, "parallel_channels": true, "rows": 0, "flat_positions": true, "kernel_rows_outer": true})"},
        // The same in tasks of part of the rows each (the last part shifted
        // up), as AVX-512 takes where row tasks would re-read all the
        // weights per row; a 7x1 kernel with its rows inside.
        FixedShapeCase{"1x17x17x32->128 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 5, "flat_positions": true, "kernel_rows_outer": true})"},
        FixedShapeCase{"1x17x13x16->64 7x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 9, "flat_positions": true, "kernel_rows_outer": false})"},
        // Channel tasks over several images, numbered image-first, in
        // parts of rows.
        FixedShapeCase{"3x9x9x32->128 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 5, "flat_positions": true, "kernel_rows_outer": true})"},
        // Channel tasks of 2 x 14 blocks one row high, over two images in
        // parts of 14 rows (AVX-512's pick on 28-wide layers).
        FixedShapeCase{"2x28x28x16->64 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "parallel_channels": true, "rows": 14})"},
        // A row's column blocks unrolled, each skipping the window columns
        // over the padding, the input read in place: uneven 'same' padding
        // (4x4) in three blocks, stride 2 in two, dilation 2 in two, 5x5 in
        // four, blocks two rows high.
        FixedShapeCase{"1x12x12x16->32 4x4", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 4, "rows": 3, "pad": "in_place"})"},
        FixedShapeCase{"1x23x23x16->32 3x3 s2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6, "rows": 4, "pad": "in_place"})"},
        FixedShapeCase{"1x16x16x16->32 3x3 d2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 8, "rows": 0, "parallel_channels": true, "pad": "in_place"})"},
        FixedShapeCase{"1x12x12x16->32 5x5", R"({"accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 3, "block_y": 2, "rows": 4, "pad": "in_place"})"},
        // ... and guarded where they do not divide the width: 1x7 in 12 + 5
        // columns, 3x3 in 5 + 5 + 3 over filters padded to 2 vectors.
        FixedShapeCase{"1x17x17x16->32 1x7", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 12, "rows": 1, "pad": "in_place"})"},
        FixedShapeCase{"1x13x13x16->20 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 5, "rows": 3, "pad": "in_place"})"},
        // Vectors of 8 floats (AVX-512's pick for groups of 8 filters; the
        // target's own width on AVX2): the heuristic's, on groups of 8;
        // groups of 24; flat blocks of a dense layer.
        FixedShapeCase{"1x13x12x32->32 3x3 g4", ""},
        FixedShapeCase{"1x9x9x48->48 3x3 s2 g2", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 4, "rows": 3, "vector_floats": 8})"},
        FixedShapeCase{"1x7x9x32->40 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 3, "block_x": 5, "parallel_channels": true, "rows": 0, "flat_positions": true, "vector_floats": 8})"},
        // ... and the other templates in 8-float vectors: lanes of input
        // channels, columns, depthwise, rows.
        FixedShapeCase{"1x13x11x16->3 3x3", R"({"vector_floats": 8})"},
        FixedShapeCase{"1x16x16x3->8 3x3", R"({"vector_floats": 8})"},
        FixedShapeCase{"1x14x14x40->40 5x5 dw", R"({"vector_floats": 8})"},
        FixedShapeCase{"1x10x10x24->20 3x3", R"({"accumulate": "rows", "block_c": 2, "block_x": 3, "rows": 2, "chunk_c": 8, "vector_floats": 8})"},
        // AVX-512's one block of five vectors over padded filters, and its
        // 2-vector row-task blocks, 14 wide, over filters padded to 6.
        FixedShapeCase{"1x9x11x16->72 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 5, "block_x": 5, "rows": 3})"},
        FixedShapeCase{"1x7x30x32->84 3x3", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "rows": 1})"},
        // Column blocks that do not divide the width: the last one guarded.
        FixedShapeCase{"1x7x7x32->16 3x3", R"({"accumulate": "tile", "block_x": 4})"},
        FixedShapeCase{"1x15x15x16->24 3x3 s2", R"({"accumulate": "tile", "block_x": 3, "channels_inner": true})"},
        FixedShapeCase{"1x9x9x16->16 3x3", R"({"accumulate": "tile", "block_x": 2, "block_y": 2, "rows": 4})"},
        FixedShapeCase{"1x6x13x16->20 1x1", R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 6})"},
        // Fewer filters than a vector over whole vectors of input channels
        // (lanes of input channels, summed at the end): the heuristic's
        // picks, blocks that do not divide the width, several images,
        // groups, and the input read in place.
        FixedShapeCase{"1x13x11x16->3 3x3", ""},
        FixedShapeCase{"2x12x12x32->4 3x3 s2", ""},
        FixedShapeCase{"1x9x9x16->1 1x1", ""},
        FixedShapeCase{"1x11x10x32->6 3x3 d2 valid", ""},
        FixedShapeCase{"1x7x9x32->4 3x3 g2", ""},
        FixedShapeCase{"1x2x3x16->2 3x3", ""},
        FixedShapeCase{"1x8x20x16->5 3x3", R"({"vectorize": "ci", "block_x": 3, "rows": 3})"},
        FixedShapeCase{"1x8x13x16->2 5x5", R"({"vectorize": "ci", "block_x": 4, "rows": 2, "pad": "in_place"})"},
        // Input channels in part vectors (lanes of 4).
        FixedShapeCase{"1x9x10x20->3 3x3", ""},
        FixedShapeCase{"1x7x7x12->2 1x1", ""},
        FixedShapeCase{"1x8x8x24->4 3x3 g2", ""},
        // Forty filters: one block of five vectors by two columns.
        FixedShapeCase{"1x9x7x16->40 3x3", ""},
        FixedShapeCase{"1x5x5x64->40 1x1", ""},
        // Asked for where it does not fit (3 input channels): runs as "x".
        FixedShapeCase{"1x9x9x3->2 3x3", R"({"vectorize": "ci", "block_x": 2})"}),
    [](const auto &info) { return "case" + std::to_string(info.index); });
