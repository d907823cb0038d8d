// The benchmark's layer suite (bench/layers), each layer under every x86
// Conv2D template structure, and the fusion pipelines (bench/fusion) with
// and without their layers computed inside their consumers, compiled
// in-process for this CPU, against the reference: the numbers bench_layers
// and convpipe bench time are the right numbers.
#include <gtest/gtest.h>

#include <fstream>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "reference/reference.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;

namespace {

std::vector<std::string> suite_layers() {
    std::vector<std::string> names;
    for (const auto &e : fs::directory_iterator(tests::source_dir() / "bench" / "layers"))
        if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

class SuiteLayers : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(SuiteLayers, MatchReference) {
    auto [name, structure] = GetParam();
    graph::Graph g = graph::load_spec((tests::source_dir() / "bench" / "layers" / (name + ".json")).string());
    CompileOptions options;
    if (structure != "heuristic") {
        fs::path file = fs::path(::testing::TempDir()) / ("suite_" + name + "_" + structure + ".json");
        std::ofstream(file) << R"({"layers": {")" << g.layers[0].name << R"(": {"accumulate": ")" << structure
                            << R"(", "pack_weights": true}}})";
        options.schedule_file = file.string();
    }
    Pipeline p = compile_graph(g, options);
    std::vector<Tensor> inputs = tests::random_call_inputs(g, g.inputs[0].shape, 3);
    std::vector<Tensor> expected = reference::run(g, inputs);
    std::vector<Tensor> actual = p.run(inputs);
    tests::expect_close(actual.at(0), expected.at(0), name + " (" + structure + ")");
}

INSTANTIATE_TEST_SUITE_P(Bench, SuiteLayers,
                         ::testing::Combine(::testing::ValuesIn(suite_layers()),
                                            ::testing::Values("heuristic", "tile", "rows")),
                         [](const auto &info) { return std::get<0>(info.param) + "_" + std::get<1>(info.param); });

// Two-layer pipelines with fixed shapes: the heuristic's choice (fused, or
// apart) and the other one, from the schedule file beside the spec.
class FusionPipelines : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FusionPipelines, MatchReference) {
    auto [name, schedule] = GetParam();
    const fs::path dir = tests::source_dir() / "bench" / "fusion";
    graph::Graph g = graph::load_spec((dir / (name + ".json")).string());
    CompileOptions options;
    if (!schedule.empty()) options.schedule_file = (dir / (schedule + ".json")).string();
    Pipeline p = compile_graph(g, options);
    std::vector<Tensor> inputs = tests::random_call_inputs(g, g.inputs[0].shape, 5);
    tests::expect_close(p.run(inputs).at(0), reference::run(g, inputs).at(0), name + " " + schedule);
}

INSTANTIATE_TEST_SUITE_P(Bench, FusionPipelines,
                         ::testing::Values(std::make_tuple("mobilenet_block", ""),
                                           std::make_tuple("mobilenet_block", "mobilenet_block_apart"),
                                           std::make_tuple("mobilenet_v2_block", ""),
                                           std::make_tuple("mobilenet_v2_block", "mobilenet_v2_block_chain"),
                                           std::make_tuple("mobilenet_v2_block", "mobilenet_v2_block_apart"),
                                           std::make_tuple("resnet_pair", ""),
                                           std::make_tuple("resnet_pair", "resnet_pair_fused")),
                         [](const auto &info) {
                             const std::string &schedule = std::get<1>(info.param);
                             return schedule.empty() ? std::get<0>(info.param) + "_heuristic" : schedule;
                         });
