// Random Conv2D layers, compiled in-process, against the reference: kernel
// sizes 1-7 (square and not), strides 1-3, dilation 1-2, groups, both
// paddings, every activation, batch 1-3, odd and even image sizes.
#include <gtest/gtest.h>

#include <random>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "reference/reference.h"
#include "test_support.h"

using namespace convpipe;
using namespace convpipe::tests;

namespace {

struct RandomLayer {
    std::string spec;
    Shape input;
};

RandomLayer random_layer(int index) {
    std::mt19937 rng(1000 + index);
    auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
    int kh = pick(1, 7), kw = rng() % 3 == 0 ? pick(1, 7) : kh;
    int sh = pick(1, 3), sw = rng() % 3 == 0 ? pick(1, 3) : sh;
    int dh = 1, dw = 1;
    if (sh == 1 && sw == 1 && rng() % 2) dh = pick(1, 2), dw = pick(1, 2);
    int groups = std::vector<int>{1, 1, 2, 3, 4}[rng() % 5];
    int cin = groups * pick(1, groups == 1 ? 9 : 3);
    int filters = groups * pick(1, groups == 1 ? 40 : 12);
    bool same = rng() % 2;
    bool bias = rng() % 4 != 0;
    const char *acts[] = {"linear", "relu", "sigmoid", "tanh", "relu6", "leaky_relu", "elu", "selu",
                          "gelu", "swish", "softplus", "softsign", "hard_sigmoid", "exponential", "abs", "silu"};
    std::string act = acts[index % 16];
    std::string alpha = act == "leaky_relu" && rng() % 2 ? ", \"alpha\": 0.3" : "";
    char spec[1024];
    snprintf(spec, sizeof spec,
             R"({"name": "random_%d", "input": {"name": "x", "shape": [null, null, null, %d]},
                 "layers": [{"type": "Conv2D", "name": "conv", "filters": %d, "kernel_size": [%d, %d],
                  "strides": [%d, %d], "dilation_rate": [%d, %d], "groups": %d, "padding": "%s",
                  "use_bias": %s, "activation": "%s"%s}]})",
             index, cin, filters, kh, kw, sh, sw, dh, dw, groups, same ? "same" : "valid", bias ? "true" : "false",
             act.c_str(), alpha.c_str());
    int64_t min_h = (kh - 1) * dh + 1, min_w = (kw - 1) * dw + 1;
    Shape input{pick(1, 3), min_h + pick(0, 14), min_w + pick(0, 14), cin};
    return {spec, input};
}

}  // namespace

class JitRandom : public ::testing::TestWithParam<int> {};

TEST_P(JitRandom, MatchesReference) {
    RandomLayer r = random_layer(GetParam());
    graph::Graph g = graph::parse_spec(r.spec, "random.json", ".");
    Pipeline p = compile_graph(g);
    std::vector<Tensor> inputs = random_call_inputs(g, r.input, 77 + GetParam());
    // Exponential grows fast: keep its inputs small enough to stay finite.
    if (g.layers[0].conv.activation == graph::Activation::Exponential)
        for (size_t i = 1; i < inputs.size(); i++)
            for (float &v : inputs[i].values()) v *= 0.1f;
    std::vector<Tensor> expected = reference::run(g, inputs);
    std::vector<Tensor> actual = p.run(inputs);
    expect_close(actual.at(0), expected.at(0), r.spec + " on " + shape_to_string(r.input));
}

INSTANTIATE_TEST_SUITE_P(Layers, JitRandom, ::testing::Range(0, 32));
