// Kernels stored in filter blocks (convpipe/layout.h) and Pipeline::bind:
// packed run-time weights, bound or not, rebinding, the packing itself, and
// baked weights packed when the pipeline is compiled. Oracle: the reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "Halide.h"
#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "convpipe/layout.h"
#include "reference/reference.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

// The data input first, the weights after: the call order.
std::vector<Tensor> call_inputs(const graph::Graph &g, int64_t h, int64_t w, uint32_t seed) {
    return tests::random_call_inputs(g, Shape{1, h, w, g.inputs[0].shape[3]}, seed);
}

void expect_outputs(const std::vector<Tensor> &actual, const std::vector<Tensor> &expected, const std::string &what) {
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); i++) tests::expect_close(actual[i], expected[i], what);
}

}  // namespace

TEST(KernelLayout, PacksFilterBlocksWithZerosPastTheEnd) {
    // Keras [KH=1, KW=2, Cin=2, F=3], values = their flat index.
    Tensor k({1, 2, 2, 3});
    for (int64_t i = 0; i < k.size(); i++) k.values()[i] = static_cast<float>(i);
    EXPECT_EQ(graph::packed_kernel_shape(k.shape(), graph::KernelLayout{2}), (Shape{2, 1, 2, 2, 2}));
    EXPECT_EQ(graph::packed_kernel_shape(k.shape(), graph::KernelLayout{0}), k.shape());
    Tensor packed(graph::packed_kernel_shape(k.shape(), graph::KernelLayout{2}));
    graph::pack_kernel(k, graph::KernelLayout{2}, packed);
    for (int64_t j = 0; j < 2; j++)
        for (int64_t kx = 0; kx < 2; kx++)
            for (int64_t ci = 0; ci < 2; ci++)
                for (int64_t fi = 0; fi < 2; fi++) {
                    int64_t f = j * 2 + fi;
                    float expected = f < 3 ? k.at({0, kx, ci, f}) : 0.0f;
                    EXPECT_EQ(packed.at({j, 0, kx, ci, fi}), expected) << "block " << j << " kx " << kx << " ci " << ci
                                                                        << " lane " << fi;
                }
    Tensor wrong({1, 2, 2, 2, 2});
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{4}, wrong), Error);
}

// Rotated within groups (lower::SumForm::rotates_groups): entry r of filter
// f holds the weight that input channel f % G of f's group has in filter
// (f % G + r) % G of that group; packed in blocks or not.
TEST(KernelLayout, RotatesWithinGroupsThenPacks) {
    // Keras [KH=1, KW=2, Cin/groups=2, F=6]: three groups of 2 filters.
    Tensor k({1, 2, 2, 6});
    for (int64_t i = 0; i < k.size(); i++) k.values()[i] = static_cast<float>(i);
    auto rotated = [&](int64_t kx, int64_t r, int64_t f) {
        const int64_t group = f / 2, lane = f % 2;
        return k.at({0, kx, lane, group * 2 + (lane + r) % 2});
    };
    Tensor plain(k.shape());
    graph::pack_kernel(k, graph::KernelLayout{0, 2}, plain);
    Tensor packed(graph::packed_kernel_shape(k.shape(), graph::KernelLayout{4}));
    graph::pack_kernel(k, graph::KernelLayout{4, 2}, packed);
    for (int64_t kx = 0; kx < 2; kx++)
        for (int64_t r = 0; r < 2; r++)
            for (int64_t f = 0; f < 8; f++) {
                if (f < 6) EXPECT_EQ(plain.at({0, kx, r, f}), rotated(kx, r, f)) << kx << " " << r << " " << f;
                EXPECT_EQ(packed.at({f / 4, 0, kx, r, f % 4}), f < 6 ? rotated(kx, r, f) : 0.0f)
                    << kx << " " << r << " " << f;
            }
    // Groups of another size than the input channels per group, or part
    // groups of filters, cannot be rotated.
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{0, 3}, plain), Error);
    Tensor odd({1, 2, 2, 5}), odd_out({1, 2, 2, 5});
    EXPECT_THROW(graph::pack_kernel(odd, graph::KernelLayout{0, 2}, odd_out), Error);
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{0, 2}, packed), Error);
}

