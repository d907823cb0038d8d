// The code the generator emits, read as assembly: what the schedules count
// on LLVM to do. Cross-compiled for AVX-512, so it runs on any x86 host.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "convpipe/notation.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace convpipe;

namespace {

// The innermost loops of an assembly file that do FMAs: the instructions
// from a label to the first branch back to it, one string each.
std::vector<std::string> fma_loops(const std::string &assembly) {
    std::vector<std::string> loops;
    std::istringstream in(assembly);
    const std::regex label(R"(^(\.LBB\d+_\d+):)"), branch(R"(^\s+j[a-z]+\s+(\.LBB\d+_\d+))");
    std::string line, open, body;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, label)) {
            open = m[1], body.clear();
        } else if (!open.empty() && std::regex_search(line, m, branch) && m[1] == open) {
            if (body.find("vfmadd") != std::string::npos) loops.push_back(body);
            open.clear();
        } else {
            body += line + "\n";
        }
    }
    return loops;
}

// FMAs in each of those loops.
std::vector<int> fmas_per_loop(const std::string &assembly) {
    std::vector<int> counts;
    for (const std::string &loop : fma_loops(assembly)) {
        int fmas = 0;
        for (size_t at = loop.find("vfmadd"); at != std::string::npos; at = loop.find("vfmadd", at + 1)) fmas++;
        counts.push_back(fmas);
    }
    return counts;
}

// Generates the layer `notation` (with its schedule file's parameters for
// the layer, or the heuristic's where empty) for AVX-512 as assembly and
// Halide's statement, and returns the two texts in that order. Empty
// strings (and a test failure) where the generator failed.
std::pair<std::string, std::string> generate(const std::string &name, const std::string &notation,
                                             const std::string &conv_params = "") {
    const fs::path dir = fs::path(::testing::TempDir()) / "convpipe_generated_code";
    fs::create_directories(dir);
    std::ofstream(dir / (name + ".json")) << graph::conv_notation_spec(notation, "layer");
    std::string args = "-g convpipe -f " + name + " -o " + dir.string() +
                       " -e assembly,stmt target=x86-64-linux-avx512_skylake-no_runtime spec=" +
                       (dir / (name + ".json")).string();
    if (!conv_params.empty()) {
        std::ofstream(dir / (name + "_schedule.json")) << R"({"layers": {"conv": )" << conv_params << "}}";
        args += " schedule=" + (dir / (name + "_schedule.json")).string();
    }
    const tests::CommandResult r = tests::run_command(CONVPIPE_GENERATOR, args);
    EXPECT_EQ(r.status, 0) << r.output;
    auto text = [&](const char *ext) {
        std::stringstream out;
        out << std::ifstream(dir / (name + ext)).rdbuf();
        return out.str();
    };
    return {text(".s"), text(".stmt")};
}

}  // namespace

// A guarded last column block over padded filters: 20 filters in one block
// of 2 vectors, 20 columns in blocks of 14, so the last block has 6. The
// template computes that block whole, past the image, and relies on LLVM to
// drop the columns it never stores: 2 x 6 = 12 FMAs per reduction step,
// where 2 x 14 = 28 would compute 8 dead columns (as when the last filter
// vector was stored shifted: 1.3x the time of 2 x 10 blocks). The two
// blocks are unrolled (unrolls_column_blocks), and so are the window's
// columns (the last block is guarded): a loop per column, each without
// the positions that would read the padding, 26, 28 and 28 in the first
// block, 12, 12 and 10 in the last.
TEST(GeneratedCode, GuardedLastColumnBlockComputesOnlyItsColumns) {
    const auto [assembly, stmt] = generate("columns", "1x20x20x40->20 3x3",
                                           R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "rows": 5})");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{26, 28, 28, 12, 12, 10}));
}

namespace {

// The statement of the sum's update (the loops from its first to the
// consume that follows), where no `if` should be left.
std::string sum_update(const std::string &stmt) {
    const size_t update = stmt.find("for (conv_conv.s1.");
    if (update == std::string::npos) return "";
    return stmt.substr(update, stmt.find("consume conv_conv", update) - update);
}

}  // namespace

// Window rows over the zero padding skipped (skips_padding_rows), columns
// not: 3x3 12x12x64 in flat 4 x 6 blocks, half an output row each. Halide
// turns the skip into bounds on the loops around the reduction, so the one
// reduction loop keeps its 24 FMAs per step and no test; with blocks that
// cross row ends the tests would stay inside it, each FMA's position
// guarded (3x3 14x14x256 in 4 x 6: 3.2x the time).
TEST(GeneratedCode, SkippedPaddingRowsLeaveNoTestInTheReduction) {
    const auto [assembly, stmt] =
        generate("rows", "1x12x12x64->64 3x3",
                 R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "parallel_channels": true, "rows": 0, "flat_positions": true})");
    ASSERT_FALSE(assembly.empty() || stmt.empty()) << "no assembly or statement written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{24}));
    const std::string update = sum_update(stmt);
    ASSERT_FALSE(update.empty()) << stmt;
    EXPECT_EQ(update.find("if ("), std::string::npos) << update;
}

