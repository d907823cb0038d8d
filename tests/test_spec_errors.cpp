// Bad specs never reach Halide: each is refused with a message naming the
// file, the JSON path and what was expected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/notation.h"
#include "test_support.h"

using namespace convpipe;
using ::testing::HasSubstr;

namespace {

const char *kEdges = R"({"name": "edges", "input": {"name": "image", "shape": [null, null, null, 1]},
  "layers": [{"type": "Conv2D", "name": "horizontal", "filters": 1, "kernel_size": [2, 2], "padding": "same",
              "activation": "relu", "kernel": [[[[-1]], [[-1]]], [[[1]], [[1]]]], "bias": [0]}]})";

// The spec above with one substring replaced.
std::string edges_with(const std::string &from, const std::string &to) {
    std::string s = kEdges;
    size_t pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return s.replace(pos, from.size(), to);
}

std::string error_of(const std::string &text) {
    try {
        graph::parse_spec(text, "edges.json", ".");
    } catch (const SpecError &e) {
        return e.what();
    } catch (const std::exception &e) {
        return std::string("wrong exception type: ") + e.what();
    }
    return "no error";
}

}  // namespace

TEST(SpecErrors, TheGoodSpecParses) { EXPECT_EQ(error_of(kEdges), "no error"); }

TEST(SpecErrors, KernelSizeNamesPathAndValue) {
    EXPECT_EQ(error_of(edges_with("\"kernel_size\": [2, 2]", "\"kernel_size\": [0, 2]")),
              "edges.json: layers[0].kernel_size: expected 2 positive integers, got [0,2]");
}

TEST(SpecErrors, InvalidJsonGivesLineAndColumn) {
    EXPECT_THAT(error_of("{\"name\": \"x\",\n  \"layers\": [}"), HasSubstr("edges.json: invalid JSON"));
    EXPECT_THAT(error_of("{\"name\": \"x\",\n  \"layers\": [}"), HasSubstr("line 2"));
    EXPECT_THAT(error_of(""), HasSubstr("invalid JSON"));
    EXPECT_THAT(error_of("[1, 2]"), HasSubstr("expected a JSON object"));
}

TEST(SpecErrors, UnknownLayerTypeListsKnownOnes) {
    EXPECT_THAT(error_of(edges_with("\"Conv2D\"", "\"Dense\"")),
                HasSubstr("layers[0].type: unknown layer type \"Dense\" (known: "));
}

TEST(SpecErrors, UnknownActivationListsKnownOnes) {
    std::string e = error_of(edges_with("\"relu\"", "\"relu7\""));
    EXPECT_THAT(e, HasSubstr("layers[0].activation: unknown activation \"relu7\""));
    EXPECT_THAT(e, HasSubstr("gelu"));
}

TEST(SpecErrors, MissingAndUnknownKeys) {
    EXPECT_THAT(error_of(edges_with("\"filters\": 1, ", "")), HasSubstr("layers[0]: missing required key 'filters'"));
    EXPECT_THAT(error_of(edges_with("\"padding\"", "\"pading\"")), HasSubstr("layers[0]: unknown key 'pading'"));
    EXPECT_THAT(error_of(edges_with("\"name\": \"edges\", ", "")), HasSubstr("missing required key 'name'"));
}

TEST(SpecErrors, BadValues) {
    EXPECT_THAT(error_of(edges_with("\"same\"", "\"full\"")),
                HasSubstr("layers[0].padding: expected \"valid\" or \"same\", got \"full\""));
    EXPECT_THAT(error_of(edges_with("\"filters\": 1", "\"filters\": -3")),
                HasSubstr("layers[0].filters: expected a positive integer, got -3"));
    EXPECT_THAT(error_of(edges_with("\"name\": \"edges\"", "\"name\": \"my edges\"")),
                HasSubstr("name: expected a C identifier"));
    EXPECT_THAT(error_of(edges_with("[null, null, null, 1]", "[null, null, null, null]")),
                HasSubstr("input.shape[3]: expected a positive channel count"));
    EXPECT_THAT(error_of(edges_with("[null, null, null, 1]", "[null, null, 1]")),
                HasSubstr("input.shape: expected [N, H, W, C]"));
    EXPECT_THAT(error_of(edges_with("\"relu\",", "\"relu\", \"strides\": 2, \"dilation_rate\": 2,")),
                HasSubstr("strides > 1 together with dilation_rate > 1"));
    EXPECT_THAT(error_of(edges_with("\"relu\",", "\"relu\", \"alpha\": 0.1,")), HasSubstr("only leaky_relu takes alpha"));
}