// Padded groups: each group's filters first, zeros up to group_filters, then
// blocks (zeros past the last).
TEST(KernelLayout, PadsGroupsThenPacks) {
    // 1x1 window, 2 input channels per group, 3 groups of 2 filters.
    Tensor k(Shape{1, 1, 2, 6});
    for (int64_t i = 0; i < k.size(); i++) k.data()[i] = static_cast<float>(i + 1);
    const graph::KernelLayout layout{0, 0, 3, 4};
    EXPECT_EQ(graph::packed_kernel_shape(k.shape(), layout), (Shape{1, 1, 2, 12}));
    Tensor plain(graph::packed_kernel_shape(k.shape(), layout));
    graph::pack_kernel(k, layout, plain);
    // Row ci of Keras's: filters ci*6 + 1 .. ci*6 + 6, groups of 2.
    const std::vector<float> want_plain{1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0, 7, 8, 0, 0, 9, 10, 0, 0, 11, 12, 0, 0};
    EXPECT_EQ(std::vector<float>(plain.data(), plain.data() + plain.size()), want_plain);
    const graph::KernelLayout blocked{8, 0, 3, 4};
    Tensor packed(graph::packed_kernel_shape(k.shape(), blocked));
    EXPECT_EQ(packed.shape(), (Shape{2, 1, 1, 2, 8}));
    graph::pack_kernel(k, blocked, packed);
    const std::vector<float> want_packed{1, 2, 0, 0, 3, 4, 0, 0, 7, 8, 0, 0, 9, 10, 0, 0,
                                         5, 6, 0, 0, 0, 0, 0, 0, 11, 12, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(std::vector<float>(packed.data(), packed.data() + packed.size()), want_packed);
    // Groups that do not split the filters, or hold more than the padding.
    Tensor out(Shape{1, 1, 2, 12});
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{0, 0, 4, 3}, out), Error);
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{0, 0, 2, 2}, out), Error);
    EXPECT_THROW(graph::pack_kernel(k, graph::KernelLayout{0, 2, 3, 4}, out), Error);
    EXPECT_THROW(graph::pack_kernel(k, layout, packed), Error);   // the wrong buffer
}

TEST(Bind, BoundWeightsMatchReferenceAndRebindingReplacesThem) {
    Pipeline p = Pipeline::open("aot_packed", Device::CPU);
    const graph::Graph &g = p.graph();
    std::vector<graph::Value> call = g.call_inputs();
    std::vector<Tensor> a = call_inputs(g, 9, 11, 1);
    for (size_t i = 1; i < call.size(); i++) p.bind(call[i].name, a[i]);
    EXPECT_EQ(p.input_names(), std::vector<std::string>{"image"});
    // Two calls on the bound weights with different data.
    for (uint32_t seed : {2u, 3u}) {
        std::vector<Tensor> data = call_inputs(g, 8 + seed, 12, seed);
        for (size_t i = 1; i < call.size(); i++) data[i] = a[i];
        expect_outputs(p.run({data[0]}), reference::run(g, data), "bound, seed " + std::to_string(seed));
    }
    // New weights for one layer: the next call must use them, not a stale packing.
    std::vector<Tensor> b = call_inputs(g, 10, 10, 4);
    p.bind("wide.kernel", b[1]);
    std::vector<Tensor> mixed = a;
    mixed[0] = b[0];
    mixed[1] = b[1];
    expect_outputs(p.run({b[0]}), reference::run(g, mixed), "after rebinding wide.kernel");
}

TEST(Bind, UnboundPackedWeightsAreReadEveryCall) {
    Pipeline p = Pipeline::open("aot_packed", Device::CPU);
    const graph::Graph &g = p.graph();
    std::vector<Tensor> outputs;
    for (uint32_t seed : {5u, 6u}) {
        std::vector<Tensor> in = call_inputs(g, 7, 9, seed);
        p.run_into(in, outputs);
        expect_outputs(outputs, reference::run(g, in), "unbound, seed " + std::to_string(seed));
    }
}

TEST(Bind, JitPipelinesBindToo) {
    Pipeline p = compile_spec((tests::specs_root() / "aot_packed.json").string());
    const graph::Graph &g = p.graph();
    std::vector<Tensor> in = call_inputs(g, 9, 6, 7);
    std::vector<graph::Value> call = g.call_inputs();
    for (size_t i = 1; i < call.size(); i++) p.bind(call[i].name, in[i]);
    expect_outputs(p.run({in[0]}), reference::run(g, in), "JIT, bound");
}

