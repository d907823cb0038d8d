// The x86 Conv2D heuristic over a grid of layer shapes, for AVX2 and
// AVX-512: every choice it makes must be one the template can run well -
// register blocks that fit the vector registers, row tasks that hold whole
// register blocks, template-only knobs only with their template, and a
// kernel layout the layer's filter count allows. (Whether the numbers come
// out right is the other tests' business; these are the choices' rules.)
#include <gtest/gtest.h>

#include <sstream>
#include <utility>

#include "convpipe/graph.h"
#include "convpipe/notation.h"
#include "convpipe/schedule.h"

using namespace convpipe;

namespace {

struct LayerShape {
    int h, w, c, f, k, stride, groups;
};

graph::Graph one_layer(const LayerShape &s) {
    std::ostringstream j;
    j << R"({"name": "grid", "input": {"name": "x", "shape": [1, )" << s.h << ", " << s.w << ", " << s.c
      << R"(]}, "layers": [{"type": "Conv2D", "name": "conv", "filters": )" << s.f << R"(, "kernel_size": )"
      << s.k << R"(, "strides": )" << s.stride << R"(, "groups": )" << s.groups
      << R"(, "padding": "same", "activation": "relu"}]})";
    return graph::parse_spec(j.str(), "grid", ".");
}

std::vector<LayerShape> grid() {
    std::vector<LayerShape> shapes;
    for (int hw : {1, 2, 3, 7, 14, 17, 28, 56, 112})
        for (int c : {3, 8, 16, 64, 256})
            for (int f : {3, 8, 16, 20, 64, 256})
                for (int k : {1, 3, 5})
                    for (int stride : {1, 2}) {
                        shapes.push_back({hw, hw, c, f, k, stride, 1});
                        if (c == f) shapes.push_back({hw, hw, c, f, k, stride, c});   // depthwise
                    }
    shapes.push_back({7, 7, 512, 512, 3, 1, 1});
    shapes.push_back({224, 224, 3, 64, 7, 2, 1});
    shapes.push_back({20, 30, 40, 20, 3, 1, 1});
    shapes.push_back({20, 20, 20, 3, 3, 1, 1});   // input channels in part vectors
    shapes.push_back({20, 20, 5, 3, 3, 1, 1});
    for (int groups : {2, 3, 4, 32}) shapes.push_back({28, 28, 96 * groups / 2, 96 * groups / 2, 3, 1, groups});
    shapes.push_back({64, 64, 32, 32, 3, 1, 4});   // groups of one vector
    return shapes;
}

// The heuristic's choice for one layer with AVX2 and FMA.
schedule::Conv2DParams avx2_params(const LayerShape &s) {
    graph::Graph g = one_layer(s);
    return schedule::conv2d_heuristic(g.layers.at(0), Halide::Target("x86-64-linux-avx2-fma"));
}

// The same with AVX-512.
schedule::Conv2DParams avx512_params(const LayerShape &s) {
    graph::Graph g = one_layer(s);
    return schedule::conv2d_heuristic(g.layers.at(0), Halide::Target("x86-64-linux-avx512_skylake"));
}

const char *const kAvx512 = "x86-64-linux-avx512_skylake";

// A layer in bench_layers' notation ("1x14x14x128->100 3x3").
graph::Layer notation_layer(const char *notation) {
    return graph::parse_conv_notation(notation, "conv").layers.at(0);
}

// The heuristic's choice for a layer in that notation.
schedule::Conv2DParams params_for(const char *notation, const char *target = kAvx512) {
    return schedule::conv2d_heuristic(notation_layer(notation), Halide::Target(target));
}

// The heuristic's register block for it: vectors of filters, columns.
std::pair<int, int> block_of(const char *notation) {
    const schedule::Conv2DParams p = params_for(notation);
    return {p.block_c, p.block_x};
}

}  // namespace

TEST(Heuristic, ChoicesFitTheTemplate) {
    for (const char *target_name : {"x86-64-linux-avx2-fma", "x86-64-linux-avx512_skylake", "x86-64-linux-sse41"}) {
        const Halide::Target target(target_name);
        const int V = target.natural_vector_size<float>();
        const int registers = V >= 16 ? 32 : 16;
        for (const LayerShape &s : grid()) {
            graph::Graph g = one_layer(s);
            const graph::Layer &l = g.layers.at(0);
            const schedule::Conv2DParams p = schedule::conv2d_heuristic(l, target);
            std::ostringstream where;
            where << target_name << " " << s.h << "x" << s.w << "x" << s.c << "->" << s.f << " " << s.k << "x" << s.k
                  << " s" << s.stride << " g" << s.groups << ": " << p.to_json().dump();
            SCOPED_TRACE(where.str());
            const int64_t h = l.output.shape[1];
            if (p.vectorize == "c") {
                // In the vectors the parameters ask for (vector_floats), at
                // least one of filters unless the tiles pad them to one.
                const int Vp = schedule::vector_floats(p, target);
                ASSERT_TRUE(s.f >= Vp || schedule::pads_filters(l, p, Vp));
                // Accumulators, plus a vector of each input channel's values
                // where the layer is depthwise (its weights are FMA memory
                // operands), else block_c weight vectors and a broadcast;
                // AVX-512's flat 4 x 7 blocks leave the broadcast no
                // register (one accumulator spills per step), taken where
                // they save blocks (Avx512FlatBlockShapes).
                const bool depthwise = s.groups == s.c && s.f == s.c;
                const bool flat_4x7 = p.flat_positions && p.block_c == 4 && p.block_x == 7 && Vp == 16;
                EXPECT_LE(p.block_c * p.block_x * p.block_y + p.block_c + (depthwise || flat_4x7 ? 0 : 1), registers);
                // At most the filters, rounded up to whole vectors where
                // the tile template pads them (or each group's).
                const int padded_group = schedule::pads_groups(l, p, target) ? schedule::padded_group_filters(l, Vp) : 0;
                const int64_t vectors = schedule::pads_filters(l, p, Vp) ? (s.f + Vp - 1) / Vp
                                        : padded_group > 0               ? s.groups * padded_group / Vp
                                                                         : s.f / Vp;
                EXPECT_LE(p.block_c, vectors);
                // Grouped: a register block stays within one group, or
                // holds whole groups, wherever the groups hold whole vectors;
                // whole padded groups where they are padded.
                const int per_group = s.f / s.groups, cb = p.block_c * Vp;
                if (s.groups > 1 && per_group % Vp == 0) EXPECT_TRUE(per_group % cb == 0 || cb % per_group == 0);
                if (padded_group > 0) EXPECT_EQ(cb % padded_group, 0);
            }
            // Vectors of columns: no more of them than the image holds.
            if (p.vectorize == "x" && l.output.shape[2] > 0)
                EXPECT_LE(int64_t(p.block_x) * V, std::max<int64_t>(V, l.output.shape[2]));
            if (p.vectorize == "ci") {
                // Fewer filters than a vector over whole vectors of input
                // channels; accumulators plus a weight vector per filter
                // plus an input vector; no wider than the image.
                ASSERT_GT(schedule::input_lanes(l, V), 0);
                EXPECT_LE(s.f * p.block_x + s.f + 1, registers);
                EXPECT_LE(p.block_x, l.output.shape[2]);
                EXPECT_EQ(p.block_y, 1);
            } else if (schedule::input_lanes(l, V) > 0 &&
                       !(V == 16 && p.vectorize == "c" && schedule::vector_floats(p, target) == 8 &&
                         (schedule::input_lanes(l, V) < 16 || s.c * s.k * s.k <= 192)) &&
                       !schedule::pads_filters(l, p, schedule::vector_floats(p, target))) {
                // (AVX-512 layers whose lanes would be part vectors, or
                // whole ones over a short reduction, take vectors of 8
                // filters: Avx512FewFiltersOverFewChannels...;
                // others one vector of filters padded:
                // FewerFiltersThanAVectorPadToOneWhereLanesCostMore.)
                ADD_FAILURE() << "lanes of input channels fit, and were not taken";
            }
            if (p.block_y > 1) {
                EXPECT_EQ(p.accumulate, "tile");
                EXPECT_EQ(p.vectorize, "c");
                EXPECT_TRUE(p.parallel_channels || p.rows == 0 || p.rows % p.block_y == 0);
                EXPECT_LE(p.block_y, h);
            }
            if (p.parallel_channels) EXPECT_EQ(p.accumulate, "tile");
            if (p.channels_inner) EXPECT_EQ(p.accumulate, "tile");
            // Flat positions: one-row blocks of the tile template, on a
            // width the spec fixes, where the lowering then sums so.
            if (p.flat_positions) {
                EXPECT_TRUE(schedule::sums_flat_positions(l, p, target));
                EXPECT_EQ(p.block_y, 1);
            }
            if (p.kernel_rows_outer) EXPECT_TRUE(p.flat_positions);
            // In-place reads need column blocks that divide the width, or a
            // guarded last block (a shifted one would keep the edge tests
            // in every block).
            if (p.pad == "in_place") {
                EXPECT_EQ(p.accumulate, "tile");
                EXPECT_TRUE(l.output.shape[2] % p.block_x == 0 || schedule::guards_columns(l, p));
            }
            EXPECT_GE(p.rows, 0);
            EXPECT_LE(p.rows, 4096);
            if (p.accumulate == "tile" && p.rows > 0 && !p.parallel_channels) EXPECT_LE(p.rows, h);
            // The kernel is stored in filter blocks that divide it, or, where
            // the tile template pads the filters, in blocks of the register
            // block's channels, no more than the filters in whole vectors.
            if (int b = schedule::kernel_block(l, p, target)) {
                const int Vp = schedule::vector_floats(p, target);
                if (schedule::pads_filters(l, p, Vp)) {
                    EXPECT_EQ(p.accumulate, "tile");
                    EXPECT_NE(s.f % Vp, 0);
                    EXPECT_EQ(b, Vp * p.block_c);
                    EXPECT_LE(b, (s.f + Vp - 1) / Vp * Vp);
                } else {
                    EXPECT_EQ(s.f % b, 0);
                }
            }
            // Whatever the heuristic picks, a schedule file could write.
            schedule::Conv2DParams again;
            again.update_from(p.to_json(), "roundtrip");
            EXPECT_EQ(again.to_json(), p.to_json());
        }
    }
}