TEST(SpecErrors, WeightShapesAreChecked) {
    EXPECT_THAT(error_of(edges_with("[[[[-1]], [[-1]]], [[[1]], [[1]]]]", "[[[[-1]], [[-1]]]]")),
                HasSubstr("layers[0].kernel: expected an array of 2 entries (weight shape [2, 2, 1, 1])"));
    EXPECT_THAT(error_of(edges_with("[[[[-1]], [[-1]]], [[[1]], [[1]]]]", "[[[[-1]], [[-1]]], [[[1]], [[\"a\"]]]]")),
                HasSubstr("layers[0].kernel[1][1][0][0]: expected a number, got \"a\""));
    EXPECT_THAT(error_of(edges_with("\"bias\": [0]", "\"bias\": [0, 1]")),
                HasSubstr("layers[0].bias: expected an array of 1 entries"));
    EXPECT_THAT(error_of(edges_with("\"bias\": [0]", "\"bias\": [0], \"use_bias\": false")),
                HasSubstr("layers[0].bias: given, but use_bias is false"));
    EXPECT_THAT(error_of(edges_with("\"bias\": [0]", "\"bias\": {\"npy\": \"no_such_file.npy\"}")),
                HasSubstr("layers[0].bias.npy: "));
}

TEST(SpecErrors, GroupsMustDivide) {
    std::string s = edges_with("\"filters\": 1", "\"filters\": 4, \"groups\": 2");
    EXPECT_THAT(error_of(s), HasSubstr("layers[0].groups: groups (2) must divide both the input channels (1)"));
}

TEST(SpecErrors, GraphStructure) {
    EXPECT_THAT(error_of(edges_with("\"relu\",", "\"relu\", \"inputs\": [\"nowhere\"],")),
                HasSubstr("layers[0].inputs[0]: 'nowhere' is not a graph input or an earlier layer"));
    EXPECT_THAT(error_of(std::string(kEdges).insert(std::string(kEdges).size() - 1, ", \"outputs\": [\"x\"]")),
                HasSubstr("outputs[0]: expected the name of a layer"));
    EXPECT_THAT(error_of(edges_with("\"layers\": [", "\"layers\": [], \"x\": [")), HasSubstr("unknown key 'x'"));
    std::string two = edges_with("\"bias\": [0]}", "\"bias\": [0]}, {\"type\": \"Conv2D\", \"name\": \"horizontal\", \"filters\": 1, \"kernel_size\": 1}");
    EXPECT_THAT(error_of(two), HasSubstr("layers[1].name: duplicate name 'horizontal'"));
}

TEST(SpecErrors, FixedInputTooSmallForValidWindow) {
    std::string s = edges_with("[null, null, null, 1]", "[1, 1, 5, 1]");
    s.replace(s.find("\"same\""), 6, "\"valid\"");
    EXPECT_THAT(error_of(s), HasSubstr("is smaller than the 2x2 'valid' window"));
}

TEST(SpecErrors, Files) {
    try {
        graph::load_spec("/nonexistent/spec.json");
        FAIL() << "no error";
    } catch (const SpecError &e) {
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent/spec.json: cannot open spec file"));
    }
    std::string dir = ::testing::TempDir();
    EXPECT_THROW(graph::load_spec(dir), SpecError);
    std::string garbage = dir + "/garbage.json";
    std::ofstream(garbage) << "\x01\x02 not json";
    EXPECT_THROW(graph::load_spec(garbage), SpecError);
}

TEST(SpecErrors, NoneCrashOnMangledSpecs) {
    // Every prefix of a good spec is bad JSON; each must give a SpecError.
    std::string s = kEdges;
    for (size_t n = 0; n < s.size(); n += 7) EXPECT_THAT(error_of(s.substr(0, n)), HasSubstr("edges.json: ")) << n;
}

