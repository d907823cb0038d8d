// The command line as a user drives it: exit codes, messages, files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "convpipe/convpipe.h"
#include "convpipe/notation.h"
#include "reference/reference.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;
using ::testing::HasSubstr;

namespace {

using Result = tests::CommandResult;
Result cli(const std::string &args) { return tests::run_command(CONVPIPE_CLI, args); }

fs::path temp(const std::string &name) {
    fs::path dir = fs::path(::testing::TempDir()) / "convpipe_cli";
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST(Cli, ListShowsLinkedPipelines) {
    Result r = cli("list");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("edges"));
    EXPECT_THAT(r.output, HasSubstr("x86"));
}

TEST(Cli, RunSpecMatchesReference) {
    fs::path spec = tests::golden_root() / "golden_k5_same_s3" / "spec.json";
    Tensor x = reference::random_tensor({2, 11, 14, 3}, 4);
    graph::Graph g = graph::load_spec(spec.string());
    if (g.inputs[0].shape[3] != 3) x = reference::random_tensor({2, 11, 14, g.inputs[0].shape[3]}, 4);
    save_npy(x, temp("x.npy").string());
    Result r = cli("run " + spec.string() + " --input " + temp("x.npy").string() + " --output " + temp("y.npy").string());
    ASSERT_EQ(r.status, 0) << r.output;
    tests::expect_close(load_npy(temp("y.npy").string()), reference::run(g, {x})[0], "convpipe run");
}

TEST(Cli, RunLinkedPipelineOnAnImage) {
    fs::path photo = tests::source_dir() / "pipelines" / "images" / "coffee.png";
    Result r = cli("run edges --input " + photo.string() + " --output " + temp("edges.npy").string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(shape_to_string(load_npy(temp("edges.npy").string()).shape()), "[1, 400, 600, 1]");
}

TEST(Cli, SeveralOutputsGoToAFolder) {
    fs::path spec = tests::golden_root() / "golden_dag_two_outputs";
    Result r = cli("run " + (spec / "spec.json").string() + " -i " + (spec / "input.npy").string() + " -o " +
                   temp("dag").string());
    ASSERT_EQ(r.status, 0) << r.output;
    std::vector<Tensor> expected = tests::load_expected(spec);
    graph::Graph g = graph::load_spec((spec / "spec.json").string());
    for (size_t i = 0; i < g.outputs.size(); i++)
        tests::expect_close(load_npy((temp("dag") / (g.outputs[i] + ".npy")).string()), expected[i], g.outputs[i]);
}

TEST(Cli, BadSpecExitsWith2) {
    std::ofstream(temp("bad.json")) << R"({"name": "bad", "input": {"name": "x", "shape": [null, null, null, 1]},
      "layers": [{"type": "Conv2D", "filters": 1, "kernel_size": [0, 2]}]})";
    save_npy(Tensor({4, 4}), temp("x4.npy").string());
    Result r = cli("run " + temp("bad.json").string() + " -i " + temp("x4.npy").string() + " -o " + temp("o.npy").string());
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, HasSubstr("bad.json: layers[0].kernel_size: expected 2 positive integers, got [0,2]"));
}

TEST(Cli, RunTimeFailuresExitWith1) {
    Result missing = cli("run edges -i /nonexistent/x.npy -o " + temp("o.npy").string());
    EXPECT_EQ(missing.status, 1);
    EXPECT_THAT(missing.output, HasSubstr("/nonexistent/x.npy"));
    Result unknown = cli("run nothing_here -i " + temp("x4.npy").string() + " -o " + temp("o.npy").string());
    EXPECT_EQ(unknown.status, 1);
    EXPECT_THAT(unknown.output, HasSubstr("unknown pipeline 'nothing_here'"));
    save_npy(Tensor({1, 4, 4, 3}), temp("rgb.npy").string());
    Result channels = cli("run edges -i " + temp("rgb.npy").string() + " -o " + temp("o.npy").string());
    EXPECT_EQ(channels.status, 1);
    EXPECT_THAT(channels.output, HasSubstr("must have NHWC shape [-1, -1, -1, 1]"));
    Result cuda = cli("run edges --device cuda -i " + temp("x4.npy").string() + " -o " + temp("o.npy").string());
    EXPECT_EQ(cuda.status, 1);
    EXPECT_THAT(cuda.output, HasSubstr("CUDA"));
}

TEST(Cli, UsageErrorsExitWith2) {
    EXPECT_EQ(cli("").status, 2);
    EXPECT_EQ(cli("frobnicate").status, 2);
    EXPECT_EQ(cli("run edges").status, 2);
    Result dev = cli("run edges --device tpu -i x.npy -o y.npy");
    EXPECT_EQ(dev.status, 2);
    EXPECT_THAT(dev.output, HasSubstr("--device"));
    for (const char *sub : {"list", "info", "run", "demo", "spec"}) EXPECT_EQ(cli(std::string(sub) + " --help").status, 0) << sub;
}

TEST(Cli, InfoReportsShapesAndFlops) {
    Result r = cli("info " + (tests::specs_root() / "aot_k3_same_tanh.json").string() + " --shape 1,56,56,16");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("Conv2D 16->20 3x3 same tanh"));
    EXPECT_THAT(r.output, HasSubstr("0.018 GFLOP"));   // 2 * 56*56*20 * 9*16
}

TEST(Cli, SpecWritesOneLayerFromItsNotation) {
    Result r = cli("spec \"2x9x11x16->24 3x3 s2 g4 valid linear\" --name head");
    ASSERT_EQ(r.status, 0) << r.output;
    std::ofstream(temp("head.json")) << r.output;
    graph::Graph g = graph::load_spec(temp("head.json").string());
    EXPECT_EQ(g.name, "head");
    ASSERT_EQ(g.layers.size(), 1u);
    // The layer reads back as the same line (the notation's fields are
    // checked one by one in test_spec_errors), with the output 'valid'
    // stride 2 gives.
    EXPECT_EQ(graph::conv_notation(g.layers[0], g.inputs.at(0).shape), "2x9x11x16->24 3x3 s2 g4 valid linear");
    EXPECT_EQ(g.layers[0].output.shape, (Shape{2, 4, 5, 24}));
    // Bad notation, or one the spec rules refuse: exit 2, saying why.
    Result bad = cli("spec \"1x7x7x64 3x3\"");
    EXPECT_EQ(bad.status, 2);
    EXPECT_THAT(bad.output, HasSubstr("no '->F' after the input shape"));
    Result groups = cli("spec \"1x7x7x64->30 3x3 g4\"");
    EXPECT_EQ(groups.status, 2);
    EXPECT_THAT(groups.output, HasSubstr("groups (4) must divide"));
}
