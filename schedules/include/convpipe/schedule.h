#pragma once
// Schedules: templates are code (one per op kind and target family), their
// parameters are data. A parameter set comes from a schedule file
// (schedules/<family>/<pipeline>.json, written by the autotuner or by hand)
// or, with no file, from a heuristic that looks at the layer's shapes and the
// target's vector width.
#include <map>
#include <optional>
#include <string>

#include <Halide.h>
#include <nlohmann/json.hpp>

#include "convpipe/graph.h"
#include "convpipe/lower.h"

namespace convpipe::schedule {

// Parameters of the x86 direct Conv2D template (conv2d_direct_x86):
//   vectorize "c": a register block of block_c vectors of output channels x
//                  block_x output columns; weights are read as vectors, input
//                  values are broadcast. The accumulators of `rows` output
//                  rows (0: all) live in a small buffer, and the reduction runs
//                  over chunks of chunk_c input channels (0: all) outermost,
//                  so one chunk's weights stay in L1 while every register
//                  block of those rows uses them.
//                  With "accumulate": "tile" each register block runs its
//                  whole reduction at once and stores from registers; `rows`
//                  then sets the rows per parallel task (each task pads only
//                  the input rows it reads); with "parallel_channels" each
//                  task also takes just one channel block (more, smaller
//                  tasks for small images; the input is padded once), and
//                  block_y > 1 makes the register block block_x columns x
//                  block_y rows (widths such as 14 that no column count
//                  fitting the registers divides). "flat_positions" runs
//                  the register blocks (block_c vectors x block_x
//                  positions; block_y unused) through each task's output
//                  positions in row-major order, across row ends, so that
//                  only a task's last block is short (widths such as 13
//                  or 7; 1x1 layers' short reductions do not pay for its
//                  pass that stores the sums); it needs a width the spec
//                  fixes and compute_at "root" (a schedule file that asks
//                  for it elsewhere is refused). "kernel_rows_outer" (flat
//                  positions only) runs the kernel's rows outside the
//                  task's blocks: each block sums one kernel row at a time,
//                  so that row's weights serve every block from L2.
//   vectorize "x": for layers with fewer filters than a vector holds: block_x
//                  vectors of output columns x every output channel.
//   vectorize "ci": for layers with fewer filters than a vector holds and
//                  input channels per group in whole vectors (input_lanes):
//                  vectors of input channels, a partial sum per lane, for
//                  block_x columns x every output channel, summed across
//                  the lanes at the end; `rows` output rows per task. (A
//                  layer it does not fit, as a file written for another
//                  vector width may ask, runs as "x"; so does "c" with
//                  fewer filters than a vector.)
//   vector_floats: floats per vector, 0 for the target's own (16 on AVX-512,
//                  8 on AVX2); a narrower one (8 on AVX-512: 256-bit vectors,
//                  still 32 registers) keeps each vector of filters within
//                  one group where groups hold 8 of them; a wider ask runs at
//                  the target's width.
// Accumulators live in registers: "c" needs block_c*block_x*block_y of them plus
// block_c weight vectors and a broadcast, "x" and "ci" need filters*block_x.
//   compute_at "root": the layer's whole output is computed (in parallel)
//                  before its consumer runs; "consumer": it is computed
//                  inside each parallel task of its one consumer (a Conv2D),
//                  for the rows that task reads, while they are in cache;
//                  rows the neighbouring task also reads (the window's halo)
//                  are computed twice.
struct Conv2DParams {
    std::string vectorize = "c";
    std::string accumulate = "rows";   // "c" only: "rows" (chunked, above) or "tile" (whole reduction per block)
    int block_c = 1;
    int block_x = 1;
    int block_y = 1;                   // "tile" only
    int rows = 1;
    int chunk_c = 0;
    bool pack_weights = false;   // weights in filter blocks: stored so (kernel_block) or copied per row group
    bool parallel = true;
    bool parallel_channels = false;    // "tile" only: tasks of one channel block x `rows` rows
    // "tile" only: the channel-block loop inside the column-block loop, so
    // each block of columns reads its input pixels whole, once, while in L1
    // (depthwise layers, whose weights are few and input is the stream).
    bool channels_inner = false;
    bool flat_positions = false;   // "tile" only: register blocks over flat positions (above)
    bool kernel_rows_outer = false;   // flat_positions only: kernel rows outside the blocks (above)
    // "tile" only: input channels per reduction step, unrolled (a divisor
    // of the input channels per group); 0: the template's own choice.
    int channels_per_step = 0;
    std::string compute_at = "root";
    // 'same' padding: "copy" writes the input rows a task reads, with zeros
    // around, and the inner loop reads that copy; "in_place" reads the input
    // itself, with the loops split into edge tiles (zeros by selects) and an
    // interior that reads plain memory.
    std::string pad = "copy";
    int vector_floats = 0;   // floats per vector, 0: the target's (above)
    // "tile" only, not with flat positions: grouped layers of G filters
    // over G input channels per group, G less than a vector's floats and
    // dividing them, summed over rotated groups (lower::SumForm::
    // rotates_groups): each input lane keeps G sums, one per filter of its
    // group, and the filters take theirs back by rotating them within
    // groups, so the inner loop reads input vectors whole rather than
    // gathering each filter's group channel.
    bool rotate_groups = false;
    // "tile" only, not with flat positions: grouped layers whose groups'
    // filters do not fill whole vectors, summed over each group's filters
    // padded to whole vectors (lower::SumForm::pads_groups): every vector
    // of filters then lies in one group and broadcasts one input channel
    // per step, where vectors straddling groups gather each lane's. Each
    // register block holds whole groups (block_c vectors a multiple of the
    // padded group's), and the store picks the group's own filters.
    bool pad_groups = false;

