// Pins the reference implementation: to Keras through the golden data in
// tests/golden (made by scripts/make_golden.sh), and to a few cases small
// enough to check by hand. Every other numeric test trusts the reference, so
// this suite is what makes it trustworthy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/io.h"
#include "reference/reference.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;

using namespace convpipe::tests;

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesKeras) {
    const std::string name = GetParam();
    const fs::path dir = golden_root() / name;
    const graph::Graph g = graph::load_spec((dir / "spec.json").string());
    const std::vector<Tensor> expected = load_expected(dir);
    ASSERT_EQ(expected.size(), g.outputs.size()) << name << ": one expected*.npy per output";

    const std::vector<Tensor> actual = reference::run(g, {load_npy((dir / "input.npy").string())});
    ASSERT_EQ(actual.size(), expected.size()) << name;
    for (size_t i = 0; i < actual.size(); ++i)
        expect_close(actual[i], expected[i], name + " output " + std::to_string(i) + " (" + g.outputs[i] + ")");
}

INSTANTIATE_TEST_SUITE_P(Keras, GoldenTest, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string> &info) { return info.param; });

// Guards against the data going missing: an empty folder would pass silently.
TEST(Golden, DataIsThere) {
    EXPECT_GE(golden_cases().size(), 30u) << "golden data missing under " << golden_root()
                                          << "; regenerate it with scripts/make_golden.sh";
}

// ---- Cases checked by hand, with graphs built directly (no parser) ----

namespace {

// One Conv2D layer named "conv" reading an input "image" with C channels;
// weights baked.
graph::Graph one_layer(graph::Conv2D conv, int64_t channels, const Tensor &kernel, const Tensor &bias) {
    conv.kernel.shape = kernel.shape();
    conv.kernel.value = kernel;
    conv.kernel.baked = true;
    if (conv.use_bias) {
        conv.bias.shape = bias.shape();
        conv.bias.value = bias;
        conv.bias.baked = true;
    }
    graph::Graph g;
    g.name = "hand";
    g.inputs.push_back({"image", {-1, -1, -1, channels}});
    graph::Layer layer;
    layer.name = "conv";
    layer.inputs = {"image"};
    layer.conv = conv;
    layer.output = {"conv", {-1, -1, -1, conv.filters}};
    layer.in_channels = channels;
    g.layers.push_back(layer);
    g.outputs = {"conv"};
    return g;
}

graph::Conv2D conv_params(int64_t filters, int kh, int kw, graph::Padding padding) {
    graph::Conv2D c;
    c.filters = filters;
    c.kernel_h = kh;
    c.kernel_w = kw;
    c.padding = padding;
    return c;
}

void expect_values(const Tensor &t, const Shape &shape, const std::vector<float> &values) {
    ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
    for (size_t i = 0; i < values.size(); ++i) EXPECT_FLOAT_EQ(t.data()[i], values[i]) << "at flat index " << i;
}

}  // namespace

// DESIGN.md's "edges" example: a 2x2 kernel [[-1,-1],[1,1]] with 'same' pads
// only bottom and right, so out[y][x] = in[y+1][x] + in[y+1][x+1] - in[y][x] - in[y][x+1].
TEST(ReferenceByHand, EdgeKernelSamePadsBottomRight) {
    const Tensor image({1, 3, 3, 1}, {1, 2, 3,
                                      4, 5, 6,
                                      7, 8, 10});
    const Tensor kernel({2, 2, 1, 1}, {-1, -1, 1, 1});
    const Tensor bias({1}, {0});
    graph::Conv2D c = conv_params(1, 2, 2, graph::Padding::Same);
    expect_values(reference::run(one_layer(c, 1, kernel, bias), {image}).at(0), {1, 3, 3, 1},
                  {6, 6, 3,
                   6, 7, 4,
                   -15, -18, -10});
    c.activation = graph::Activation::Relu;
    expect_values(reference::run(one_layer(c, 1, kernel, bias), {image}).at(0), {1, 3, 3, 1},
                  {6, 6, 3,
                   6, 7, 4,
                   0, 0, 0});
}

// Valid, stride 2, ones kernel, bias 1: each output is a 2x2 block sum + 1.
TEST(ReferenceByHand, ValidStride2BlockSums) {
    std::vector<float> ramp(16);
    for (int i = 0; i < 16; ++i) ramp[i] = float(i);
    graph::Conv2D c = conv_params(1, 2, 2, graph::Padding::Valid);
    c.stride_h = c.stride_w = 2;
    const Tensor out = reference::run(one_layer(c, 1, Tensor({2, 2, 1, 1}, {1, 1, 1, 1}), Tensor({1}, {1})),
                                      {Tensor({1, 4, 4, 1}, ramp)}).at(0);
    expect_values(out, {1, 2, 2, 1}, {0 + 1 + 4 + 5 + 1, 2 + 3 + 6 + 7 + 1, 8 + 9 + 12 + 13 + 1, 10 + 11 + 14 + 15 + 1});
}