// Rows and columns over the padding skipped (skips_padding_columns): 3x3
// 7x7x512 in flat 4 x 7 blocks, one output row each, the heuristic's pick.
// Halide peels the window's first and last columns: three reduction loops,
// the first without the block's first position (24 FMAs per step), the
// second whole (28), the third without its last (24), and no test in any.
// Since no tap reads the padding, the input is read in place: no padded
// copy, and no select left of its zeros.
TEST(GeneratedCode, SkippedPaddingColumnsPeelTheWindowsEdgeColumns) {
    const auto [assembly, stmt] = generate("columns_skipped", "1x7x7x512->512 3x3");
    ASSERT_FALSE(assembly.empty() || stmt.empty()) << "no assembly or statement written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{24, 28, 24}));
    const std::string update = sum_update(stmt);
    ASSERT_FALSE(update.empty()) << stmt;
    EXPECT_EQ(update.find("if ("), std::string::npos) << update;
    EXPECT_EQ(update.find("select("), std::string::npos) << update;
    EXPECT_EQ(stmt.find("allocate conv_padded"), std::string::npos) << stmt;
}

// A row's column blocks unrolled (unrolls_column_blocks): 3x3 28x28x128 in
// two 2 x 14 blocks per row (the heuristic's pick for 28x28x192; for
// 28x28x128 it takes 4 x 6, two input channels per step). Each copy of the
// block peels the window column at its own edge of the image, without the
// position that would read padding (13 positions, 26 FMAs per step), and
// runs the other two columns whole (28); no test in any, and the input
// read in place.
TEST(GeneratedCode, UnrolledColumnBlocksPeelTheirEdgeColumns) {
    const auto [assembly, stmt] =
        generate("column_blocks", "1x28x28x128->128 3x3",
                 R"({"accumulate": "tile", "pack_weights": true, "block_c": 2, "block_x": 14, "parallel_channels": true, "rows": 14})");
    ASSERT_FALSE(assembly.empty() || stmt.empty()) << "no assembly or statement written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{26, 28, 28, 26}));
    const std::string update = sum_update(stmt);
    ASSERT_FALSE(update.empty()) << stmt;
    EXPECT_EQ(update.find("if ("), std::string::npos) << update;
    EXPECT_EQ(update.find("select("), std::string::npos) << update;
    EXPECT_EQ(stmt.find("allocate conv_padded"), std::string::npos) << stmt;
}

// Unrolled column blocks whose last is guarded, stride 1: the window's
// columns unrolled too. 1x7 17x17x160->160 in 2 x 12 blocks, the last of 5
// columns (the heuristic's pick): the last block meets the image's right
// edge with positions never stored, and without the unrolled columns Halide
// left four tests inside its reduction and LLVM spilled around them. Now
// every reduction loop runs straight through, from registers.
TEST(GeneratedCode, GuardedColumnBlocksUnrollTheWindowsColumns) {
    const auto [assembly, stmt] = generate("window_columns", "1x17x17x160->160 1x7");
    ASSERT_FALSE(assembly.empty() || stmt.empty()) << "no assembly or statement written";
    const std::string update = sum_update(stmt);
    ASSERT_FALSE(update.empty()) << stmt;
    EXPECT_EQ(update.find("if ("), std::string::npos) << update;
    const std::vector<std::string> loops = fma_loops(assembly);
    EXPECT_GE(loops.size(), 7u);   // a loop per window column at least
    for (const std::string &loop : loops) EXPECT_EQ(loop.find("(%rsp)"), std::string::npos) << loop;
}

// Not for stems, whose step already unrolls all their input channels: 5x5
// 64x64x3->32 in 2 x 13 blocks (the heuristic's pick; five per row, the
// last guarded) with the window's columns unrolled too held 15 steps' weight
// vectors beside 26 accumulators, and LLVM spilled them inside the
// reduction loops (2.2x the time of 2 x 8, whose blocks divide the width).
// The window's columns stay a loop, with nothing spilled.
TEST(GeneratedCode, StemsKeepTheWindowsColumnsRolled) {
    const auto [assembly, stmt] = generate("stem_columns", "1x64x64x3->32 5x5");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    const std::vector<std::string> loops = fma_loops(assembly);
    EXPECT_FALSE(loops.empty());
    for (const std::string &loop : loops) EXPECT_EQ(loop.find("(%rsp)"), std::string::npos) << loop;
}

// A window one column wide whose filters are padded and whose last column
// block is guarded reads its input's columns clamped, untested
// (schedule::clamps_columns): 3x1 20x50x128->100 in 4 x 6 blocks, read in
// place, loads no input masked in any FMA loop. With the test, Halide left
// it in every column block of the padded channel block: a masked load and
// a broadcast per input for four of the six columns (1.2x the time).
TEST(GeneratedCode, WindowsOneColumnWideReadTheirColumnsUntested) {
    const auto [assembly, stmt] =
        generate("clamped_columns", "1x20x50x128->100 3x1",
                 R"({"accumulate": "tile", "pack_weights": true, "block_c": 4, "block_x": 6, "rows": 2, "pad": "in_place"})");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    const std::vector<std::string> loops = fma_loops(assembly);
    EXPECT_FALSE(loops.empty());
    for (const std::string &loop : loops) EXPECT_EQ(loop.find("{z}"), std::string::npos) << loop;
}