    nlohmann::json to_json() const;
    // Overrides from a schedule file entry; unknown keys or bad values throw
    // SpecError naming `where`.
    void update_from(const nlohmann::json &j, const std::string &where);
};

Conv2DParams conv2d_heuristic(const graph::Layer &layer, const Halide::Target &target);

// Floats per vector that a layer with these parameters is scheduled with.
int vector_floats(const Conv2DParams &p, const Halide::Target &target);

// Depthwise-like layers: a few multiply-adds per output (input channels per
// group x window), so memory-bound. The template unrolls their window; the
// heuristic gives them their own blocks, task sizes and fusion.
bool few_taps(const graph::Layer &layer);

// The share of a layer's window rows that read its image rather than the
// zero padding ('same', stride 1; else 1): what skipping those rows saves
// (skips_padding_rows).
double window_rows_in_image(const graph::Layer &layer);
// The same for the window's columns (skips_padding_columns).
double window_columns_in_image(const graph::Layer &layer);

// Where a layer's stages go relative to other layers (compute_at).
struct Placement {
    // Set when the layer is computed inside its consumer's tasks: the loop
    // level of those tasks (its consumer's, or further down a fused chain).
    std::optional<Halide::LoopLevel> consumer_task;
    // A producer is computed inside this layer's tasks, so this layer's
    // padded input must be made per task too (not once, whole).
    bool has_fused_producer = false;
};

// Applies the template: `store` is the Func the layer's values are written
// to (the pipeline output, or stage.out for an intermediate).
void apply_conv2d(lower::LayerStage &stage, Halide::Func store, bool is_pipeline_output,
                  const Conv2DParams &params, const Halide::Target &target, const Placement &placement = {});

// The one Conv2D layer that reads `layer`, or null when it has another
// number of readers, a non-Conv2D reader, or is a pipeline output: only
// then may it be computed at its consumer.
const graph::Layer *fusable_consumer(const graph::Graph &graph, const graph::Layer &layer);

// A schedule file: per layer parameters plus where they came from.
struct ScheduleFile {
    std::string path;
    nlohmann::json layers = nlohmann::json::object();
};
ScheduleFile load_schedule_file(const std::string &path, const graph::Graph &graph);

// Parameters for every Conv2D layer, by name: the heuristic, overridden by the
// schedule file's entries (file may be null).
using GraphParams = std::map<std::string, Conv2DParams>;
GraphParams choose_params(const graph::Graph &graph, const ScheduleFile *file, const Halide::Target &target);

// The lanes per vector "vectorize": "ci" would sum a layer's input channels
// in: the vector width where the input channels per group are a multiple of
// it, else the largest power of two down to 4 that divides them (part
// vectors, no masked tail: 3x3 64x64x20->4 in lanes of 4 measured 0.17 ms,
// in lanes of 8 with a masked last one 0.68); 0 where the layer cannot take
// it (as many filters as a vector holds, or input channels per group not a
// multiple of 4).
int input_lanes(const graph::Layer &layer, int vector_width);

// Whether the tile template computes its last column block whole and stores
// it under a guard (a width fixed by the spec that the block does not
// divide), rather than shifting it inwards over columns computed before.
bool guards_columns(const graph::Layer &layer, const Conv2DParams &params);

// Whether the tile template pads the filters to whole register blocks: where
// it packs weights and the filter count is not a multiple of the vector width
// (ungrouped layers only: a grouped layer's extra filters would read input
// channels that are not there).
bool pads_filters(const graph::Layer &layer, const Conv2DParams &params, int vector_width);

// The filter block each Conv2D layer's kernel is stored in (convpipe/layout.h),
// for lower_graph and for the runtime, which packs run-time weights to match:
// the vector width when the parameters pack weights and the filter count is a
// multiple of it (every vector of filters then starts on a block, so the
// loads stay dense); the register block's channels where the filters are
// padded (pads_filters); else 0 (Keras's layout).
int kernel_block(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Each Conv2D layer's kernel layout: kernel_block's block, rotated within
// groups where the layer is summed over rotated groups (rotates_groups),
// padded per group where it is summed over padded groups (pads_groups).
lower::KernelLayouts kernel_layouts(const graph::Graph &graph, const GraphParams &params,
                                    const Halide::Target &target);

// The filters per group a grouped layer's sum runs over with
// Conv2DParams::pad_groups and vectors of V floats: its filters per group
// rounded up to whole vectors; 0 where they already are whole vectors, the
// layer is not grouped, or has fewer filters than a vector.
int padded_group_filters(const graph::Layer &layer, int vector_width);
// Whether the tile template sums a layer over padded groups (asked for, with
// "tile", "vectorize": "c", positions in rows and no rotated groups, where
// padded_group_filters applies), for lower_graph (lower::SumForm::
// pads_groups) and the kernel's layout.
bool pads_groups(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether each register block of a layer summed over padded groups holds
// whole padded groups, as the tile template needs (block_c vectors, at most
// the padded filters', a multiple of a padded group's).
bool blocks_hold_whole_groups(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);

// Whether a layer's groups can be rotated (Conv2DParams::rotate_groups)
// with vectors of V floats: G filters and G input channels per group, G
// from 2 (depthwise layers, one of each, need no rotation) to less than V,
// dividing it.
bool can_rotate_groups(const graph::Layer &layer, int vector_width);
// Whether the tile template sums a layer over rotated groups (asked for,
// with "tile", "vectorize": "c" and positions in rows where the layer can
// take it), for
// lower_graph (lower::SumForm::rotates_groups).
bool rotates_groups(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether the tile template sums a layer over flat positions (flat_positions
// asked for where it applies: a width the spec fixes, the template's
// "c" tiles, compute_at "root"), for lower_graph, which defines the sum so.
bool sums_flat_positions(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether the tile template's sum skips the window rows that fall in the
// zero padding: where each register block lies within one output row (blocks
// one row high, or flat blocks whose width divides the output's) and the
// window's rows are a loop (not unrolled, as for few taps); Halide then
// trims that loop per block, with no test left inside the reduction.
bool skips_padding_rows(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether it also skips the window columns that fall in the padding: where
// every register block spans whole output rows (flat blocks whose width is a
// multiple of the output's, or blocks one row wide), or a row's blocks are
// unrolled (unrolls_column_blocks), so that each unrolled position of a
// block keeps its column; Halide then peels the window's first and last
// columns, each without the positions that read padding.
bool skips_padding_columns(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether the tile template unrolls a row's column blocks, so that each
// skips its window columns over the padding: blocks of rows (not flat), 2
// to 8 across a width the spec fixes (the last guarded where they do not
// divide it), where the sum may skip padding at all.
bool unrolls_column_blocks(const graph::Layer &layer, const Conv2DParams &params);
// Whether the sum reads a window one column wide's input columns clamped,
// with no test for the columns past the image (lower::SumForm::
// clamps_columns): where the tile template pads the filters
// (pads_filters) and guards the last column block (guards_columns).
// Halide left that test, a masked load per input, in every column block of
// the last (padded) channel block.
bool clamps_columns(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
// Whether the sum skips every window tap over the padding (rows and columns, as
// the window has them), so that it never reads the zeros.
bool sum_skips_padding(const graph::Layer &layer, const Conv2DParams &params, const Halide::Target &target);
lower::SumForms sum_forms(const graph::Graph &graph, const GraphParams &params, const Halide::Target &target);

// Schedules every stage of a lowered graph with the chosen parameters.
// `outputs` maps output layer names to the Funcs that store them.
void schedule_graph(lower::LoweredGraph &lowered, const graph::Graph &graph,
                    const std::map<std::string, Halide::Func> &outputs, const GraphParams &params,
                    const Halide::Target &target);

}  // namespace convpipe::schedule