TEST(Bind, ErrorsNameTheInput) {
    Pipeline p = Pipeline::open("aot_packed", Device::CPU);
    auto message = [&](const std::string &name, const Tensor &t) {
        try {
            p.bind(name, t);
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    Tensor kernel({3, 3, 32, 16});
    EXPECT_THAT(message("wide.kernal", kernel), HasSubstr("no run-time weight 'wide.kernal'"));
    EXPECT_THAT(message("wide.kernal", kernel), HasSubstr("wide.kernel, wide.bias"));
    EXPECT_THAT(message("image", kernel), HasSubstr("'image' is a data input"));
    EXPECT_THAT(message("wide.kernel", Tensor({3, 3, 16, 32})), HasSubstr("must have shape [3, 3, 32, 16]"));
    p.bind("wide.kernel", kernel);
    try {
        p.run(call_inputs(p.graph(), 5, 5, 1));
        FAIL() << "expected an error for the bound input given again";
    } catch (const Error &e) {
        EXPECT_THAT(std::string(e.what()), HasSubstr("takes 8 inputs (image, wide.bias, narrow.kernel"));
    }
}

TEST(Bind, BakedWeightsArePackedWhenCompiled) {
    // A spec with weights in .npy files, scheduled to store its kernel packed.
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_baked_packed";
    fs::create_directories(dir);
    Tensor kernel = tests::random_call_inputs(graph::load_spec((tests::specs_root() / "aot_packed.json").string()),
                                              Shape{1, 5, 5, 32}, 9)[1];
    save_npy(kernel, (dir / "kernel.npy").string());
    std::ofstream(dir / "spec.json") << R"({"name": "baked_packed", "input": {"name": "x", "shape": [null, null, null, 32]},
        "layers": [{"type": "Conv2D", "name": "conv", "filters": 16, "kernel_size": 3, "padding": "same",
                    "use_bias": false, "kernel": {"npy": "kernel.npy"}}]})";
    for (std::string accumulate : {"rows", "tile"}) {
        std::ofstream(dir / "schedule.json")
            << R"({"layers": {"conv": {"accumulate": ")" << accumulate << R"(", "pack_weights": true}}})";
        CompileOptions options;
        options.schedule_file = (dir / "schedule.json").string();
        Pipeline p = compile_spec((dir / "spec.json").string(), options);
        EXPECT_THAT(describe_schedule(p.graph(), options.schedule_file), HasSubstr("kernel stored in blocks of"));
        std::vector<Tensor> in = tests::random_call_inputs(p.graph(), Shape{2, 7, 10, 32}, 10);
        expect_outputs(p.run(in), reference::run(p.graph(), in), "baked, packed, " + accumulate);
    }
}

namespace {

// A spec of two Conv2D layers over `channels` input channels: `first`
// (named `first_name`), then `second` (named "conv"), each a layer's JSON
// without its closing brace; their weights baked from NAME_k.npy and
// NAME_b.npy where asked.
std::string two_conv_spec(int channels, const std::string &first_name, const std::string &first,
                          const std::string &second, bool baked) {
    auto weights = [&](const std::string &layer) {
        return baked ? R"(, "kernel": {"npy": ")" + layer + R"(_k.npy"}, "bias": {"npy": ")" + layer + R"(_b.npy"})"
                     : std::string();
    };
    return R"({"name": "two", "input": {"name": "x", "shape": [null, null, null, )" + std::to_string(channels) +
           R"(]}, "layers": [)" + first + weights(first_name) + "}, " + second + weights("conv") + "}]}";
}

}  // namespace