// Row tasks of a few output positions stream all the weights again each;
// where those outgrow L2 the heuristic splits over channel blocks instead
// (conv2d_heuristic says what that measured), and keeps row tasks where a
// task holds more positions or the weights fit.
TEST(Heuristic, WeightsBeyondL2OnFewPositionsTakeChannelTasks) {
    // 3x3 17x17x384->384: 5.3 MB of weights, one-row tasks of 17 positions.
    schedule::Conv2DParams p = avx2_params({17, 17, 384, 384, 3, 1, 1});
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_EQ(p.accumulate, "tile");
    // 1x1 8x8x1280->320: 1.6 MB, 8 positions per row.
    EXPECT_TRUE(avx2_params({8, 8, 1280, 320, 1, 1, 1}).parallel_channels);
    // 3x3/2 31x31x128->256: 1.2 MB of weights but 32 positions per task.
    p = avx2_params({31, 31, 128, 256, 3, 2, 1});
    EXPECT_FALSE(p.parallel_channels);
    EXPECT_GT(p.rows * 16, 24);
    // 3x3 23x23x64->64: 147 KB of weights, which stay in L2.
    EXPECT_FALSE(avx2_params({23, 23, 64, 64, 3, 1, 1}).parallel_channels);
    // Weights past 1.5 MB split so up to 32 positions per row task: 5x5
    // 25x25x128->256 (3.2 MB, 25 positions), 31x31x128->192 (2.4 MB, 31).
    EXPECT_TRUE(avx2_params({25, 25, 128, 256, 5, 1, 1}).parallel_channels);
    EXPECT_TRUE(avx2_params({31, 31, 128, 192, 5, 1, 1}).parallel_channels);
    // ... but not 3x3 28x28x512->128 (2.4 MB) in tasks of 56 positions.
    EXPECT_FALSE(avx2_params({28, 28, 512, 128, 3, 1, 1}).parallel_channels);
}

// Filters padded to 2 or 3 vectors take one block of all of them, rather than
// a 1-vector block (alone or after another) that the model counts as cheap.
TEST(Heuristic, FewPaddedFiltersTakeOneBlockOfAll) {
    schedule::Conv2DParams p = avx2_params({17, 17, 64, 20, 1, 1, 1});
    EXPECT_EQ(p.block_c, 3);
    EXPECT_EQ(p.block_y, 1);
    p = avx2_params({25, 25, 96, 10, 1, 1, 1});
    EXPECT_EQ(p.block_c, 2);
    EXPECT_GT(p.block_x, 1);
    // 9 columns: 3 x 3 blocks divide them (9 accumulators).
    p = avx2_params({9, 9, 512, 18, 1, 1, 1});
    EXPECT_EQ(p.block_c, 3);
    EXPECT_EQ(p.block_x, 3);
}

// Channel tasks whose filters split into pairs of vectors but not threes take
// 2-vector blocks where the model rates them close, so that no task computes
// a shifted or narrow block over the whole image.
TEST(Heuristic, ChannelTasksTakeBlocksThatDivideTheFilters) {
    // 5x5 27x27x96->256: 32 vectors of filters, 2 x 6 blocks in 16 tasks.
    schedule::Conv2DParams p = avx2_params({27, 27, 96, 256, 5, 1, 1});
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 2);
    // 3x3 19x19x1024->126: 1.4 MB of input, but 4.5 MB of weights that
    // one-row tasks would stream again each. Its blocks' 590 KB of weights
    // outgrow L2: flat blocks of the same 2 vectors, a kernel row at a
    // time.
    p = avx2_params({19, 19, 1024, 126, 3, 1, 1});
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 2);
    EXPECT_TRUE(p.flat_positions);
    EXPECT_TRUE(p.kernel_rows_outer);
    // 3x3 7x7x512: 2-vector blocks over flat positions (9 x 5 + 4 of 49);
    // in rows they would leave 7 columns a 2 x 3 last block.
    p = avx2_params({7, 7, 512, 512, 3, 1, 1});
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 2);
    EXPECT_TRUE(p.flat_positions);
    // Its 295 KB of weights per block: one kernel row at a time.
    EXPECT_TRUE(p.kernel_rows_outer);
}

// Channel tasks on widths that no register block fits run their blocks over
// flat positions, across row ends (conv2d_heuristic says what that
// measured); widths a block fits, short reductions and AVX-512 keep rows.
TEST(Heuristic, FlatPositionsWhereNoBlockFitsTheWidth) {
    // 13 columns: 2 x 5 ends each row in a 2 x 3 block; 169 positions in
    // 3 x 4 blocks end in one short block per task.
    schedule::Conv2DParams p = avx2_params({13, 13, 384, 384, 3, 1, 1});
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_TRUE(p.flat_positions);
    EXPECT_EQ(p.block_y, 1);
    EXPECT_TRUE(p.kernel_rows_outer);   // 221 KB of weights per block
    p = avx2_params({13, 13, 512, 512, 3, 1, 1});
    EXPECT_TRUE(p.flat_positions);
    // 184 KB of weights per block stay in L2 whole.
    p = avx2_params({7, 7, 320, 320, 3, 1, 1});
    EXPECT_TRUE(p.flat_positions);
    EXPECT_FALSE(p.kernel_rows_outer);
    // 17 columns in 2 x 6 blocks (6 + 6 + 5) and 14 in 2 x 2 x 2: rows.
    EXPECT_FALSE(avx2_params({17, 17, 384, 384, 3, 1, 1}).flat_positions);
    EXPECT_FALSE(avx2_params({14, 14, 256, 256, 3, 1, 1}).flat_positions);
    // 1x1: the flat template's store pass costs more than a short
    // reduction's blocks gain.
    EXPECT_FALSE(avx2_params({7, 7, 1024, 1024, 1, 1, 1}).flat_positions);
    // AVX-512 has its own rule for flat blocks (4 x 6, channel tasks,
    // Avx512ChannelTasksKeepWeightsAndInputInL2): not the model's, so not
    // where 4 vectors do not divide the filters.
    EXPECT_FALSE(avx512_params({13, 13, 384, 288, 3, 1, 1}).flat_positions);
}

// 1x1 layers on wide images whose filters split into pairs of vectors but not
// threes take 2 x 6 blocks with AVX2 (the heuristic says what 3 x 4 cost);
// narrower ones keep the model's choice.
TEST(Heuristic, WideOneByOneLayersTakeTwoVectorBlocks) {
    schedule::Conv2DParams p = avx2_params({56, 56, 64, 256, 1, 1, 1});
    EXPECT_EQ(p.block_c, 2);
    EXPECT_EQ(p.block_x, 6);
    EXPECT_EQ(p.block_y, 1);
    p = avx2_params({28, 28, 256, 512, 1, 1, 1});
    EXPECT_EQ(p.block_c, 2);
    EXPECT_EQ(p.block_x, 6);
    EXPECT_NE(avx2_params({14, 14, 64, 256, 1, 1, 1}).block_x, 6);
    // Filters in whole threes of vectors keep the model's 3 x 4.
    EXPECT_EQ(avx2_params({56, 56, 64, 384, 1, 1, 1}).block_c, 3);
}

// Depthwise blocks of 2 vectors past 4 columns take 1 vector, except on
// pixels 2 KB or 4 KB apart (conv2d_heuristic says what they measured).
TEST(Heuristic, DepthwiseBlocksPastFourColumnsTakeOneVector) {
    // 2-vector blocks wider than 4 columns spill; one vector by the same
    // columns instead, for 3x3 and 5x5 windows.
    schedule::Conv2DParams p = avx2_params({35, 35, 64, 64, 5, 1, 64});
    EXPECT_EQ(p.block_c, 1);
    EXPECT_EQ(p.block_x, 7);
    p = avx2_params({14, 14, 576, 576, 3, 1, 576});
    EXPECT_EQ(p.block_c, 1);
    EXPECT_EQ(p.block_x, 7);
    EXPECT_EQ(avx2_params({45, 45, 48, 48, 5, 1, 48}).block_c, 1);
    EXPECT_EQ(avx2_params({30, 30, 48, 48, 3, 1, 48}).block_c, 1);
    // 4 columns keep 2 vectors.
    p = avx2_params({28, 28, 120, 120, 5, 1, 120});
    EXPECT_EQ(p.block_c, 2);
    EXPECT_EQ(p.block_x, 4);
    // Pixels 2 KB apart keep 2 vectors, 4 KB apart take 4.
    EXPECT_EQ(avx2_params({14, 14, 512, 512, 3, 1, 512}).block_c, 2);
    EXPECT_EQ(avx2_params({14, 14, 512, 512, 5, 1, 512}).block_c, 2);
    EXPECT_EQ(avx2_params({7, 7, 1024, 1024, 5, 1, 1024}).block_c, 4);
}