TEST(ShapeInference, TensorFlowSamePaddingAndValidSizes) {
    graph::SpatialWindow same{2, 1, 1, graph::Padding::Same};
    EXPECT_EQ(same.output_size(5), 5);
    EXPECT_EQ(same.pad_before(5), 0);   // a 2x2 kernel pads only after
    graph::SpatialWindow s2{3, 2, 1, graph::Padding::Same};
    EXPECT_EQ(s2.output_size(7), 4);
    EXPECT_EQ(s2.pad_before(7), 1);
    EXPECT_EQ(s2.output_size(8), 4);
    EXPECT_EQ(s2.pad_before(8), 0);     // total 1: nothing before, 1 after
    graph::SpatialWindow valid{5, 3, 1, graph::Padding::Valid};
    EXPECT_EQ(valid.output_size(12), 3);
    EXPECT_EQ(valid.output_size(4), 0);
    graph::SpatialWindow dilated{3, 1, 2, graph::Padding::Valid};
    EXPECT_EQ(dilated.output_size(9), 5);
}

// The input pixels a run of outputs reads, against a count of the taps'
// distinct positions.
TEST(ShapeInference, PixelsReadSkipWhatStridesAndDilationsSkip) {
    for (int kernel = 1; kernel <= 7; kernel++)
        for (int stride = 1; stride <= 4; stride++)
            for (int dilation = 1; dilation <= 3; dilation++)
                for (int64_t outputs = 1; outputs <= 9; outputs++) {
                    std::set<int64_t> taps;
                    for (int64_t o = 0; o < outputs; o++)
                        for (int i = 0; i < kernel; i++) taps.insert(o * stride + int64_t(i) * dilation);
                    const graph::SpatialWindow window{kernel, stride, dilation, graph::Padding::Valid};
                    EXPECT_EQ(window.pixels_read(outputs), int64_t(taps.size()))
                        << kernel << " taps, stride " << stride << ", dilation " << dilation << ", " << outputs;
                }
    EXPECT_EQ((graph::SpatialWindow{1, 2, 1, graph::Padding::Same}.pixels_read(56)), 56);
}