// Filter counts that are not a multiple of the vector width, with the tile
// template's padding (schedule::pads_filters): kernels baked in blocks of
// whole vectors with zero filters past the last, a baked bias read as zeros
// there, a last block partly or wholly past the filters; in a pipeline of two
// such layers, the first computed at the second's tiles or on its own.
TEST(Bind, PaddedFiltersMatchReference) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_padded_filters";
    fs::create_directories(dir);
    auto spec = [](bool baked) {
        return two_conv_spec(
            16, "expand", R"({"type": "Conv2D", "name": "expand", "filters": 20, "kernel_size": 1, "activation": "relu")",
            R"({"type": "Conv2D", "name": "conv", "filters": 12, "kernel_size": 3, "padding": "same")", baked);
    };
    std::ofstream(dir / "runtime.json") << spec(false);
    const graph::Graph runtime = graph::load_spec((dir / "runtime.json").string());
    std::vector<Tensor> in = tests::random_call_inputs(runtime, Shape{2, 7, 11, 16}, 31);
    // Call order: x, expand.kernel, expand.bias, conv.kernel, conv.bias.
    save_npy(in[1], (dir / "expand_k.npy").string());
    save_npy(in[2], (dir / "expand_b.npy").string());
    save_npy(in[3], (dir / "conv_k.npy").string());
    save_npy(in[4], (dir / "conv_b.npy").string());
    std::ofstream(dir / "baked.json") << spec(true);
    const std::vector<Tensor> expected = reference::run(runtime, in);
    // `convpipe info` says how far the kernel is padded.
    std::ofstream(dir / "schedule.json")
        << R"({"layers": {"expand": {"accumulate": "tile", "pack_weights": true, "block_c": 3}}})";
    const int V = Halide::get_jit_target_from_environment().natural_vector_size<float>();
    const std::string described = describe_schedule(runtime, (dir / "schedule.json").string());
    // Blocks of 3 vectors, at most the filters' (2 of 16 with AVX-512).
    const int block = std::min(3, (20 + V - 1) / V) * V;
    if (20 % V != 0)
        EXPECT_THAT(described, HasSubstr("zero filters up to " + std::to_string((20 + block - 1) / block * block)));
    else
        EXPECT_THAT(described, Not(HasSubstr("zero filters")));
    auto tile = [](const std::string &knobs) {
        return R"({"vectorize": "c", "accumulate": "tile", "pack_weights": true, )" + knobs + "}";
    };
    for (const char *expand :
         {R"("block_c": 3, "block_x": 4)", R"("block_c": 2, "block_x": 5)", R"("block_c": 2, "compute_at": "consumer")"})
        for (const char *conv : {R"("block_c": 1, "block_x": 3, "rows": 2)", R"("block_c": 3, "block_y": 2)"})
            for (bool baked : {false, true}) {
                const std::string what =
                    std::string(baked ? "baked" : "run-time") + ", expand " + expand + ", conv " + conv;
                std::ofstream(dir / "schedule.json")
                    << R"({"layers": {"expand": )" << tile(expand) << R"(, "conv": )" << tile(conv) << "}}";
                CompileOptions options;
                options.schedule_file = (dir / "schedule.json").string();
                Pipeline p = compile_spec((dir / (baked ? "baked.json" : "runtime.json")).string(), options);
                expect_outputs(baked ? p.run({in[0]}) : p.run(in), expected, what);
            }
}

// Sums over rotated groups (schedule::rotates_groups): groups of 2, 4 and 8
// filters over as many input channels, with run-time weights (rearranged per
// call) and baked ones (stored rearranged), as the heuristic picks them (it
// rotates groups of 4 and more) and as files ask (two vectors of channels,
// a guarded last column block, channel tasks, several rows per task, the
// padded copy, no rotation), against the reference.
TEST(Bind, RotatedGroupsMatchReference) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_rotated_groups";
    fs::create_directories(dir);
    const int V = Halide::get_jit_target_from_environment().natural_vector_size<float>();
    for (int groups : {16, 8, 4}) {
        const int G = 32 / groups;
        if (G >= V) continue;
        auto spec = [&](bool baked) {
            return R"({"name": "rotated", "input": {"name": "x", "shape": [null, 11, 13, 32]}, "layers": [
                {"type": "Conv2D", "name": "conv", "filters": 32, "kernel_size": 3, "padding": "same", "groups": )" +
                   std::to_string(groups) + R"(, "activation": "relu")" +
                   (baked ? R"(, "kernel": {"npy": "k.npy"}, "bias": {"npy": "b.npy"})" : "") + "}]}";
        };
        std::ofstream(dir / "runtime.json") << spec(false);
        const graph::Graph runtime = graph::load_spec((dir / "runtime.json").string());
        std::vector<Tensor> in = tests::random_call_inputs(runtime, Shape{2, 11, 13, 32}, 40 + groups);
        save_npy(in[1], (dir / "k.npy").string());
        save_npy(in[2], (dir / "b.npy").string());
        std::ofstream(dir / "baked.json") << spec(true);
        const std::vector<Tensor> expected = reference::run(runtime, in);
        const std::string rotated = "sums over rotated groups of " + std::to_string(G);
        if (G >= 4) EXPECT_THAT(describe_schedule(runtime, ""), HasSubstr(rotated));
        else EXPECT_THAT(describe_schedule(runtime, ""), Not(HasSubstr("rotated")));
        for (const char *params :
             {"", R"({"rotate_groups": true, "block_c": 2, "block_x": 2})",
              R"({"rotate_groups": true, "block_x": 5, "rows": 4, "pad": "copy"})",
              R"({"rotate_groups": true, "block_x": 3, "parallel_channels": true, "pad": "in_place"})",
              R"({"rotate_groups": false})"}) {
            std::string file;
            if (*params) {
                file = (dir / "schedule.json").string();
                std::ofstream(file) << R"({"layers": {"conv": )" << params << "}}";
            }
            for (bool baked : {false, true}) {
                CompileOptions options;
                options.schedule_file = file;
                Pipeline p = compile_spec((dir / (baked ? "baked.json" : "runtime.json")).string(), options);
                expect_outputs(baked ? p.run({in[0]}) : p.run(in), expected,
                               std::string(baked ? "baked" : "run-time") + ", groups " + std::to_string(groups) + " " +
                                   params);
            }
        }
    }
}