// Depthwise layers whose pixels lie 4 KB apart (1024 channels) and whose
// blocks read more pixels along a kernel row than an L1 set has ways take
// blocks of 4 vectors (conv2d_heuristic says what they measured).
TEST(Heuristic, DepthwiseOnFourKilobytePixelsTakeFourVectorBlocks) {
    schedule::Conv2DParams p = avx2_params({7, 7, 1024, 1024, 3, 1, 1024});
    EXPECT_EQ(p.block_c, 4);
    EXPECT_EQ(p.block_x, 7);
    EXPECT_EQ(p.pad, "in_place");
    EXPECT_EQ(avx2_params({14, 14, 1024, 1024, 3, 1, 1024}).block_c, 4);
    // 960 channels (3.75 KB apart): 1 vector by 7 columns, as other
    // pixels take them; blocks of 4 columns (6 pixels per kernel row): 2.
    EXPECT_EQ(avx2_params({7, 7, 960, 960, 3, 1, 960}).block_c, 1);
    EXPECT_EQ(avx2_params({28, 28, 1024, 1024, 3, 1, 1024}).block_c, 2);
}

// AVX-512: dense layers whose weights outgrow L1 take whole-reduction tiles
// whose register blocks use each weight vector for 6 or more positions (the
// heuristic says what smaller blocks and row accumulators cost); 1x1 layers
// with weights in L1 are not held to it.
TEST(Heuristic, Avx512BlocksReuseEachWeightVectorSixTimes) {
    for (const LayerShape &s : std::vector<LayerShape>{{56, 56, 64, 64, 3, 1, 1},
                                                       {28, 28, 128, 128, 3, 1, 1},
                                                       {14, 14, 256, 256, 3, 1, 1},
                                                       {7, 7, 512, 512, 3, 1, 1},
                                                       {14, 14, 512, 512, 1, 1, 1}}) {
        const schedule::Conv2DParams p = avx512_params(s);
        SCOPED_TRACE(p.to_json().dump());
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_GE(p.block_x * p.block_y, 6);
    }
    // 28 columns in row tasks: 4 x 6 (the last block guarded), not the
    // model's 4 x 4.
    schedule::Conv2DParams p = avx512_params({28, 28, 64, 128, 3, 1, 1});
    EXPECT_FALSE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 4);
    EXPECT_EQ(p.block_x, 6);
    // Weights in L1 (4 KB per vector): 4 positions allowed, as measured.
    p = avx512_params({56, 56, 64, 256, 1, 1, 1});
    EXPECT_EQ(p.block_c, 4);
    EXPECT_EQ(p.block_x, 4);
}

// AVX-512 (1 MB L2): small images whose weights pass 1 MB take channel
// tasks. Where 4-vector blocks divide the filters and hold more than 512 KB
// of weights, flat blocks of 4 vectors with the kernel rows outside, or,
// where 2-vector blocks hold 512 KB at most and the window reads padding,
// those one row high (Avx512FlatBlockShapes); elsewhere,
// where a block's weights and the input would not share L2, the blocks
// take fewer vectors, as wide as the registers allow.
TEST(Heuristic, Avx512ChannelTasksKeepWeightsAndInputInL2) {
    EXPECT_TRUE(avx512_params({9, 9, 256, 256, 3, 1, 1}).parallel_channels);
    EXPECT_TRUE(avx512_params({8, 8, 1280, 320, 1, 1, 1}).parallel_channels);
    for (const LayerShape &s :
         std::vector<LayerShape>{{7, 7, 512, 512, 3, 1, 1}, {14, 14, 256, 256, 3, 1, 1}, {17, 17, 384, 384, 3, 1, 1}}) {
        const schedule::Conv2DParams p = avx512_params(s);
        SCOPED_TRACE(p.to_json().dump());
        EXPECT_TRUE(p.parallel_channels);
        // 14x14x256 and 17x17x384: row blocks (Avx512FlatBlockShapes).
        EXPECT_EQ(p.flat_positions, s.h == 7);
        EXPECT_EQ(p.kernel_rows_outer, s.h == 7);
        // Other widths where those cost less (Avx512FlatBlockShapes).
        EXPECT_EQ(p.block_c * p.block_x, s.h == 7 ? 4 * 7 : s.h == 14 ? 2 * 14 : 2 * 9);
    }
    // 288 filters: 18 vectors, blocks of 3 (663 KB) with 444 KB of input.
    const schedule::Conv2DParams p = avx512_params({17, 17, 384, 288, 3, 1, 1});
    SCOPED_TRACE(p.to_json().dump());
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_FALSE(p.flat_positions);
    EXPECT_EQ(p.block_c, 2);
    EXPECT_EQ(p.block_x, 14);
    const double block_weights = 4.0 * 16 * p.block_c * 384 * 9, input = 4.0 * 17 * 17 * 384;
    EXPECT_LE(block_weights + input, 1024.0 * 1024);
    // An input past the L2 alone (1.8 MB, 1.5 MB read) and weights past it
    // per block: channel tasks of the vectors whose weights fit alone (802
    // KB, 590 KB per vector; 1 MB of the L2 on Cascade Lake, 1.25 on
    // Sapphire Rapids), 2 at least on Sapphire Rapids.
    struct Case {
        const char *layer;
        int cin, window;
    };
    for (const char *target : {kAvx512, "x86-64-linux-avx512_sapphirerapids"})
        for (const Case &c : {Case{"1x48x48x256->100 7x7 s2 valid", 256, 49}, Case{"1x19x19x1024->100 3x3", 1024, 9}}) {
            const schedule::Conv2DParams q = params_for(c.layer, target);
            SCOPED_TRACE(std::string(target) + " " + c.layer + ": " + q.to_json().dump());
            EXPECT_TRUE(q.parallel_channels);
            const double budget = target == kAvx512 ? 1024 * 1024 : 1280 * 1024;
            const bool at_least_two = target != kAvx512;
            if (!at_least_two || q.block_c > 2) EXPECT_LE(4.0 * 16 * q.block_c * c.cin * c.window, budget);
            EXPECT_GT(4.0 * 16 * (q.block_c + 1) * c.cin * c.window, budget);
            if (at_least_two) EXPECT_GE(q.block_c, 2);
            // Column blocks of even widths: 21 = 11 + 10, 19 = 10 + 9.
            if (q.block_c == 2) EXPECT_EQ(q.block_x, c.window == 49 ? 11 : 10);
        }
    // Three channel blocks of an image, or two (Sapphire Rapids' L2 takes
    // 3 vectors of the first), but four tasks or more over the images.
    const char *const sapphire_rapids = "x86-64-linux-avx512_sapphirerapids";
    for (const char *layer : {"2x12x12x512->128 3x3 valid", "2x7x10x120->64 7x7 d2 linear"}) {
        SCOPED_TRACE(layer);
        EXPECT_TRUE(params_for(layer, sapphire_rapids).parallel_channels);
        const std::string one_image = std::string(layer).replace(0, 1, "1");
        EXPECT_FALSE(params_for(one_image.c_str(), sapphire_rapids).parallel_channels);
    }
}

// AVX-512 row tasks likewise: where a block's weights and the task's input
// rows would overflow L2, fewer vectors per block, wider; not where they fit.
TEST(Heuristic, Avx512RowTasksKeepABlocksWeightsAndInputInL2) {
    struct Case {
        LayerShape shape;
        int block_c;
    };
    for (const Case &c : {Case{{38, 38, 512, 84, 3, 1, 1}, 2}, Case{{38, 38, 512, 100, 3, 1, 1}, 2}}) {
        const schedule::Conv2DParams p = avx512_params(c.shape);
        SCOPED_TRACE(p.to_json().dump());
        EXPECT_FALSE(p.parallel_channels);
        EXPECT_GT(p.rows, 0);
        EXPECT_EQ(p.block_c, c.block_c);
        EXPECT_GE(p.block_x, 10);
        const LayerShape &s = c.shape;
        const double block_weights = 4.0 * 16 * p.block_c * s.c * s.k * s.k;
        const double task_input = 4.0 * s.w * s.c * (p.rows + s.k - 1);
        EXPECT_LE(block_weights + task_input, 1024.0 * 1024);
    }
    // 56x56x64: 147 KB of weights per 4-vector block.
    EXPECT_EQ(avx512_params({56, 56, 64, 64, 3, 1, 1}).block_c, 4);
    // Not below 2 vectors on Sapphire Rapids (a 1-vector block loads a
    // broadcast per FMA).
    const schedule::Conv2DParams p = params_for("1x80x80x160->20 7x7 s2", "x86-64-linux-avx512_sapphirerapids");
    EXPECT_FALSE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 2);
}