TEST(ShapeInference, CallInputsAndErrors) {
    std::string s = R"({"name": "rt", "input": {"name": "x", "shape": [null, null, null, 3]},
      "layers": [{"type": "Conv2D", "name": "a", "filters": 4, "kernel_size": 3}]})";
    graph::Graph g = graph::parse_spec(s, "rt.json", ".");
    auto call = g.call_inputs();
    ASSERT_EQ(call.size(), 3u);
    EXPECT_EQ(call[1].name, "a.kernel");
    EXPECT_EQ(shape_to_string(call[1].shape), "[3, 3, 3, 4]");
    EXPECT_EQ(call[2].name, "a.bias");
    auto out = g.infer_output_shapes({{2, 10, 12, 3}, {3, 3, 3, 4}, {4}});
    EXPECT_EQ(shape_to_string(out[0]), "[2, 8, 10, 4]");
    EXPECT_DOUBLE_EQ(g.flops({{2, 10, 12, 3}, {3, 3, 3, 4}, {4}}), 2.0 * 2 * 8 * 10 * 4 * 27);
    EXPECT_EQ(g.parameter_count(), 3 * 3 * 3 * 4 + 4);
    EXPECT_THAT([&] { g.infer_output_shapes({{2, 10, 12, 2}, {3, 3, 3, 4}, {4}}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("input 'x' must have NHWC shape [-1, -1, -1, 3]")));
    EXPECT_THAT([&] { g.infer_output_shapes({{1, 2, 12, 3}, {3, 3, 3, 4}, {4}}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("layer 'a' needs at least 3x3 pixels")));
    EXPECT_THAT([&] { g.infer_output_shapes({{1, 5, 5, 3}}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("expected 3 inputs (x, a.kernel, a.bias), got 1")));
}

TEST(ShapeInference, EmbeddedGraphRoundTrips) {
    graph::Graph g = graph::parse_spec(kEdges, "edges.json", ".");
    graph::Graph back = graph::parse_embedded(graph::to_json(g, false), "embedded");
    EXPECT_EQ(back.name, "edges");
    EXPECT_TRUE(back.layers[0].conv.kernel.baked);
    EXPECT_EQ(back.call_inputs().size(), 1u);
    graph::Graph full = graph::parse_spec(graph::to_json(g, true), "full.json", ".");
    EXPECT_EQ(full.layers[0].conv.kernel.value.values(), g.layers[0].conv.kernel.value.values());
    // The embedded form's placeholders are not accepted from users.
    EXPECT_THROW(graph::parse_spec(graph::to_json(g, false), "user.json", "."), SpecError);
}

TEST(SpecErrors, OtherLayerTypes) {
    const std::string head = R"({"name": "p", "input": {"name": "x", "shape": [null, null, null, 3]}, "layers": [)";
    EXPECT_THAT(error_of(head + R"({"type": "Add", "name": "s"}]})"),
                HasSubstr("layers[0]: missing required key 'inputs' (Add takes two or more)"));
    EXPECT_THAT(error_of(head + R"({"type": "Add", "inputs": ["x"]}]})"),
                HasSubstr("layers[0].inputs: expected a list of two or more input names"));
    EXPECT_THAT(error_of(head + R"({"type": "ChannelMean"}, {"type": "Add", "inputs": ["x", "channel_mean"]}]})"),
                HasSubstr("(Add needs equal shapes)"));
    EXPECT_THAT(error_of(head + R"({"type": "Activation"}]})"),
                HasSubstr("layers[0]: missing required key 'activation'"));
    EXPECT_THAT(error_of(head + R"({"type": "MinMaxNormalization", "scale": 2}]})"),
                HasSubstr("layers[0]: unknown key 'scale'"));
    graph::Graph g = graph::parse_spec(head + R"({"type": "ChannelMean"}, {"type": "Activation", "activation": "abs"}]})",
                                       "p.json", ".");
    EXPECT_EQ(g.layers[0].name, "channel_mean");
    EXPECT_EQ(g.layers[1].name, "activation");
    EXPECT_EQ(shape_to_string(g.layers[1].output.shape), "[-1, -1, -1, 1]");
}

// The one-line layer notation (bench_layers --layer, the fixed-shape tests):
// what it builds, that it writes back the same, and its errors.
TEST(ConvNotation, ParsesWritesBackAndRefuses) {
    graph::Graph g = graph::parse_conv_notation("2x15x17x32->48 5x3 s2 d1 g4 valid linear", "n");
    ASSERT_EQ(g.layers.size(), 1u);
    const graph::Layer &l = g.layers[0];
    EXPECT_EQ(g.inputs.at(0).shape, (Shape{2, 15, 17, 32}));
    EXPECT_EQ(l.conv.filters, 48);
    EXPECT_EQ(l.conv.kernel_h, 5);
    EXPECT_EQ(l.conv.kernel_w, 3);
    EXPECT_EQ(l.conv.stride_h, 2);
    EXPECT_EQ(l.conv.groups, 4);
    EXPECT_EQ(l.conv.padding, graph::Padding::Valid);
    EXPECT_EQ(l.conv.activation, graph::Activation::Linear);
    for (const char *text : {"2x15x17x32->48 5x3 s2 g4 valid linear", "1x56x56x64->64 3x3",
                             "1x112x112x32->32 3x3 s2 dw", "1x64x64x64->64 3x3 d2"}) {
        graph::Graph again = graph::parse_conv_notation(text, "n");
        EXPECT_EQ(graph::conv_notation(again.layers.at(0), again.inputs.at(0).shape), text);
    }
    auto error = [](const std::string &text) {
        try {
            graph::parse_conv_notation(text, "n");
        } catch (const SpecError &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_THAT(error("1x8x8x8->8 3x3 q"), HasSubstr("unknown field 'q'"));
    EXPECT_THAT(error("1x8x8x8 3x3"), HasSubstr("no '->F'"));
    EXPECT_THAT(error("1x8x8->8 3x3"), HasSubstr("four sizes"));
    EXPECT_THAT(error("1x8x8x8->0 3x3"), HasSubstr("'0' is not a positive size"));
    EXPECT_THAT(error("1x8x8x8->8 3"), HasSubstr("KHxKW"));
    EXPECT_THAT(error("1x8x8x6->8 3x3 g4"), HasSubstr("groups (4) must divide"));
}