// Two input channels per reduction step on AVX-512 where both steps'
// weight vectors fit beside the accumulators (tile_channels_per_step):
// 3x3 8x56x56x64 in 4 x 6 blocks, the heuristic's pick (ten per row, not
// unrolled: eight images outgrow the L2), runs 2 x 24 = 48 FMAs per loop
// iteration, and the row's last block of 2 columns 2 x 8.
// A 4 x 7 block (28 accumulators) keeps one step (24, 28 and 24 in
// SkippedPaddingColumnsPeelTheWindowsEdgeColumns), as do flat blocks that
// cross row ends (24 in SkippedPaddingRowsLeaveNoTestInTheReduction).
TEST(GeneratedCode, Avx512BlocksTakeTwoInputChannelsPerStepWhereTheirWeightsFit) {
    const auto [assembly, stmt] = generate("two_steps", "8x56x56x64->64 3x3");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{48, 16}));
    // Both steps' weights in registers: nothing spilled to the stack.
    for (const std::string &loop : fma_loops(assembly)) EXPECT_EQ(loop.find("(%rsp)"), std::string::npos) << loop;
}

// Eight input channels per step where one vector holds all the filters and
// the input outgrows the L2 (tile_channels_per_step): 1x1 73x64x320->16 in
// 1 x 16 blocks (6 MB of input) runs 8 x 16 = 128 FMAs per loop iteration;
// 28x28x256->16 (800 KB) keeps two steps, 2 x 16 (and 2 x 12 in the row's
// last block).
TEST(GeneratedCode, OneVectorLayersStreamingTheirInputTakeEightChannelsPerStep) {
    const auto [assembly, stmt] = generate("eight_steps", "1x73x64x320->16 1x1 linear");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{128}));
    const auto [small, small_stmt] = generate("two_steps_in_l2", "1x28x28x256->16 1x1");
    ASSERT_FALSE(small.empty()) << "no assembly written";
    EXPECT_EQ(fmas_per_loop(small), (std::vector<int>{32, 24}));
}

// Sums over rotated groups (schedule::rotates_groups), the heuristic's pick
// for 3x3 56x56x128 in 32 groups of 4: one vector of channels by 6 columns
// by 4 sums, 24 FMAs per step (8 in the last block of 2 columns), each
// reading a whole input vector; the sums rotated back within groups of 4
// floats by in-lane shuffles (vshufps, vshufpd), with no gather and no
// cross-lane permute anywhere, where the plain form gathered each filter's
// group channel (0.68 ms vs 0.28, 1 thread).
TEST(GeneratedCode, RotatedGroupsReadWholeVectorsAndShuffleInLanes) {
    const auto [assembly, stmt] = generate("rotated", "1x56x56x128->128 3x3 g32");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    EXPECT_EQ(fmas_per_loop(assembly), (std::vector<int>{24, 8}));
    EXPECT_NE(assembly.find("vshufps"), std::string::npos);
    for (const char *instruction : {"vgather", "vpermps", "vpermt2ps", "vpermi2ps"})
        EXPECT_EQ(assembly.find(instruction), std::string::npos) << instruction;
}

// Sums over padded groups (schedule::pads_groups), the heuristic's pick for
// 3x3 35x33x1024->768 in 64 groups of 12 filters over 16 channels: each
// group's filters padded to one vector of 16, blocks of 4 groups by 6
// columns, two input channels per step (48 FMAs), each FMA broadcasting its
// group's input channel from memory; the store reads each group's 12 sums
// as one dense part-vector from the start of its 16 (conv_conv[ramp(16, 1,
// 12)] for the second). No gather and no permute anywhere, where vectors
// straddling groups gathered each lane's input channel (79 ms vs 2.5, 1
// thread).
TEST(GeneratedCode, PaddedGroupsBroadcastEachGroupsChannelAndStoreGroupsWhole) {
    const auto [assembly, stmt] = generate("padded", "1x35x33x1024->768 3x3 g64");
    ASSERT_FALSE(assembly.empty()) << "no assembly written";
    const std::vector<int> fmas = fmas_per_loop(assembly);
    ASSERT_FALSE(fmas.empty());
    EXPECT_EQ(*std::max_element(fmas.begin(), fmas.end()), 48);
    EXPECT_NE(stmt.find("conv_conv[ramp(16, 1, 12)]"), std::string::npos);
    for (const char *instruction : {"vgather", "vpermps", "vpermt2ps", "vpermi2ps"})
        EXPECT_EQ(assembly.find(instruction), std::string::npos) << instruction;
}