namespace {

// A layer (`producer`, a Conv2D of 32 input channels named "producer")
// computed inside its consumer's tasks (a 1x1 layer, as in ResNeXt's
// blocks) under `params`, at sizes from 1x1, against the reference;
// describe_schedule must say `described`.
void expect_producer_in_consumers_tasks_matches(const std::string &name, const std::string &producer,
                                               const std::string &params, const std::string &described, int seed) {
    const graph::Graph g = graph::parse_spec(
        R"({"name": ")" + name + R"(", "input": {"name": "x", "shape": [null, null, null, 32]}, "layers": [)" +
            producer + R"(, {"type": "Conv2D", "name": "expand", "filters": 64, "kernel_size": 1}]})",
        name, ".");
    const fs::path file = fs::path(::testing::TempDir()) / (name + "_schedule.json");
    std::ofstream(file) << R"({"layers": {"producer": )" << params << "}}";
    const std::string description = describe_schedule(g, file.string());
    EXPECT_THAT(description, HasSubstr(described));
    EXPECT_THAT(description, HasSubstr(R"("compute_at":"consumer")"));
    CompileOptions options;
    options.schedule_file = file.string();
    Pipeline p = compile_graph(g, options);
    for (const Shape &shape : {Shape{1, 1, 1, 32}, Shape{1, 6, 5, 32}, Shape{2, 17, 13, 32}}) {
        std::vector<Tensor> in = tests::random_call_inputs(g, shape, seed);
        expect_outputs(p.run(in), reference::run(g, in), name + ", " + shape_to_string(shape));
    }
}

}  // namespace

// Rotated groups computed inside their consumer's tasks, at any size.
TEST(Bind, RotatedGroupsInTheirConsumersTasksMatchReference) {
    expect_producer_in_consumers_tasks_matches(
        "rotated_fused",
        R"({"type": "Conv2D", "name": "producer", "filters": 32, "kernel_size": 3, "padding": "same", "groups": 8,
            "activation": "relu"})",
        R"({"accumulate": "tile", "rotate_groups": true, "block_c": 1, "block_x": 4, "compute_at": "consumer"})",
        "sums over rotated groups of 4", 17);
}

// A schedule file may not ask for rotated groups where they do not apply.
TEST(Bind, RotatedGroupsRefusedWhereTheyDoNotApply) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_rotated_refused";
    fs::create_directories(dir);
    std::ofstream(dir / "spec.json") << R"({"name": "refused", "input": {"name": "x", "shape": [null, 8, 8, 32]},
        "layers": [{"type": "Conv2D", "name": "conv", "filters": 32, "kernel_size": 3, "padding": "same"}]})";
    const graph::Graph g = graph::load_spec((dir / "spec.json").string());
    for (const char *params : {R"({"rotate_groups": true})", R"({"rotate_groups": 1})"}) {
        std::ofstream(dir / "schedule.json") << R"({"layers": {"conv": )" << params << "}}";
        try {
            describe_schedule(g, (dir / "schedule.json").string());
            FAIL() << "expected an error for " << params;
        } catch (const SpecError &e) {
            EXPECT_THAT(std::string(e.what()), HasSubstr("rotate_groups")) << params;
        }
    }
}