// Dilation 2 on a row: a 1x3 kernel spans 5 pixels, so 'same' pads 2 each side.
TEST(ReferenceByHand, DilatedRowSame) {
    graph::Conv2D c = conv_params(1, 1, 3, graph::Padding::Same);
    c.dilation_w = 2;
    c.use_bias = false;
    const Tensor out = reference::run(one_layer(c, 1, Tensor({1, 3, 1, 1}, {1, 10, 100}), Tensor()),
                                      {Tensor({1, 1, 5, 1}, {1, 2, 3, 4, 5})}).at(0);
    // out[x] = in[x-2] + 10 in[x] + 100 in[x+2]
    expect_values(out, {1, 1, 5, 1}, {310, 420, 531, 42, 53});
}

// groups 2 with a 1x1 kernel: each filter sees only its own input channel.
TEST(ReferenceByHand, GroupsKeepChannelsApart) {
    graph::Conv2D c = conv_params(2, 1, 1, graph::Padding::Valid);
    c.groups = 2;
    const Tensor out = reference::run(one_layer(c, 2, Tensor({1, 1, 1, 2}, {2, -1}), Tensor({2}, {0.5f, 0})),
                                      {Tensor({1, 1, 1, 2}, {3, 5})}).at(0);
    expect_values(out, {1, 1, 1, 2}, {2 * 3 + 0.5f, -1 * 5});
}

// A kernel and bias given at run time, after the image, in call order.
TEST(ReferenceByHand, RunTimeWeights) {
    graph::Conv2D c = conv_params(1, 1, 1, graph::Padding::Valid);
    graph::Graph g = one_layer(c, 1, Tensor({1, 1, 1, 1}, {0}), Tensor({1}, {0}));
    g.layers[0].conv.kernel.baked = false;
    g.layers[0].conv.kernel.value = Tensor();
    g.layers[0].conv.bias.baked = false;
    g.layers[0].conv.bias.value = Tensor();
    const Tensor out = reference::run(g, {Tensor({1, 1, 2, 1}, {1, 2}), Tensor({1, 1, 1, 1}, {3}), Tensor({1}, {-1})}).at(0);
    expect_values(out, {1, 1, 2, 1}, {3 * 1 - 1, 3 * 2 - 1});
}

// Spot values of Keras 3's activations (the golden cases check them in bulk).
TEST(ReferenceByHand, ActivationValues) {
    using A = graph::Activation;
    EXPECT_DOUBLE_EQ(reference::activate(A::HardSigmoid, 0), 0.5);
    EXPECT_DOUBLE_EQ(reference::activate(A::HardSigmoid, 1), 4.0 / 6.0);  // Keras 3: relu6(x+3)/6, not 0.2x+0.5
    EXPECT_DOUBLE_EQ(reference::activate(A::HardSigmoid, -3), 0);
    EXPECT_DOUBLE_EQ(reference::activate(A::HardSigmoid, 3), 1);
    EXPECT_FLOAT_EQ(float(reference::activate(A::LeakyRelu, -1, graph::Conv2D().alpha)), -0.2f);  // Keras 3 default slope
    EXPECT_NEAR(reference::activate(A::Gelu, 1), 0.8413447460685429, 1e-15);              // exact erf form
    EXPECT_NEAR(reference::activate(A::Selu, -1), -1.1113307378125628, 1e-15);
    EXPECT_NEAR(reference::activate(A::Elu, -1), std::exp(-1.0) - 1, 1e-15);
    EXPECT_NEAR(reference::activate(A::Swish, 1), 0.7310585786300049, 1e-15);
    EXPECT_NEAR(reference::activate(A::Softplus, 0), std::log(2.0), 1e-15);
    EXPECT_NEAR(reference::activate(A::Softplus, 800), 800, 1e-12);  // no overflow
    EXPECT_DOUBLE_EQ(reference::activate(A::Softsign, -1), -0.5);
    EXPECT_DOUBLE_EQ(reference::activate(A::Relu6, 7), 6);
    EXPECT_DOUBLE_EQ(reference::activate(A::Exponential, 0), 1);
    EXPECT_DOUBLE_EQ(reference::activate(A::Abs, -2.5), 2.5);
}

TEST(ReferenceByHand, RandomTensorIsSeededAndInRange) {
    const Tensor a = reference::random_tensor({2, 3, 4, 5}, 7, -2, 3);
    const Tensor b = reference::random_tensor({2, 3, 4, 5}, 7, -2, 3);
    const Tensor c = reference::random_tensor({2, 3, 4, 5}, 8, -2, 3);
    EXPECT_EQ(a.values(), b.values());
    EXPECT_NE(a.values(), c.values());
    for (float v : a.values()) {
        EXPECT_GE(v, -2.0f);
        EXPECT_LT(v, 3.0f);
    }
}

TEST(ReferenceByHand, WrongKernelShapeThrows) {
    graph::Conv2D c = conv_params(1, 2, 2, graph::Padding::Valid);
    const graph::Graph g = one_layer(c, 1, Tensor({3, 3, 1, 1}), Tensor({1}));
    EXPECT_THROW(reference::run(g, {Tensor({1, 4, 4, 1})}), Error);
}