// AVX-512's flat blocks: 4 vectors x 6 positions; x 7 where that takes
// fewer blocks per task (a short last block costs about a whole one); 2
// vectors x a whole row 8-14 wide where the window reaches into the
// padding (a block that spans the row skips its rows and columns there);
// 4 x 6 blocks one row high, not flat, where skipping those rows saves more
// than short blocks cost.
// AVX-512 channel tasks on widths of 28, 42, ... whose 2-vector blocks'
// weights stay within 256 KB: blocks one row high (not flat), in tasks of
// 14 rows, of 2 vectors x 14 columns, or 4 x 6 where those hold 320 KB or
// less. Larger blocks' weights (28x28x256: 295 KB per 2 vectors) and
// widths that 14 does not divide keep flat 4 x 6
// (Avx512LayersWhoseWeightsOutgrowL2TakeChannelTasks).
TEST(Heuristic, Avx512WidthsOfFourteensTakeRowBlocks) {
    struct Case {
        const char *notation;
        int64_t tasks;
    };
    // Where a 4-vector block's weights fit in 320 KB (128 input channels
    // and a 3x3 window: 288 KB), 4 x 6 blocks, which take two input
    // channels per step; 28x28x192 (432 KB) keeps 2 x 14.
    for (const Case &c : {Case{"1x28x28x128->128 3x3", 4}, Case{"2x28x28x128->128 3x3", 8},
                          Case{"1x28x28x192->192 3x3", 12}, Case{"1x56x56x128->256 3x3", 16}}) {
        const graph::Layer layer = notation_layer(c.notation);
        const schedule::Conv2DParams p = params_for(c.notation);
        SCOPED_TRACE(std::string(c.notation) + ": " + p.to_json().dump());
        const bool four_vectors = layer.in_channels == 128;
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_TRUE(p.parallel_channels);
        EXPECT_FALSE(p.flat_positions);
        EXPECT_FALSE(p.kernel_rows_outer);
        EXPECT_EQ(p.block_c, four_vectors ? 4 : 2);
        EXPECT_EQ(p.block_x, four_vectors ? 6 : 14);
        EXPECT_EQ(p.block_y, 1);
        EXPECT_EQ(p.rows, 14);
        const int64_t filters_per_block = 16 * p.block_c;
        const int64_t blocks = (layer.conv.filters + filters_per_block - 1) / filters_per_block;
        EXPECT_EQ(blocks * (layer.output.shape[1] / p.rows) * layer.output.shape[0], c.tasks);
    }
}