// Groups whose filters do not fill whole vectors, summed over them padded
// to whole vectors (12 filters over 16 channels, 6 over 8 strided, 3 over
// 3, 20 over 20 in blocks of one and of two groups), against the
// reference: baked and run-time weights, the heuristic's schedule and
// others (the padded copy, row tasks, channel tasks, no padding).
TEST(Bind, PaddedGroupsMatchReference) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_padded_groups";
    fs::create_directories(dir);
    const int natural = Halide::get_jit_target_from_environment().natural_vector_size<float>();
    struct Case {
        int in, filters, groups, stride;
        bool bias;
    };
    for (const Case &c : {Case{32, 24, 2, 1, true}, Case{24, 18, 3, 2, true}, Case{12, 12, 4, 1, true},
                          Case{40, 40, 2, 1, false}}) {
        const int f = c.filters / c.groups;
        // Vectors of 8 floats (or the target's, if fewer): the padded
        // group's vectors, one block of each and of two groups.
        const int V = std::min(8, natural), vectors = (f + V - 1) / V;
        const std::string name = std::to_string(c.in) + "->" + std::to_string(c.filters) + " in " +
                                 std::to_string(c.groups) + " groups, stride " + std::to_string(c.stride);
        auto spec = [&](bool baked) {
            return R"({"name": "padded", "input": {"name": "x", "shape": [null, 11, 13, )" + std::to_string(c.in) +
                   R"(]}, "layers": [{"type": "Conv2D", "name": "conv", "filters": )" + std::to_string(c.filters) +
                   R"(, "kernel_size": 3, "strides": )" + std::to_string(c.stride) +
                   R"(, "padding": "same", "groups": )" + std::to_string(c.groups) + R"(, "use_bias": )" +
                   (c.bias ? "true" : "false") + R"(, "activation": "relu")" +
                   (baked ? std::string(R"(, "kernel": {"npy": "k.npy"})") + (c.bias ? R"(, "bias": {"npy": "b.npy"})" : "")
                          : "") +
                   "}]}";
        };
        std::ofstream(dir / "runtime.json") << spec(false);
        const graph::Graph runtime = graph::load_spec((dir / "runtime.json").string());
        std::vector<Tensor> in = tests::random_call_inputs(runtime, Shape{2, 11, 13, c.in}, 60 + c.in);
        save_npy(in[1], (dir / "k.npy").string());
        if (c.bias) save_npy(in[2], (dir / "b.npy").string());
        std::ofstream(dir / "baked.json") << spec(true);
        const std::vector<Tensor> expected = reference::run(runtime, in);
        const std::string vf = R"("pad_groups": true, "vector_floats": )" + std::to_string(V);
        const std::string one = std::to_string(vectors), two = std::to_string(2 * vectors);
        for (const std::string &params :
             {std::string(), "{" + vf + R"(, "block_c": )" + one + R"(, "block_x": 3})",
              "{" + vf + R"(, "block_c": )" + two + R"(, "block_x": 2, "rows": 4, "pad": "copy"})",
              "{" + vf + R"(, "block_c": )" + one + R"(, "block_x": 5, "parallel_channels": true, "pad": "in_place"})",
              "{" + vf + R"(, "block_c": )" + one + R"(, "block_x": 4, "channels_inner": true})",
              std::string(R"({"pad_groups": false})")}) {
            std::string file;
            if (!params.empty()) {
                file = (dir / "schedule.json").string();
                std::ofstream(file) << R"({"layers": {"conv": )" << params << "}}";
            }
            if (params.find("true") != std::string::npos)
                EXPECT_THAT(describe_schedule(runtime, file), HasSubstr("filters of each group padded to"));
            // Baked weights (laid out at generation) for two schedules.
            for (bool baked : {false, true}) {
                if (baked && params.find("block_x\": 3") == std::string::npos && !params.empty()) continue;
                CompileOptions options;
                options.schedule_file = file;
                Pipeline p = compile_spec((dir / (baked ? "baked.json" : "runtime.json")).string(), options);
                expect_outputs(baked ? p.run({in[0]}) : p.run(in), expected,
                               std::string(baked ? "baked" : "run-time") + ", " + name + " " + params);
            }
        }
    }
}

// Padded groups computed inside their consumer's tasks, at any size.
TEST(Bind, PaddedGroupsInTheirConsumersTasksMatchReference) {
    expect_producer_in_consumers_tasks_matches(
        "padded_fused",
        R"({"type": "Conv2D", "name": "producer", "filters": 24, "kernel_size": 3, "padding": "same", "groups": 2,
            "activation": "relu"})",
        R"({"accumulate": "tile", "pad_groups": true, "vector_floats": 8, "block_c": 2, "block_x": 4,
            "compute_at": "consumer"})",
        "filters of each group padded to 16", 19);
}

// A schedule file may not ask for padded groups where they do not apply, nor
// for register blocks that split a padded group.
TEST(Bind, PaddedGroupsRefusedWhereTheyDoNotApply) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_padded_refused";
    fs::create_directories(dir);
    auto refused = [&](const std::string &layer, const std::string &params, const std::string &message) {
        std::ofstream(dir / "spec.json") << R"({"name": "refused", "input": {"name": "x", "shape": [null, 8, 8, 48]},
            "layers": [)" << layer << "]}";
        const graph::Graph g = graph::load_spec((dir / "spec.json").string());
        std::ofstream(dir / "schedule.json") << R"({"layers": {"conv": )" << params << "}}";
        try {
            describe_schedule(g, (dir / "schedule.json").string());
            ADD_FAILURE() << "expected an error for " << params << " on " << layer;
        } catch (const SpecError &e) {
            EXPECT_THAT(std::string(e.what()), HasSubstr(message)) << params;
        }
    };
    const std::string dense = R"({"type": "Conv2D", "name": "conv", "filters": 32, "kernel_size": 3})";
    const std::string whole = R"({"type": "Conv2D", "name": "conv", "filters": 32, "kernel_size": 3, "groups": 2})";
    const std::string padded = R"({"type": "Conv2D", "name": "conv", "filters": 24, "kernel_size": 3, "groups": 2})";
    refused(dense, R"({"pad_groups": true})", "pad_groups");
    refused(whole, R"({"pad_groups": true, "vector_floats": 8})", "pad_groups");
    refused(padded, R"({"pad_groups": true, "vector_floats": 8, "accumulate": "rows"})", "pad_groups");
    refused(padded, R"({"pad_groups": true, "vector_floats": 8, "flat_positions": true})", "pad_groups");
    refused(padded, R"({"pad_groups": 1})", "pad_groups");
    // 12 filters per group padded to 16: blocks of 2 vectors of 8, not 1.
    refused(padded, R"({"pad_groups": true, "vector_floats": 8, "block_c": 1})", "whole groups");
}