TEST(Heuristic, Avx512FlatBlockShapes) {
    struct Case {
        const char *notation;
        int block_c, block_x;
        bool flat;
    };
    // 49 positions: 7 x 7 vs 8 x 6 + 1. Wider, where 2-vector blocks hold
    // 512 KB of weights at most (1.25 MB past 14 columns) and the window
    // reads padding: row blocks of 2 vectors x up to 14 columns (17: 9 + 8;
    // 19: 10 + 9; 15: 8 + 7), also after a stride. Else 196 and 169: flat
    // rows of 14 and 13; rows of 9 and 8 too. Without padding, or past 1.25
    // MB: flat 4 x 6.
    for (const Case &c : {Case{"1x7x7x512->512 3x3", 4, 7, true}, Case{"4x7x7x512->512 3x3", 4, 7, true},
                          Case{"1x14x14x256->256 3x3 d2", 2, 14, false}, Case{"1x14x14x256->256 3x3", 2, 14, false},
                          Case{"1x13x13x384->256 3x3", 2, 13, false}, Case{"1x13x13x512->512 3x3", 2, 13, true},
                          Case{"1x11x11x256->256 3x3", 2, 11, false}, Case{"4x9x9x256->256 3x3", 2, 9, false},
                          Case{"1x9x9x512->512 3x3", 2, 9, true}, Case{"1x8x8x512->512 3x3", 2, 8, true},
                          Case{"1x15x15x256->256 3x3", 2, 8, false}, Case{"1x28x28x256->512 3x3 s2", 2, 14, false},
                          Case{"1x19x19x256->256 3x3", 2, 10, false}, Case{"1x17x17x384->384 3x3", 2, 9, false},
                          Case{"1x27x27x96->256 5x5", 2, 14, false}, Case{"1x71x71x192->192 3x3 s2 valid", 4, 6, true},
                          Case{"1x28x28x512->512 3x3", 2, 14, false}, Case{"1x19x19x1024->126 3x3", 2, 10, false},
                          Case{"1x17x17x1024->256 3x3", 2, 9, false}, Case{"1x19x19x2048->128 3x3", 4, 6, true},
                          Case{"1x19x19x512->128 5x5", 4, 6, true}}) {
        const schedule::Conv2DParams p = params_for(c.notation);
        SCOPED_TRACE(std::string(c.notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.flat_positions, c.flat);
        EXPECT_EQ(p.kernel_rows_outer, c.flat);
        EXPECT_EQ(p.block_c, c.block_c);
        EXPECT_EQ(p.block_x, c.block_x);
        EXPECT_EQ(p.block_y, 1);
    }
    const char *seven_by_one = "1x17x17x160->192 7x1";
    const schedule::Conv2DParams rows = params_for(seven_by_one);
    EXPECT_FALSE(rows.flat_positions);
    EXPECT_TRUE(schedule::skips_padding_rows(notation_layer(seven_by_one), rows, Halide::Target(kAvx512)));
}

// AVX-512: where row tasks would read all of a layer's weights, 640 KB or
// more (512 KB over an input of 512 KB at most, in tasks that split the
// rows evenly), once per output row, channel tasks in flat 4 x 6 blocks, at
// least four of them (a block's rows split in parts); the kernel rows
// outside only where they hold several taps. Where 2-vector blocks hold
// 512 KB at most (1.25 MB past 14 columns) and the window reads padding,
// those one row high instead (Avx512FlatBlockShapes), their rows split for
// their own count of channel blocks. Smaller weights keep row tasks.
TEST(Heuristic, Avx512LayersWhoseWeightsOutgrowL2TakeChannelTasks) {
    struct Case {
        const char *notation;
        int64_t tasks;
        bool kernel_rows_outer;
        bool flat = true;
        int block_c = 4, block_x = 6;
    };
    // 7x1 over 17 rows: blocks one row high, which skip the 10% of the
    // window's rows over the padding (Avx512FlatBlockShapes). Blocks of
    // 288 KB of weights (3x3/2 31x31x128->256, 3x3 2x17x17x128): one row
    // high too, which take two input channels per step.
    for (const Case &c :
         {Case{"1x31x31x128->256 3x3 s2", 4, false, false}, Case{"1x64x64x64->64 7x7", 4, false, false, 2, 13},
          Case{"1x19x19x1024->126 3x3", 4, false, false, 2, 10}, Case{"1x19x19x2048->128 3x3", 2, true}, Case{"1x17x17x160->192 7x1", 6, false, false},
          Case{"1x71x71x192->192 3x3 s2 valid", 6, true}, Case{"1x28x28x256->256 3x3", 8, false, false, 2, 14},
          Case{"2x17x17x128->128 3x3", 4, false, false}}) {
        const graph::Layer layer = notation_layer(c.notation);
        const schedule::Conv2DParams p = params_for(c.notation);
        SCOPED_TRACE(std::string(c.notation) + ": " + p.to_json().dump());
        EXPECT_TRUE(p.parallel_channels);
        EXPECT_EQ(p.flat_positions, c.flat);
        EXPECT_EQ(p.block_c, c.block_c);
        EXPECT_EQ(p.block_x, c.block_x);
        EXPECT_EQ(p.kernel_rows_outer, c.kernel_rows_outer);
        const int64_t h = layer.output.shape[1];
        const int64_t blocks = (layer.conv.filters + 16 * c.block_c - 1) / (16 * c.block_c);
        const int64_t parts = p.rows > 0 ? (h + p.rows - 1) / p.rows : 1;
        EXPECT_EQ(blocks * parts * layer.output.shape[0], c.tasks);
    }
    // 576 KB of weights over 23 rows (two parts would recompute one) and
    // over 1.6 MB of input; 1x1 layers of 1 MB over 256 input channels.
    for (const char *notation : {"1x23x23x128->128 3x3", "1x56x56x128->128 3x3 s2", "1x14x14x256->1024 1x1",
                                 "4x14x14x256->1024 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(notation);
        EXPECT_FALSE(p.parallel_channels);
        EXPECT_GT(p.rows, 0);
    }
    // 1 MB over 512 input channels or more: channel tasks.
    for (const char *notation : {"1x14x14x512->512 1x1", "1x14x14x1024->256 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(notation);
        EXPECT_TRUE(p.parallel_channels);
        EXPECT_EQ(p.rows, 0);
    }
}

// AVX-512 row tasks over padded filters that 3-vector blocks divide neither
// by vectors nor by columns: 2 vectors x the whole width (at most 14).
TEST(Heuristic, Avx512PaddedFiltersTakeTwoVectorsAcrossTheWidth) {
    EXPECT_EQ(block_of("1x14x14x128->100 3x3"), std::make_pair(2, 14));
    EXPECT_EQ(block_of("1x13x13x128->100 3x3"), std::make_pair(2, 13));
    // 6 and 3 vectors, which 3-vector blocks divide.
    EXPECT_EQ(block_of("1x14x14x192->96 3x3"), std::make_pair(3, 9));
    EXPECT_EQ(block_of("1x14x14x128->48 3x3"), std::make_pair(3, 9));
}

// The share of window rows over the image: 3x3 over 7 rows skips one row
// of the window at each edge, dilated 2 over 14 rows two; 'valid' and
// strided layers count none skipped. Columns likewise, along the width.
TEST(Heuristic, WindowRowsInImage) {
    EXPECT_DOUBLE_EQ(schedule::window_rows_in_image(notation_layer("1x7x7x512->512 3x3")), 19.0 / 21);
    EXPECT_DOUBLE_EQ(schedule::window_rows_in_image(notation_layer("1x14x14x256->256 3x3 d2")), 38.0 / 42);
    EXPECT_DOUBLE_EQ(schedule::window_rows_in_image(notation_layer("1x9x9x16->16 5x5")), 39.0 / 45);
    EXPECT_DOUBLE_EQ(schedule::window_rows_in_image(notation_layer("1x9x9x16->16 3x3 valid")), 1.0);
    EXPECT_DOUBLE_EQ(schedule::window_rows_in_image(notation_layer("1x9x9x16->16 3x3 s2")), 1.0);
    EXPECT_DOUBLE_EQ(schedule::window_columns_in_image(notation_layer("1x7x9x16->16 3x3")), 25.0 / 27);
    EXPECT_DOUBLE_EQ(schedule::window_columns_in_image(notation_layer("1x7x9x16->16 7x1")), 1.0);
    EXPECT_DOUBLE_EQ(schedule::window_columns_in_image(notation_layer("1x9x9x16->16 1x5")), 39.0 / 45);
}

namespace {

// What a skips_padding_* test says of a layer, on AVX-512, under the
// heuristic's parameters with `params` (JSON, or "") over them.
bool skips_padding(bool (*test)(const graph::Layer &, const schedule::Conv2DParams &, const Halide::Target &),
                   const char *notation, const char *params) {
    schedule::Conv2DParams p = params_for(notation);
    if (*params) p.update_from(nlohmann::json::parse(params), "test");
    return test(notation_layer(notation), p, Halide::Target(kAvx512));
}

}  // namespace

// The sum skips the window rows over the padding where each register block
// lies within one output row: blocks one row high, or flat blocks whose
// width divides the output's; not over unrolled windows (few taps) nor
// where nothing is padded.
TEST(Heuristic, SkipsPaddingRowsWhereBlocksLieInOneRow) {
    auto skips = [](const char *notation, const char *params) {
        return skips_padding(schedule::skips_padding_rows, notation, params);
    };
    EXPECT_TRUE(skips("1x7x7x512->512 3x3", ""));     // flat 4 x 7
    EXPECT_TRUE(skips("1x56x56x64->64 3x3", ""));     // 4 x 6, one row
    EXPECT_TRUE(skips("1x14x14x256->256 3x3", ""));   // 2 x 14, one row
    EXPECT_TRUE(skips("1x13x13x512->512 3x3", ""));   // flat 2 x 13
    EXPECT_FALSE(skips("1x14x14x256->256 3x3", R"({"block_c": 4, "block_x": 6, "flat_positions": true})"));  // across row ends
    EXPECT_FALSE(skips("1x56x56x64->64 3x3", R"({"block_c": 2, "block_x": 4, "block_y": 2})"));
    EXPECT_FALSE(skips("1x56x56x64->64 3x3 valid", ""));
    EXPECT_FALSE(skips("1x56x56x64->64 3x3 dw", ""));
    EXPECT_FALSE(skips("1x56x56x64->64 1x1", ""));
}

// The sum skips the window columns over the padding too where every
// register block spans whole output rows: flat blocks a multiple of the
// width long, or blocks one row wide (of any height); not where blocks
// share rows, nor over unrolled windows, nor one column wide windows.
TEST(Heuristic, SkipsPaddingColumnsWhereBlocksSpanWholeRows) {
    auto skips = [](const char *notation, const char *params) {
        return skips_padding(schedule::skips_padding_columns, notation, params);
    };
    EXPECT_TRUE(skips("1x7x7x512->512 3x3", ""));     // flat 4 x 7
    EXPECT_TRUE(skips("1x14x14x256->256 3x3", ""));   // 2 x 14, one row
    EXPECT_TRUE(skips("1x13x13x512->512 3x3", ""));   // flat 2 x 13
    EXPECT_TRUE(skips("1x9x9x288->288 3x3", ""));     // 3 x 9, one row
    EXPECT_TRUE(skips("1x7x7x64->64 3x3", R"({"block_c": 1, "block_x": 14, "flat_positions": true})"));
    EXPECT_TRUE(skips("1x7x7x64->64 3x3", R"({"block_c": 2, "block_x": 7, "block_y": 2, "flat_positions": false})"));
    EXPECT_FALSE(skips("8x56x56x64->64 3x3", ""));    // 4 x 6 of 56, 6.1 MB of input
    EXPECT_FALSE(skips("1x14x14x256->256 3x3", R"({"block_c": 4, "block_x": 6, "flat_positions": true})"));
    EXPECT_FALSE(skips("1x7x7x512->512 3x3 valid", ""));
    EXPECT_FALSE(skips("1x7x7x512->512 3x3 dw", ""));
    EXPECT_FALSE(skips("1x17x17x160->192 7x1", ""));
}

// Where the sum skips every window tap over the padding (rows and columns,
// or the one the window has), the input is read in place, not copied
// padded first.
// Blocks of rows, 2 to 8 across a fixed width (11 where the input fits in
// 1 MB; the last guarded where they do not divide it), are unrolled, and
// their sums skip the window columns over the padding; more blocks, or flat
// blocks, are not.
TEST(Heuristic, UnrollsAFewColumnBlocksPerRow) {
    const Halide::Target avx512(kAvx512);
    struct Case {
        const char *notation;
        int block_x;
        bool flat, unrolled;
    };
    // Up to 8 blocks per row; up to 11 where the input, all its images,
    // fits in 1 MB (1x56x56x64: 784 KB; 8 images: 6.1 MB).
    for (const Case &c : {Case{"1x28x28x64->64 3x3", 14, false, true}, Case{"1x56x56x64->64 3x3", 7, false, true},
                          Case{"1x56x56x64->64 3x3", 4, false, false}, Case{"1x56x56x64->64 3x3", 6, false, true},
                          Case{"1x56x56x64->64 3x3", 5, false, false}, Case{"8x56x56x64->64 3x3", 6, false, false},
                          Case{"8x56x56x64->64 3x3", 7, false, true}, Case{"1x28x28x64->64 3x3", 12, false, true},
                          Case{"1x56x56x64->64 3x3", 8, false, true}, Case{"1x28x28x64->64 3x3", 14, true, false},
                          Case{"1x28x28x64->64 3x3", 28, false, false}}) {
        schedule::Conv2DParams p = params_for(c.notation);
        p.block_c = 2, p.block_x = c.block_x, p.block_y = 1, p.flat_positions = c.flat, p.kernel_rows_outer = false;
        const graph::Layer layer = notation_layer(c.notation);
        SCOPED_TRACE(std::string(c.notation) + ": " + p.to_json().dump());
        EXPECT_EQ(schedule::unrolls_column_blocks(layer, p), c.unrolled);
        // One block per row, or flat blocks of whole rows, skip them too.
        const bool whole_rows = c.block_x % 28 == 0 && layer.output.shape[2] == 28;
        EXPECT_EQ(schedule::skips_padding_columns(layer, p, avx512), c.unrolled || whole_rows);
    }
}

TEST(Heuristic, SumsThatSkipAllPaddingReadTheInputInPlace) {
    const Halide::Target avx512(kAvx512);
    // 2x17x17x128: three 4 x 6 blocks per row, the last guarded, unrolled.
    for (const char *notation : {"1x7x7x512->512 3x3", "1x14x14x256->256 3x3", "4x9x9x256->256 3x3", "1x8x8x384->384 1x3",
                                 "1x28x28x128->128 3x3", "2x17x17x128->128 3x3", "1x56x56x64->64 3x3",
                                 "1x19x19x256->256 3x3"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_TRUE(schedule::sum_skips_padding(notation_layer(notation), p, avx512));
        EXPECT_EQ(p.pad, "in_place");
    }
    // Blocks across row ends (19x19x2048->128 in flat 4 x 6), or more than 8
    // per row on an input larger than 1 MB (8x56x56x64 in 4 x 6, ten per
    // row): the window reads the zeros, from the padded copy.
    for (const char *notation : {"1x19x19x2048->128 3x3", "8x56x56x64->64 3x3"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_FALSE(schedule::sum_skips_padding(notation_layer(notation), p, avx512));
        EXPECT_EQ(p.pad, "copy");
    }
    // 7x1: rows only, and it skips them.
    const char *seven_by_one = "1x17x17x160->192 7x1";
    EXPECT_TRUE(schedule::sum_skips_padding(notation_layer(seven_by_one), params_for(seven_by_one), avx512));
}

// A schedule file whose blocks read the padding (flat 4 x 6 on 7x7x512)
// takes the padded copy back from the heuristic's in-place read; asking for
// in place keeps it, and so do blocks that still skip all the padding.
TEST(Heuristic, FileBlocksThatReadThePaddingTakeTheCopy) {
    const graph::Graph g = graph::parse_conv_notation("1x7x7x512->512 3x3", "conv");
    const std::string name = g.layers.at(0).name;
    auto pad_with = [&](const char *entry) {
        schedule::ScheduleFile file{"test.json"};
        file.layers[name] = nlohmann::json::parse(entry);
        return schedule::choose_params(g, &file, Halide::Target(kAvx512)).at(name).pad;
    };
    EXPECT_EQ(params_for("1x7x7x512->512 3x3").pad, "in_place");
    EXPECT_EQ(pad_with(R"({"block_x": 6})"), "copy");
    EXPECT_EQ(pad_with(R"({"block_x": 6, "pad": "in_place"})"), "in_place");
    EXPECT_EQ(pad_with(R"({"kernel_rows_outer": false})"), "in_place");
}

// AVX-512 1x1 layers with long reductions in channel tasks: flat blocks of
// 4 vectors (x 7 on rows of 7), in an even count of tasks; not 8x8x1280->320
// (5 such tasks), nor where the blocks had 4 vectors already.
TEST(Heuristic, Avx512PointwiseChannelTasksTakeFlatFourVectorBlocks) {
    for (const char *notation : {"1x7x7x1024->1024 1x1", "1x7x7x320->1280 1x1", "1x14x14x1024->2048 1x1 s2"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_TRUE(p.parallel_channels);
        EXPECT_TRUE(p.flat_positions);
        EXPECT_EQ(p.block_c, 4);
        EXPECT_EQ(p.block_x, 7);
    }
    EXPECT_FALSE(params_for("1x8x8x1280->320 1x1").flat_positions);
    EXPECT_FALSE(params_for("1x11x11x1024->1024 1x1").flat_positions);
    EXPECT_FALSE(params_for("1x7x7x160->960 1x1").flat_positions);   // 160 input channels
}

// AVX-512 stems and 1x1 layers over few input channels with one vector of
// filters: 8 columns, so that the block holds 8 accumulators; two vectors
// keep 2 x 4, AVX2 1 x 4.
TEST(Heuristic, Avx512StemsOfOneVectorTakeEightColumns) {
    for (const char *notation : {"1x512x512x3->16 3x3 s2", "1x240x320x3->16 3x3", "1x64x64x3->16 3x3",
                                 "1x112x112x32->16 1x1", "1x14x14x32->16 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.block_c, 1);
        EXPECT_EQ(p.block_x, 8);
    }
    const schedule::Conv2DParams two = params_for("1x224x224x3->64 3x3");
    EXPECT_EQ(two.block_c, 2);
    EXPECT_EQ(two.block_x, 4);
    const schedule::Conv2DParams avx2 = params_for("1x64x64x3->8 3x3", "x86-64-linux-avx2-fma");
    EXPECT_EQ(avx2.block_c, 1);
    EXPECT_EQ(avx2.block_x, 4);
}

// AVX-512 1x1 layers of several vectors of filters over a few input
// channels: 3 vectors x 8 columns where the vectors come in threes but not
// pairs, 2 x 8 over 24 or more channels, else 2 x 4.
TEST(Heuristic, Avx512OneByOneLayersOverFewChannelsTakeEightColumns) {
    EXPECT_EQ(block_of("2x48x48x24->48 1x1"), std::make_pair(3, 8));
    EXPECT_EQ(block_of("1x56x56x24->144 1x1"), std::make_pair(3, 8));
    EXPECT_EQ(block_of("1x112x112x32->64 1x1"), std::make_pair(2, 8));
    EXPECT_EQ(block_of("1x75x75x24->72 1x1"), std::make_pair(2, 8));
    EXPECT_EQ(block_of("1x56x56x16->96 1x1"), std::make_pair(2, 4));
    EXPECT_EQ(block_of("1x80x33x12->80 1x1 valid"), std::make_pair(2, 4));
}

// Stems whose 'same' padding falls only below and right of the image (3x3/2
// on even sizes) read their input in place, with AVX2 and AVX-512; those
// padded before it too (odd sizes, stride 1, 7x7/2) keep the padded copy.
TEST(Heuristic, StemsPaddedOnlyAfterTheImageReadItInPlace) {
    for (const char *target : {kAvx512, "x86-64-linux-avx2-fma"}) {
        for (const char *notation : {"1x512x512x3->16 3x3 s2", "1x224x224x3->32 3x3 s2", "1x300x300x3->32 3x3 s2",
                                     "1x64x64x3->16 3x3 s2"}) {
            SCOPED_TRACE(std::string(target) + " " + notation);
            EXPECT_EQ(params_for(notation, target).pad, "in_place");
        }
        for (const char *notation : {"1x299x299x3->32 3x3 s2", "1x225x225x3->32 3x3 s2", "1x240x320x3->16 3x3",
                                     "1x224x224x3->64 7x7 s2"}) {
            SCOPED_TRACE(std::string(target) + " " + notation);
            EXPECT_EQ(params_for(notation, target).pad, "copy");
        }
    }
}

// AVX-512 groups of 8 filters: vectors of 8 floats, so that each lies
// within one group; other groups keep 16 (those of 24 measured even), and
// AVX2 its own 8.
TEST(Heuristic, Avx512GroupsOfEightFiltersTakeEightFloatVectors) {
    auto floats = [](const char *notation, const char *target) {
        return schedule::vector_floats(params_for(notation, target), Halide::Target(target));
    };
    const char *avx512 = kAvx512, *avx2 = "x86-64-linux-avx2-fma";
    EXPECT_EQ(floats("1x28x28x32->64 3x3 g8", avx512), 8);
    EXPECT_EQ(floats("1x28x28x96->96 3x3 g4", avx512), 16);
    EXPECT_EQ(floats("1x28x28x96->96 3x3 g3", avx512), 16);
    EXPECT_EQ(floats("1x56x56x64->64 3x3", avx512), 16);
    EXPECT_EQ(floats("1x64x64x32->32 3x3 g4", avx2), 8);
    // Groups of 8 filters over 8 input channels are rotated, in whole vectors.
    EXPECT_EQ(floats("1x64x64x32->32 3x3 g4", avx512), 16);
}

// Groups of G filters over G input channels, G from 4 to less than a
// vector: sums over rotated groups, one vector of channels by 3/4 of the
// registers' worth of accumulators, the input read in place
// (conv2d_heuristic says what they measured). Not groups of 2, depthwise
// layers, nor groups of a vector or more.
TEST(Heuristic, GroupsOfAsManyFiltersAsChannelsRotate) {
    const char *avx512 = kAvx512, *avx2 = "x86-64-linux-avx2-fma";
    schedule::Conv2DParams p = params_for("1x56x56x128->128 3x3 g32", avx512);
    EXPECT_TRUE(p.rotate_groups);
    EXPECT_EQ(p.block_c, 1);
    EXPECT_EQ(p.block_x, 6);
    EXPECT_EQ(p.pad, "in_place");
    EXPECT_EQ(params_for("1x64x64x32->32 3x3 g4", avx512).block_x, 3);
    EXPECT_EQ(params_for("1x5x5x64->64 3x3 g16", avx512).block_x, 5);   // no wider than the image
    EXPECT_FALSE(params_for("1x14x14x64->64 3x3 g32", avx512).rotate_groups);
    p = params_for("1x56x56x128->128 3x3 g32", avx2);
    EXPECT_TRUE(p.rotate_groups);
    EXPECT_EQ(p.block_x, 3);
    EXPECT_FALSE(params_for("1x64x64x32->32 3x3 g4", avx2).rotate_groups);
    EXPECT_FALSE(params_for("1x28x28x96->96 3x3 g3", avx512).rotate_groups);
    EXPECT_FALSE(params_for("1x28x28x32->64 3x3 g8", avx512).rotate_groups);
    EXPECT_FALSE(params_for("1x56x56x64->64 3x3 dw", avx512).rotate_groups);
    EXPECT_FALSE(params_for("1x56x56x64->64 3x3", avx512).rotate_groups);
}

// Groups whose filters do not fill whole vectors: the vector width that
// wastes the least, the groups' filters padded to it where they do not
// fill it, in blocks of whole padded groups. Not groups of 2, nor rotated
// groups, nor depthwise multipliers.
TEST(Heuristic, GroupsShortOfWholeVectorsArePadded) {
    const char *avx512 = kAvx512, *avx2 = "x86-64-linux-avx2-fma";
    auto padded = [](const char *notation, const char *target, int vector_floats, int group_filters) {
        const schedule::Conv2DParams p = params_for(notation, target);
        SCOPED_TRACE(std::string(notation) + " " + target + ": " + p.to_json().dump());
        EXPECT_TRUE(p.pad_groups);
        EXPECT_EQ(p.vector_floats, vector_floats);
        EXPECT_EQ(p.accumulate, "tile");
        const int V = vector_floats > 0 ? vector_floats : Halide::Target(target).natural_vector_size<float>();
        EXPECT_EQ(p.block_c * V % group_filters, 0);
    };
    padded("1x35x33x1024->768 3x3 g64", avx512, 0, 16);
    padded("1x28x28x192->192 3x3 g8", avx512, 0, 32);
    padded("1x28x28x96->96 3x3 g4", avx512, 0, 32);
    padded("1x48x48x48->24 3x3 s2 g4", avx512, 8, 8);
    padded("1x35x35x96->96 3x3 g32", avx512, 4, 4);
    padded("1x35x33x1024->768 3x3 g64", avx2, 0, 16);
    padded("1x40x40x40->40 3x3 g2", avx2, 0, 24);
    auto plain = [](const char *notation, const char *target, int vector_floats) {
        const schedule::Conv2DParams p = params_for(notation, target);
        SCOPED_TRACE(std::string(notation) + " " + target + ": " + p.to_json().dump());
        EXPECT_FALSE(p.pad_groups);
        EXPECT_EQ(p.vector_floats, vector_floats);
    };
    plain("1x19x19x384->256 3x3 g64", avx512, 4);   // 4 filters per group: whole vectors of 4
    plain("1x56x56x64->64 3x3 g32", avx512, 0);     // groups of 2
    plain("1x56x56x128->128 3x3 g32", avx512, 0);   // rotated
    plain("1x28x28x96->96 3x3 g3", avx512, 0);      // 32 per group
    plain("1x28x28x96->96 3x3 g4", avx2, 0);        // 24 per group: 3 vectors of 8
    plain("1x60x60x224->448 7x7 g224", avx512, 0);  // a depthwise multiplier
    plain("1x64x64x32->32 3x3 g4", avx2, 0);        // groups of 8 on AVX2
}

// Blocks of whole padded groups over few input channels (few taps) keep the
// channel-block loop outside the column loop, where plain few-tap layers
// (depthwise) take it inside.
TEST(Heuristic, PaddedGroupsKeepChannelBlocksOutside) {
    for (const char *notation : {"1x48x48x24->48 3x3 g8", "1x48x48x24->48 3x3 g8 valid", "1x64x64x12->24 3x3 g4"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_TRUE(p.pad_groups);
        EXPECT_FALSE(p.channels_inner);
    }
    EXPECT_TRUE(params_for("1x56x56x128->128 3x3 s2 dw").channels_inner);
}

// AVX-512, 8 filters over input channels in fours or eights, or over
// sixteens in a reduction of 192 taps at most: vectors of 8 filters in the
// tile template, one-row blocks, the input in place. Over sixteens in
// longer reductions, lanes of input channels.
TEST(Heuristic, Avx512FewFiltersOverFewChannelsTakeVectorsOfEight) {
    for (const char *notation :
         {"1x96x96x4->8 3x3", "1x64x64x8->8 3x3", "2x60x60x32->8 3x1", "1x56x56x16->8 3x3", "1x56x56x64->8 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.vector_floats, 8);
        EXPECT_EQ(p.vectorize, "c");
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_EQ(p.block_y, 1);
        EXPECT_EQ(p.pad, "in_place");
    }
    EXPECT_EQ(params_for("1x96x96x4->8 3x3", "x86-64-linux-avx2-fma").vector_floats, 0);
    for (const char *notation : {"1x56x56x256->8 1x1", "1x56x56x32->8 3x3", "1x60x60x192->8 3x3 d2"})
        EXPECT_EQ(params_for(notation).vectorize, "ci") << notation;
}

// AVX-512, 9 to 15 filters over input channels in fours or eights: one
// vector of 16 filters, padded (two of 8 would run as many lanes in twice
// the FMAs). Fewer filters over a window of several taps pad to one vector
// where they fill more than half the lanes of the input channels' part
// vectors, else sum in those lanes.
TEST(Heuristic, Avx512FewFiltersOverPartVectorsPadToOneVector) {
    for (const char *notation :
         {"4x19x19x72->12 3x3", "1x100x100x4->12 3x3 s2", "1x60x60x4->9 5x5", "1x56x56x8->5 3x3", "1x56x56x4->3 3x3"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.vector_floats, 0);
        EXPECT_EQ(p.vectorize, "c");
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_EQ(p.block_c, 1);
    }
    for (const char *notation : {"1x56x56x8->4 3x3", "1x56x56x4->2 3x3"})
        EXPECT_EQ(params_for(notation).vectorize, "ci") << notation;
}

// The input a row task reads counts the pixels its window touches: a 1x1
// layer at stride 2 reads every other row and column, so its blocks keep
// four vectors of filters (1.1 MB of whole rows would have cut them to one).
TEST(Heuristic, StridedOneByOneCountsTheInputItReads) {
    const schedule::Conv2DParams p = params_for("1x112x112x192->256 1x1 s2");
    EXPECT_EQ(p.block_c, 4) << p.to_json().dump();
}

// Blocks cut to fewer vectors only where that fits them in the L2 with the
// input: 2x2/2 12x64x320->320's channel tasks read 3.9 MB of input whatever
// the block, and keep four vectors.
TEST(Heuristic, BlocksAreCutOnlyWhereThatFitsThem) {
    const schedule::Conv2DParams p = params_for("1x12x64x320->320 2x2 s2");
    EXPECT_TRUE(p.parallel_channels) << p.to_json().dump();
    EXPECT_EQ(p.block_c, 4) << p.to_json().dump();
    // Where it does fit them: 3x3 38x38x512->84's row tasks, 2 vectors.
    EXPECT_EQ(params_for("1x38x38x512->84 3x3").block_c, 2);
}

// AVX-512, one vector of filters whose weights pass L1 and stream from L2:
// blocks as wide as the registers hold (30 columns), not 16, split evenly
// (47 columns in blocks of 24); blocks whose weights stay in L1 keep at
// most 16.
TEST(Heuristic, OneVectorStreamingItsWeightsTakesWideBlocks) {
    const schedule::Conv2DParams row = params_for("1x48x20x160->16 7x7");
    EXPECT_EQ(row.block_c, 1) << row.to_json().dump();
    EXPECT_EQ(row.block_x, 20) << row.to_json().dump();
    EXPECT_EQ(params_for("1x5x47x48->12 5x5").block_x, 24);
    EXPECT_LE(params_for("1x56x56x16->16 3x3").block_x, 16);
    EXPECT_LE(params_for("2x48x48x64->12 2x2").block_x, 16);
}

// The L2 that a block's weights and a task's input should fit: Cascade
// Lake's 1 MB (Halide's avx512_skylake), 1.25 of Sapphire and Emerald
// Rapids' 2 MB (avx512_sapphirerapids).
TEST(Heuristic, BlocksFitTheL2OfTheTarget) {
    const char *sapphire_rapids = "x86-64-linux-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids";
    // 512 KB of weights per vector, 184 KB of input, 3.8 MB of weights in
    // all: a task per channel block. A 2-vector block in 1.25 MB, summed
    // one row at a time; in 1 MB, flat with the kernel rows outside (a
    // kernel row's 205 KB of them stays in L2).
    const schedule::Conv2DParams skylake_5x5 = params_for("1x12x12x320->120 5x5");
    EXPECT_TRUE(skylake_5x5.parallel_channels);
    EXPECT_TRUE(skylake_5x5.flat_positions && skylake_5x5.kernel_rows_outer) << skylake_5x5.to_json().dump();
    const schedule::Conv2DParams sapphire_5x5 = params_for("1x12x12x320->120 5x5", sapphire_rapids);
    EXPECT_TRUE(sapphire_5x5.parallel_channels);
    EXPECT_EQ(sapphire_5x5.block_c, 2);
    EXPECT_EQ(sapphire_5x5.block_x, 12);
    EXPECT_FALSE(sapphire_5x5.flat_positions) << sapphire_5x5.to_json().dump();
    // 295 KB per vector, 311 KB of input per task: 2 vectors in 1 MB, 3 in
    // 1.25 MB.
    EXPECT_EQ(params_for("1x38x38x512->84 3x3").block_c, 2);
    EXPECT_EQ(params_for("1x38x38x512->84 3x3", sapphire_rapids).block_c, 3);
}

// Valid layers in channel tasks: 2-vector row blocks on Sapphire Rapids
// where a block's weights fit the L2 beside the input, else flat 4 x 6 (and
// flat on Cascade Lake).
TEST(Heuristic, ValidLayersTakeRowBlocksWhereTheyFitTheL2) {
    const char *sapphire_rapids = "x86-64-linux-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids";
    const schedule::Conv2DParams p = params_for("1x17x17x224->256 5x5 valid", sapphire_rapids);
    EXPECT_TRUE(p.parallel_channels) << p.to_json().dump();
    EXPECT_FALSE(p.flat_positions) << p.to_json().dump();
    EXPECT_EQ(p.block_c, 2);
    EXPECT_EQ(p.block_x, 13);
    // Past 14 columns too: 31 in three blocks of 11.
    const schedule::Conv2DParams wide = params_for("1x35x35x64->192 5x5 valid", sapphire_rapids);
    EXPECT_FALSE(wide.flat_positions) << wide.to_json().dump();
    EXPECT_EQ(wide.block_c, 2);
    EXPECT_EQ(wide.block_x, 11);
    EXPECT_TRUE(params_for("1x14x14x384->384 5x5 valid", sapphire_rapids).flat_positions);
    EXPECT_TRUE(params_for("1x71x71x192->192 3x3 s2 valid", sapphire_rapids).flat_positions);
    EXPECT_TRUE(params_for("1x17x17x224->256 5x5 valid").flat_positions);
    EXPECT_TRUE(params_for("1x35x35x64->192 5x5 valid").flat_positions);
}

// An odd count of channel tasks under 16 splits each into two of half the
// rows where the image is tall, or of an even height with 2M multiply-adds
// per half: 2x2/2 12x64x320->320 (five 4-vector blocks, 6 rows) in ten
// tasks of 3 rows.
TEST(Heuristic, OddChannelTaskCountsSplitEvenHeights) {
    const schedule::Conv2DParams p = params_for("1x12x64x320->320 2x2 s2");
    SCOPED_TRACE(p.to_json().dump());
    EXPECT_TRUE(p.parallel_channels);
    EXPECT_EQ(p.block_c, 4);
    EXPECT_EQ(p.rows, 3);
    // 1x1 6x4x320->320, five 4-vector blocks too (0.25M multiply-adds per
    // half task): whole images.
    const schedule::Conv2DParams small = params_for("1x6x4x320->320 1x1");
    EXPECT_TRUE(small.parallel_channels) << small.to_json().dump();
    EXPECT_EQ(small.block_c, 4);
    EXPECT_EQ(small.rows, 0);
}

// Widths of four to eight blocks of 14 columns: 2 x 14 on Sapphire Rapids,
// read in place (its four column blocks skip the padding); 4 x 6 on
// Cascade Lake (two input channels per step); not 28 wide, nor 1x1.
TEST(Heuristic, SapphireRapidsTakesTwoVectorsByFourteenOnWidthsOfFourteens) {
    const char *sapphire_rapids = "x86-64-linux-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids";
    for (const char *notation : {"8x56x56x64->64 3x3", "1x112x112x64->64 3x3", "1x224x224x3->64 7x7 s2"}) {
        const schedule::Conv2DParams p = params_for(notation, sapphire_rapids);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.block_c, 2);
        EXPECT_EQ(p.block_x, 14);
        EXPECT_EQ(p.pad, "in_place");
        const schedule::Conv2DParams skylake = params_for(notation);
        EXPECT_EQ(skylake.block_c, 4);
        EXPECT_EQ(skylake.block_x, 6);
    }
    for (const char *notation : {"1x56x56x128->128 3x3 s2", "1x28x28x512->128 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation, sapphire_rapids);
        EXPECT_EQ(p.block_x, 6) << notation << ": " << p.to_json().dump();
    }
}

// Fewer filters than a vector over sixteens of input channels: one vector
// of filters padded, in tiles, where lanes of input channels would take
// one-column blocks (a window of several taps) or, 1x1, where their
// horizontal sums cost more than the padding (which sums eight input
// channels per step over an input past the L2); lanes elsewhere.
TEST(Heuristic, FewerFiltersThanAVectorPadToOneWhereLanesCostMore) {
    const Halide::Target avx512(kAvx512);
    for (const char *notation :
         {"2x48x48x64->12 2x2", "1x28x28x128->14 3x3", "1x37x37x64->12 1x1", "1x73x73x64->12 1x1 s2",
          "1x20x20x256->12 1x1", "1x56x56x32->6 1x1", "1x73x73x320->12 1x1", "1x56x56x512->12 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        SCOPED_TRACE(std::string(notation) + ": " + p.to_json().dump());
        EXPECT_EQ(p.vectorize, "c");
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_EQ(p.block_c, 1);
        EXPECT_TRUE(schedule::pads_filters(notation_layer(notation), p, schedule::vector_floats(p, avx512)));
    }
    for (const char *notation :
         {"1x28x28x128->9 3x3", "1x10x10x512->10 1x1", "1x56x56x64->4 1x1", "1x56x56x256->4 1x1"}) {
        const schedule::Conv2DParams p = params_for(notation);
        EXPECT_EQ(p.vectorize, "ci") << notation << ": " << p.to_json().dump();
    }
}

// Several images of a prime height: tasks of many rows, the last shifted
// over at most 1% of them, not one-row tasks; one image keeps one-row tasks.
TEST(Heuristic, SeveralImagesOfPrimeHeightTakeTasksOfManyRows) {
    const schedule::Conv2DParams p = params_for("4x199x199x4->32 3x3");
    EXPECT_GT(p.rows, 1) << p.to_json().dump();
    EXPECT_LE((p.rows - 199 % p.rows) % p.rows * 100, 199) << p.to_json().dump();
    EXPECT_EQ(params_for("1x199x199x4->32 3x3").rows, 1);
}

// AVX-512 batches of 3x3 layers: fewer, taller row tasks per image, while
// the batch still gives 16 tasks or more; one image keeps eight.
TEST(Heuristic, Avx512BatchesTakeTallerRowTasks) {
    auto rows = [](const char *notation) { return params_for(notation).rows; };
    EXPECT_EQ(rows("8x56x56x64->64 3x3"), 28);
    EXPECT_EQ(rows("16x14x14x64->64 3x3"), 14);
    EXPECT_EQ(rows("1x56x56x64->64 3x3"), 7);
    EXPECT_EQ(rows("2x28x28x96->96 3x3"), rows("1x28x28x96->96 3x3"));
    // 1x1 layers pad no halo: their tasks stay as for one image.
    EXPECT_EQ(rows("4x14x14x256->1024 1x1"), rows("1x14x14x256->1024 1x1"));
}

// AVX-512, 65-80 filters (five vectors, padded or not): one block of all
// five, 5 columns.
TEST(Heuristic, Avx512FiveVectorsOfFiltersTakeOneBlock) {
    for (const LayerShape &s :
         std::vector<LayerShape>{{19, 19, 480, 80, 1, 1, 1}, {73, 73, 64, 80, 1, 1, 1}, {33, 33, 72, 72, 3, 1, 1}}) {
        const schedule::Conv2DParams p = avx512_params(s);
        SCOPED_TRACE(p.to_json().dump());
        EXPECT_EQ(p.accumulate, "tile");
        EXPECT_EQ(p.block_c, 5);
        EXPECT_EQ(p.block_x, 5);
    }
    // Row tasks whose input rows would crowd the block's weights out of
    // the L2 take fewer rows, not fewer vectors (3 would compute 96
    // filters for 72).
    const schedule::Conv2DParams strided = avx512_params({112, 112, 120, 72, 3, 2, 1});
    EXPECT_EQ(strided.block_c, 5) << strided.to_json().dump();
    EXPECT_LE(strided.rows, 4) << strided.to_json().dump();
    // Whose weights alone fit: one-row tasks.
    const schedule::Conv2DParams heavy = avx512_params({80, 33, 320, 80, 3, 2, 1});
    EXPECT_EQ(heavy.block_c, 5) << heavy.to_json().dump();
    EXPECT_EQ(heavy.rows, 1) << heavy.to_json().dump();
    // Four or six vectors keep blocks of at most four.
    EXPECT_LE(avx512_params({33, 33, 72, 64, 3, 1, 1}).block_c, 4);
    EXPECT_LE(avx512_params({33, 33, 72, 96, 3, 1, 1}).block_c, 4);
}

// One vector of filters whose weights stream from L2 takes the widest
// blocks the registers hold, split so a row's blocks are even: 48 columns in
// two of 24, not 30 and a guarded 18; 40 in two of 20.
TEST(Heuristic, WidestOneVectorBlocksSplitRowsEvenly) {
    for (const char *target : {"x86-64-linux-avx512_skylake", "x86-64-linux-avx512_skylake-avx512_cannonlake-avx512_sapphirerapids"}) {
        SCOPED_TRACE(target);
        const schedule::Conv2DParams p = params_for("1x48x48x256->16 3x3", target);
        EXPECT_EQ(p.block_c, 1) << p.to_json().dump();
        EXPECT_EQ(p.block_x, 24) << p.to_json().dump();
        EXPECT_EQ(params_for("1x40x40x256->16 3x3", target).block_x, 20);
        EXPECT_EQ(params_for("1x60x60x256->16 3x3", target).block_x, 30);
    }
}

// AVX-512 blocks whose weights stay in L1 are rated as the template runs
// them, with a guarded last block, where the window has several taps and
// the image 8 or more columns (depthwise layers aside): 3x3 28x64x96->256 in
// 16 groups takes 4 x 6, whose row of blocks unrolls and reads the input in
// place, not 4 x 4 from a padded copy. 1x1 56x56x64->256 keeps 4 x 4, and
// depthwise 7x7 9x9x320 4 x 3.
TEST(Heuristic, WindowsRateGuardedLastBlocks) {
    const schedule::Conv2DParams grouped = params_for("1x28x64x96->256 3x3 g16");
    EXPECT_EQ(grouped.block_c, 4) << grouped.to_json().dump();
    EXPECT_EQ(grouped.block_x, 6) << grouped.to_json().dump();
    EXPECT_EQ(grouped.pad, "in_place");
    const schedule::Conv2DParams pointwise = params_for("1x56x56x64->256 1x1");
    EXPECT_EQ(pointwise.block_c, 4) << pointwise.to_json().dump();
    EXPECT_EQ(pointwise.block_x, 4) << pointwise.to_json().dump();
    EXPECT_EQ(params_for("1x9x9x320->320 7x7 dw").block_x, 3);
}

// AVX-512 depthwise-like layers without padding: a row narrower than 8
// columns in one block, not a block of 4 and a shifted one; wider rows keep
// blocks of 4 (a shifted last block recomputes little of them).
TEST(Heuristic, Avx512NarrowValidRowsOfFewTapsTakeOneBlock) {
    EXPECT_EQ(block_of("1x14x14x224->224 5x5 d2 dw valid"), std::make_pair(2, 6));
    EXPECT_EQ(block_of("4x56x56x120->240 3x3 g120 valid").second, 4);
    EXPECT_EQ(block_of("1x14x14x224->224 5x5 d2 dw").second, 7);
}