// Fewer filters than a vector, in tiles of one vector padded past them
// (schedule::pads_filters; AVX-512: 12 and 10 of 16): a 1x1 layer computed
// on its own, its buffer rounded up to the padded block, then a 3x3 layer
// stored under a guard; baked and run-time weights, the heuristic's
// schedule and others (guarded columns, channel tasks, the 1x1 layer at
// its consumer's tiles), against the reference.
TEST(Bind, FewerFiltersThanAVectorPaddedToOneMatchReference) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_padded_to_one_vector";
    fs::create_directories(dir);
    auto spec = [](bool baked) {
        return two_conv_spec(
            64, "squeeze",
            R"({"type": "Conv2D", "name": "squeeze", "filters": 12, "kernel_size": 1, "activation": "relu")",
            R"({"type": "Conv2D", "name": "conv", "filters": 10, "kernel_size": 3, "padding": "same")", baked);
    };
    std::ofstream(dir / "runtime.json") << spec(false);
    const graph::Graph runtime = graph::load_spec((dir / "runtime.json").string());
    const std::vector<Shape> shapes{Shape{1, 1, 1, 64}, Shape{2, 9, 13, 64}};
    std::vector<std::vector<Tensor>> inputs;
    for (size_t i = 0; i < shapes.size(); i++) {
        inputs.push_back(tests::random_call_inputs(runtime, shapes[i], 41));
        // The same weights at every shape (the baked ones).
        std::copy(inputs[0].begin() + 1, inputs[0].end(), inputs[i].begin() + 1);
    }
    // Call order: x, squeeze.kernel, squeeze.bias, conv.kernel, conv.bias.
    save_npy(inputs[0][1], (dir / "squeeze_k.npy").string());
    save_npy(inputs[0][2], (dir / "squeeze_b.npy").string());
    save_npy(inputs[0][3], (dir / "conv_k.npy").string());
    save_npy(inputs[0][4], (dir / "conv_b.npy").string());
    std::ofstream(dir / "baked.json") << spec(true);
    auto tile = [](const std::string &knobs) {
        return R"({"vectorize": "c", "accumulate": "tile", "pack_weights": true, "block_c": 1, )" + knobs + "}";
    };
    const std::vector<std::string> schedules{
        "",
        R"({"layers": {"squeeze": )" + tile(R"("block_x": 5, "rows": 3)") + R"(, "conv": )" +
            tile(R"("block_x": 4, "pad": "in_place")") + "}}",
        R"({"layers": {"squeeze": )" + tile(R"("block_x": 8, "parallel_channels": true, "rows": 0)") +
            R"(, "conv": )" + tile(R"("block_x": 2, "block_y": 2)") + "}}",
        R"({"layers": {"squeeze": )" + tile(R"("block_x": 6, "compute_at": "consumer")") + R"(, "conv": )" +
            tile(R"("block_x": 3, "rows": 2)") + "}}"};
    for (const std::string &schedule : schedules)
        for (bool baked : {false, true}) {
            CompileOptions options;
            if (!schedule.empty()) {
                std::ofstream(dir / "schedule.json") << schedule;
                options.schedule_file = (dir / "schedule.json").string();
            }
            Pipeline p = compile_spec((dir / (baked ? "baked.json" : "runtime.json")).string(), options);
            for (size_t i = 0; i < shapes.size(); i++) {
                const std::string what = std::string(baked ? "baked" : "run-time") + ", " +
                                         (schedule.empty() ? "heuristic" : schedule) + ", " +
                                         shape_to_string(shapes[i]);
                expect_outputs(baked ? p.run({inputs[i][0]}) : p.run(inputs[i]), reference::run(runtime, inputs[i]),
                               what);
            }
        }
}

// The same inside a consumer's tasks, at any size.
TEST(Bind, FewerFiltersThanAVectorInTheirConsumersTasksMatchReference) {
    expect_producer_in_consumers_tasks_matches(
        "padded_to_one_fused",
        R"({"type": "Conv2D", "name": "producer", "filters": 12, "kernel_size": 3, "padding": "same",
            "activation": "relu"})",
        R"({"vectorize": "c", "accumulate": "tile", "pack_weights": true, "block_c": 1, "block_x": 4,
            "compute_at": "consumer"})",
        Halide::get_jit_target_from_environment().natural_vector_size<float>() == 4 ? "stored in blocks of 4"
                                                                                   : "zero filters up to 16",
        29);
}

// AVX-512's vectors of 8 filters for 8 to 15 filters over few input
// channels (the heuristic's pick; on other targets whatever it picks there),
// padded to 16 past 8, against the reference.
TEST(Bind, FewFiltersOverFewChannelsMatchReference) {
    for (const char *layer :
         {R"("filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu")",
          R"("filters": 12, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu")",
          R"("filters": 9, "kernel_size": 1)"}) {
        for (int channels : {4, 8}) {
            const graph::Graph g = graph::parse_spec(
                R"({"name": "few", "input": {"name": "x", "shape": [null, null, null, )" + std::to_string(channels) +
                    R"(]}, "layers": [{"type": "Conv2D", "name": "conv", )" + layer + "}]}",
                "few", ".");
            Pipeline p = compile_graph(g, CompileOptions{});
            for (const Shape &shape : {Shape{1, 1, 1, channels}, Shape{2, 19, 23, channels}}) {
                std::vector<Tensor> in = tests::random_call_inputs(g, shape, 23);
                expect_outputs(p.run(in), reference::run(g, in),
                               std::string(layer) + " over " + std::to_string(channels) + ", " + shape_to_string(shape));
            }
        }
    }
}
