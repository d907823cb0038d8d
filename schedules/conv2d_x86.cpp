// conv2d_direct_x86: direct convolution with register blocking.
//
// Loop nests ("vectorize": "c"; V = floats per vector, a register block is
// block_c vectors of output channels x block_x output columns):
//
// "accumulate": "tile" (the default wherever the kernel can be stored in
// filter blocks), for each image n and group of `rows` output rows
// (parallel; with parallel_channels, each channel block of them too):
//   for y in rows, for each channel block, for x0 in steps of block_x:
//     registers = bias
//     for ky, kx, ci: acc[x][v] += in(ci, x+kx, y+ky) * W(v, ci, kx, ky)
//     out = activation(registers)
// (with channels_inner the channel-block loop goes inside the x0 loop).
// Summed over rotated groups ("rotate_groups": groups of G filters over G
// input channels), the registers hold G sums per vector and column,
//     acc[x][k] += in(c.., x+kx, y+ky) * W(c.., k, kx, ky)
// and each output adds its G sums back, rotated within its groups.
//
// "accumulate": "rows", for each image n, channel block and group of `rows`
// output rows (parallel):
//   acc[rows][W][block] = bias                                (L1/L2 buffer)
//   for each chunk of chunk_c input channels:
//     for y in rows, for x0 in steps of block_x:
//       load acc[y][x0 .. x0+block_x) into registers
//       for ky, kx, ci in chunk: acc[x][v] += in(ci, x+kx, y+ky) * W(v, ci, kx, ky)
//       store the registers back
//   out = activation(acc)
//
// With "pad": "copy" the 'same' padding is materialised per row group
// (rows + K - 1 input rows), so the inner loop reads without conditions;
// with "pad": "in_place" the input is read where it is, and Halide's loop
// partitioning (the algorithm marks the image's values likely) gives the
// interior blocks loops without the edge tests. AVX2 has 16 vector registers:
// block_c=2, block_x=4 holds 8 accumulators (enough for two FMA pipes of 4
// cycles), 2 weight vectors and a broadcast, and block_y=2 makes the same 8
// from 2 columns x 2 rows where the width is 14; AVX-512 has 32: block_c=4,
// block_x=6 holds 24 + 4 + 1. A layer
// with compute_at "consumer" runs the same nest, serially, inside each task
// of the layer that reads it, for the rows that task needs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

#include "convpipe/error.h"
#include "convpipe/schedule.h"

namespace convpipe::schedule {

using namespace Halide;

nlohmann::json Conv2DParams::to_json() const {
    return {{"template", "conv2d_direct_x86"},
            {"vectorize", vectorize},
            {"accumulate", accumulate},
            {"block_c", block_c},
            {"block_x", block_x},
            {"block_y", block_y},
            {"rows", rows},
            {"chunk_c", chunk_c},
            {"pack_weights", pack_weights},
            {"parallel", parallel},
            {"parallel_channels", parallel_channels},
            {"compute_at", compute_at},
            {"pad", pad},
            {"channels_inner", channels_inner},
            {"flat_positions", flat_positions},
            {"kernel_rows_outer", kernel_rows_outer},
            {"channels_per_step", channels_per_step},
            {"vector_floats", vector_floats},
            {"rotate_groups", rotate_groups},
            {"pad_groups", pad_groups}};
}

int vector_floats(const Conv2DParams &p, const Target &target) {
    const int natural = target.natural_vector_size<float>();
    return p.vector_floats > 0 ? std::min(p.vector_floats, natural) : natural;
}

void Conv2DParams::update_from(const nlohmann::json &j, const std::string &where) {
    if (!j.is_object()) throw SpecError(where + ": expected an object of schedule parameters");
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string &k = it.key();
        const nlohmann::json &v = it.value();
        auto integer = [&](int &out, int lo, int hi) {
            if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
                throw SpecError(where + "." + k + ": expected an integer from " + std::to_string(lo) + " to " +
                                std::to_string(hi) + ", got " + v.dump());
            out = v.get<int>();
        };
        auto flag = [&](bool &out) {
            if (!v.is_boolean()) throw SpecError(where + "." + k + ": expected true or false, got " + v.dump());
            out = v.get<bool>();
        };
        auto one_of = [&](std::string &out, std::initializer_list<const char *> known) {
            std::string names;
            for (const char *name : known) {
                if (v == name) {
                    out = name;
                    return;
                }
                names += std::string(names.empty() ? "" : " or ") + "\"" + name + "\"";
            }
            throw SpecError(where + "." + k + ": expected " + names + ", got " + v.dump());
        };
        if (k == "template") {
            if (v != "conv2d_direct_x86")
                throw SpecError(where + ".template: unknown template " + v.dump() + " (known: conv2d_direct_x86)");
        } else if (k == "vectorize") {
            one_of(vectorize, {"c", "x", "ci"});
        } else if (k == "block_c") {
            integer(block_c, 1, 8);
        } else if (k == "block_x") {
            integer(block_x, 1, 32);
        } else if (k == "block_y") {
            integer(block_y, 1, 8);
        } else if (k == "rows") {
            integer(rows, 0, 4096);
        } else if (k == "chunk_c") {
            integer(chunk_c, 0, 1 << 20);
        } else if (k == "accumulate") {
            one_of(accumulate, {"rows", "tile"});
        } else if (k == "pack_weights") {
            flag(pack_weights);
        } else if (k == "compute_at") {
            one_of(compute_at, {"root", "consumer"});
        } else if (k == "pad") {
            one_of(pad, {"copy", "in_place"});
        } else if (k == "channels_inner") {
            flag(channels_inner);
        } else if (k == "flat_positions") {
            flag(flat_positions);
        } else if (k == "kernel_rows_outer") {
            flag(kernel_rows_outer);
        } else if (k == "channels_per_step") {
            integer(channels_per_step, 0, 64);
        } else if (k == "parallel_channels") {
            flag(parallel_channels);
        } else if (k == "parallel") {
            flag(parallel);
        } else if (k == "rotate_groups") {
            flag(rotate_groups);
        } else if (k == "pad_groups") {
            flag(pad_groups);
        } else if (k == "vector_floats") {
            if (!v.is_number_integer() || (v != 0 && v != 4 && v != 8 && v != 16))
                throw SpecError(where + ".vector_floats: expected 0 (the target's), 4, 8 or 16, got " + v.dump());
            vector_floats = v.get<int>();
        } else {
            throw SpecError(where + ": unknown schedule parameter '" + k +
                            "' (known: template, vectorize, accumulate, block_c, block_x, block_y, rows, chunk_c, "
                            "pack_weights, parallel, parallel_channels, channels_inner, flat_positions, kernel_rows_outer, "
                            "channels_per_step, compute_at, pad, vector_floats, rotate_groups, pad_groups)");
        }
    }
}

// Estimated share of FMA peak of a register block of bc vectors x bx
// columns x by rows. Each reduction step issues bc*bx*by FMAs (two per
// cycle) and loads bc weight vectors and bx*by broadcasts (two per cycle);
// FMA latency needs `latency_accumulators` independent accumulators to hide
// (two pipes of 4 cycles: 8 on Zen 3). Channels, columns and rows computed
// past the layer's edges (a last block shifted or rounded) are wasted.
// Where the filters are padded (pads_filters) only whole vectors past the
// filters are: the last block's other vectors are never stored, and LLVM
// drops their FMAs (1x1 20x20x256->36 in blocks of 3 vectors: 12 FMAs per
// input channel in the first block, 8 in the second). Guarded columns
// (guards_columns) waste none either: the last column block is a narrower
// block, with fewer accumulators, which may leave the FMA latency exposed.
// Measured (bench_layers, Zen 3, 1 thread, guarded), as the model ranks
// them: 3x3 7x7x512 3x4 (a 3x3 last block) 2.64 ms vs 2x4 (2x3) 2.82;
// 28x28x128 2x6 (2x4) 2.35 vs 2x4 2.42; 56x56x64 2x4 2.34 vs 2x6 (2x2)
// 2.43; 7x1 17x17x160->192 2x6 (2x5) 1.31 vs 3x4 (3x1) 1.40. It misses
// by 2% where it ties a guarded one-row block with an exact two-row one
// and takes the first: 14x14x256 2x5 2.42 vs 2x2x2 2.38; 38x38x512->84 3x4
// vs 3x2x2 (a tie-break for exact blocks moved other layers off measured
// choices: the 7x7/2 stem's 2x6).
double block_efficiency(int bc, int bx, int by, int V, int64_t filters, bool padded_filters, int64_t width,
                        bool guarded_columns, int64_t height, int latency_accumulators) {
    auto issue = [&](int columns) {
        const int positions = columns * by;
        double fma_cycles = bc * positions / 2.0, load_cycles = (bc + positions) / 2.0;
        return fma_cycles / std::max(fma_cycles, load_cycles) *
               std::min(1.0, bc * positions / double(latency_accumulators));
    };
    auto used = [](int64_t extent, int block) {
        return extent > 0 ? double(extent) / double((extent + block - 1) / block * block) : 1.0;
    };
    double columns = issue(bx) * used(width, bx);
    if (guarded_columns && width > 0 && width % bx != 0) {
        // Time in columns at full issue: the whole blocks, then the last.
        const double time = double(width / bx * bx) / issue(bx) + double(width % bx) / issue(width % bx);
        columns = double(width) / time;
    }
    return columns * used(height, by) * used(filters, padded_filters ? V : V * bc);
}

namespace {

// The share of a window's taps along one axis (rows or columns) that read
// the image: stride 1 'same' only (output size = input size), else 1.
double window_share_in_image(const graph::Conv2D &conv, const graph::SpatialWindow &win, int64_t size) {
    if (win.stride != 1 || size <= 0 || !graph::needs_zero_padding(conv)) return 1.0;
    const int64_t pad = win.pad_before(size);
    int64_t kept = 0;
    for (int64_t o = 0; o < size; o++)
        for (int k = 0; k < win.kernel; k++) {
            const int64_t i = o + int64_t(k) * win.dilation - pad;
            kept += i >= 0 && i < size;
        }
    return double(kept) / double(size * win.kernel);
}

// 'Same' padding whose zeros all fall after the image (below and right of
// it, as for a 3x3/2 window over an even size), on sizes the spec fixes.
bool pads_only_after(const graph::Layer &layer) {
    const Shape &in = layer.input_shape;
    if (!graph::needs_zero_padding(layer.conv) || in.size() != 4 || in[1] <= 0 || in[2] <= 0) return false;
    return graph::window_h(layer.conv).pad_before(in[1]) == 0 && graph::window_w(layer.conv).pad_before(in[2]) == 0;
}

}  // namespace

double window_rows_in_image(const graph::Layer &layer) {
    return window_share_in_image(layer.conv, graph::window_h(layer.conv), layer.output.shape[1]);
}

double window_columns_in_image(const graph::Layer &layer) {
    return window_share_in_image(layer.conv, graph::window_w(layer.conv), layer.output.shape[2]);
}

bool few_taps(const graph::Layer &layer) {
    const graph::Conv2D &c = layer.conv;
    return layer.in_channels / c.groups * c.kernel_h * c.kernel_w <= 32;
}

namespace {

// About the bytes of `input_rows` rows of one image of the input that the
// output reads, for cache fits: the columns the window touches (a 1x1
// window at stride 2 reads every other one), those of the halo not counted.
// (Counted as whole rows, 1x1 112x112x192->256/2's row tasks read 1.1 MB,
// which cut its blocks to one vector; they read 301 KB, and 4 x 6 blocks
// took 0.92, 0.80 the time of 1 x 15: ab_static.sh, AVX-512, 1 thread.)
double input_read_bytes(const graph::Layer &layer, int64_t input_rows) {
    const graph::Conv2D &c = layer.conv;
    const int64_t w = layer.output.shape[2];
    const int64_t columns = std::min(w * c.stride_w, graph::window_w(c).pixels_read(w));
    return 4.0 * double(input_rows) * double(columns) * double(layer.in_channels);
}

// The input that `rows` output rows read, with their window's halo rows.
double input_rows_bytes(const graph::Layer &layer, int64_t rows) {
    return input_read_bytes(layer, graph::window_h(layer.conv).pixels_read(rows));
}

// A whole image's: the output's rows times the stride at most (no halo).
double input_image_bytes(const graph::Layer &layer) {
    const graph::Conv2D &c = layer.conv;
    const int64_t h = layer.output.shape[1];
    return input_read_bytes(layer, std::min(h * c.stride_h, graph::window_h(c).pixels_read(h)));
}

// All images' (0 where the spec leaves the output's size to run time).
double input_bytes_of_all_images(const graph::Layer &layer) {
    const Shape &out = layer.output.shape;
    if (out[0] <= 0 || out[1] <= 0 || out[2] <= 0) return 0;
    return double(out[0]) * input_image_bytes(layer);
}

// Input channels the tile template unrolls per reduction step: all of a
// short reduction (4 or fewer), two where a padded copy is read with AVX2,
// else one.
//   Two: LLVM's generic x86 scheduling then interleaves two steps' loads
// and FMAs. bench_layers, Zen 3, 1 thread, generic tuning as the libraries
// are built: 3x3 56x56x64 1.29x vs 1.11x oneDNN, 7x7x512 1.05x vs 0.98x,
// 5x5 28x28x32 0.98x vs 0.90x. Not where the input is read in place (1x1,
// 'valid'): its clamped column addresses are then recomputed at every step
// (1x1 56x56x64->256 1.70 vs 1.16 ms, 3x3 'valid' 32x32x16 0.16 vs 0.09).
// 'Same' padding read in place ("pad": "in_place") keeps two: the interior
// that Halide splits off reads without clamps (3x3 56x56x64 and 28x28x128
// in place, 2x4 tiles: 0.96x the time of one step).
// AVX2 only: AVX-512's tile blocks take tile_channels_per_step's rule.
int64_t channels_per_step(const graph::Layer &layer, int V) {
    const int64_t cin_group = layer.in_channels / layer.conv.groups;
    if (cin_group <= 4) return cin_group;
    const bool two = V < 16 && cin_group % 2 == 0 && graph::needs_zero_padding(layer.conv) && !few_taps(layer);
    return two ? 2 : 1;
}

// The tile template's input channels per reduction step, for register
// blocks of `vectors` filter vectors by block_x x block_y positions, over
// flat positions where flat_width > 0. Flat blocks take one (AVX2 was
// measured so): with two, LLVM computed the four input addresses of a
// block that crosses a row end as one vector (SLP) and extracted them at
// every step, spilling accumulators (3x3 7x7x512 flat, 1 thread: 1.46x
// the time of row blocks, 1.10x with one step).
//   AVX-512 takes two where both steps' weight vectors fit in the 32
// registers beside the accumulators, and flat blocks are whole rows: the
// loop's counter and pointer updates, which compete with the FMAs for
// ports 0 and 5, then come once per two steps. ab_static.sh, time of two
// vs one, two runs, 1 thread: 1x7 17x17x160->160 (2 x 12) 0.86, 0.85;
// 3x3 4x9x9x256 (2 x 9, whole rows flat) 0.92, 0.93; 13x13x512 (2 x 13)
// 0.95, 0.94; 13x13x384->256 0.96, 0.93; 1x1 8x8x1280->320 (2 x 8) 0.92,
// 0.93; 20x20x256->100 (3 x 8) 0.93, 0.95; 56x56x96 in 2 groups (3 x 8)
// 0.94, 0.96; 5x5 28x28x32->64 (4 x 6) 0.95, 0.97; 3x3 23x23x128 0.95,
// 0.97; 56x56x64 0.98, 0.98; 8x56x56x64 0.96, 0.97; 1x1 56x56x64->256 (4
// x 4) 0.99, 0.97; 28x28x256->256 0.97, 0.96; twelve more 0.95-1.01. Not
// with more registers: 7x7x512 in 4 x 7 (LLVM spills) 1.16, 1.16; nor
// flat blocks across rows: 2x17x17x128 in 4 x 6 1.11, 1.11; 27x27x96->256
// 5x5 1.19, 1.19. Not 28 accumulators (2 x 14), which measured even or
// worse, LLVM spilling where it hoists the second step's weights: 3x3
// 28x28x128 0.97-1.04, 14x14x256 0.88-1.04, 28x28x96 in 3 groups 1.05-1.22,
// 14x14x256 dilated 2 1.05, 1.05.
//   Eight where one vector holds all the filters (AVX-512, one-vector
// blocks) and the input passes half the L2 (all of it for 1x1 layers, which
// read it once): each step then reads 32 bytes of each position's
// channels, and the layer, load-bound on one broadcast per FMA, streams
// its input faster. ab_static.sh, Emerald Rapids, time of eight vs two, 1
// thread: 1x1 73x64x320->16 (6 MB) 0.77 (2 threads 0.77); 56x56x256->16
// 0.83; 112x112x64->16 0.81; 2x80x80x64->16 0.82; 56x56x128->16 (1.6 MB)
// 0.88; 3x3 48x48x256->16 (1 x 24) 0.96; 3x3/2 9x100x384->12 0.94; 7x7
// 48x20x160->16 (614 KB) 0.94 (0.94); 7x1 35x35x128->16 (1 x 18) 0.96.
// Not smaller inputs: 1x1 28x28x256->16 (800 KB) 1.04 (1.03);
// 31x31x80->16 1.07 (1.03); 5x1 31x31x32->16 valid 1.09 (1.07).
// (The layer's part of that rule: the block's part is one vector in whole
// rows.)
bool sums_eight_channels_per_vector_step(const graph::Layer &layer, int V) {
    const int64_t cin_group = layer.in_channels / layer.conv.groups;
    const bool one_by_one = layer.conv.kernel_h == 1 && layer.conv.kernel_w == 1;
    return V == 16 && layer.conv.filters <= V && layer.conv.groups == 1 && cin_group % 8 == 0 && !few_taps(layer) &&
           input_bytes_of_all_images(layer) > (one_by_one ? 1024 : 512) * 1024;
}

int64_t tile_channels_per_step(const graph::Layer &layer, int V, int vectors, int block_x, int block_y,
                               int flat_width) {
    const int64_t cin_group = layer.in_channels / layer.conv.groups;
    if (cin_group <= 4) return cin_group;
    const int accumulators = vectors * block_x * block_y;
    const bool two_fit = accumulators + 2 * vectors <= 32 && accumulators < 28;
    const bool whole_rows = flat_width == 0 || block_x == flat_width;
    if (vectors == 1 && whole_rows && sums_eight_channels_per_vector_step(layer, V)) return 8;
    if (V == 16 && cin_group % 2 == 0 && !few_taps(layer) && two_fit && whole_rows) return 2;
    return flat_width > 0 ? 1 : channels_per_step(layer, V);
}

}  // namespace

// Rows per group: at most `limit`, and dividing the height when it is known,
// since a last, shifted group recomputes rows (9-row groups on 56 rows cost
// 12% more than 8-row ones).
int64_t rows_dividing(int64_t height, int64_t limit) {
    if (height <= 0) return limit;
    for (int64_t r = std::min(height, limit); r > 1; r--)
        if (height % r == 0 && r * 2 >= limit) return r;
    return limit;
}

// Rows per row-group task, a multiple of the register block's rows, for at
// least `tasks` tasks per image: the most rows that divide the height into a
// task count (over all `images`) that is even (equal shares for two threads;
// 3x3 14x14x256 at 2 threads: 1.35 ms in 14 tasks, 1.48 in 7) or 16 or more,
// where an odd one out costs little. 0 when there is none. Several images
// whose height has no such divisor above one row (a prime) take tasks
// whose last, shifted one recomputes at most 1% of the rows, rather than
// hundreds of one-row tasks. ab_static.sh, time vs one-row tasks, 1
// thread; 2 threads: 3x3 4x199x199x4->32 in 25-row tasks 0.96; 0.73, 0.72.
// (One image, 1x199x199x2->32 in 20-row tasks: 1.01-1.03; 0.98-1.04.)
int64_t rows_per_task(int64_t height, int64_t images, int64_t tasks, int block_y) {
    const int64_t most = std::max<int64_t>(std::min<int64_t>(32, height / tasks) / block_y, 1) * block_y;
    auto count = [&](int64_t r) { return (height + r - 1) / r * std::max<int64_t>(images, 1); };
    auto splits_evenly = [&](int64_t r) { return count(r) % 2 == 0 || count(r) >= 16; };
    for (int64_t r = most; r > block_y; r -= block_y)
        if (height % r == 0 && splits_evenly(r)) return r;
    if (images > 1)
        for (int64_t r = most; r > block_y; r -= block_y)
            if ((r - height % r) % r * 100 <= height && splits_evenly(r)) return r;
    return height % block_y == 0 && splits_evenly(block_y) ? block_y : 0;
}

// Rows per group for about `tasks` groups: dividing the height where a
// count near it does (rows_dividing), at most 32.
int64_t rows_for_tasks(int64_t height, int64_t tasks) {
    return rows_dividing(height, std::clamp<int64_t>((height + tasks - 1) / tasks, 1, 32));
}

// Columns per block that split a row `width` wide (known) into as few
// blocks of at most `widest` columns as that takes, of even widths: none
// narrow and guarded (21 in 11 + 10, not 14 + 7).
int even_column_blocks(int64_t width, int64_t widest) {
    const int64_t blocks = (width + widest - 1) / widest;
    return static_cast<int>((width + blocks - 1) / blocks);
}

namespace {

// The multiply-adds of one image of the layer's output (0 where the spec
// leaves its size to run time).
double image_macs(const graph::Layer &layer) {
    const graph::Conv2D &c = layer.conv;
    const int64_t h = layer.output.shape[1], w = layer.output.shape[2];
    if (h <= 0 || w <= 0) return 0;
    return double(h) * double(w) * double(c.filters) *
           double(layer.in_channels / c.groups * int64_t(c.kernel_h) * c.kernel_w);
}

}  // namespace

// Row-group tasks wanted per image: eight, halved (to two at least) while
// each would hold fewer than ~512K multiply-adds (the tile heuristic says
// why).
int64_t row_tasks_wanted(const graph::Layer &layer) {
    int64_t tasks = 8;
    if (const double macs = image_macs(layer); macs > 0)
        while (tasks > 2 && macs / double(tasks) < 512.0 * 1024) tasks /= 2;
    return tasks;
}

namespace {

// The vectors a layer's filters take: their floats (0: the target's) and,
// for grouped layers, the filters per group padded to whole vectors (0:
// none).
struct FilterVectors {
    int vector_floats = 0;
    int padded_filters = 0;
    bool few_filters = false;   // fewer filters than the target's vector holds
};

// AVX-512, groups of 8 filters: vectors of 8 floats, each within one
// group, where 16 would straddle two (each lane then broadcasts its own
// group's input channel: two loads and a shuffle per step, and LLVM
// spilled). The rest of the heuristic then runs as for 8-float vectors
// (AVX2's rules), with AVX-512's 32 registers. ab_static.sh, time vs 16
// floats, two runs, 1 thread: 3x3 64x64x32->32 in 4 groups, 2 x 14 blocks
// vs 2 x 13, 0.68, 0.66. Groups of as many input channels as filters are
// summed over rotated groups in whole vectors instead (conv2d_heuristic).
//   Other groups of 3 or more filters over 2 or more input channels that
// do not fill whole vectors (and are not rotated): the vector width, of
// the target's, a half or a quarter, that wastes the least of the FMA
// peak, its lanes past the group's filters counted as waste (the
// narrowest where they tie), with the filters per group padded to whole
// vectors (Conv2DParams::pad_groups) where they are not. Vectors
// straddling groups gather each lane's input channel per step, which
// Halide and LLVM made very slow for some of them. bench_layers, 1
// thread, ms, gathered -> padded (ratio to oneDNN after): 3x3
// 28x28x192->192 in 8 groups (24 filters, padded to 32) 20.1 -> 0.49;
// 35x33x1024->768 in 64 groups (12 filters to 16) 79.4 -> 2.51 (1.51x);
// 3x3/2 48x48x48->24 in 4 groups (6 filters to 8, vectors of 8) 0.70
// -> 0.050; 28x28x96->96 in 4 groups (24 to 32) 0.41 -> 0.24;
// 56x56x48->48 in 2 groups 0.53 -> 0.49; 35x35x96->96 in 32 groups (3 to
// 4, vectors of 4) 1.28 -> 0.28. 19x19x384->256 in 64 groups (4 filters
// over 6 channels) takes vectors of 4 unpadded: 0.36 -> 0.21. Not groups
// of 2 (3x3 56x56x64 in 32 groups, padded to 4: 0.071 -> 0.70), nor
// groups of 4 or more vectors.
//   AVX-512, 8 filters over input channels in fours or eights but not
// sixteens (where "vectorize": "ci" would sum part vectors, 4 or 8 of 16
// lanes), or over sixteens in a short reduction (192 taps at most, where
// the lanes' sums cost more than the half-width FMAs of vectors of 8;
// ab_static.sh, Emerald Rapids, time vs lanes, 1 thread: 1x3 56x56x16->8
// 0.43; 56x56x32->8 0.70; 3x1 2x60x60x32->8 0.70; 1x1 56x56x64->8 0.90;
// 56x56x128->8 1.01; 3x3 56x56x16->8 0.87; 1x1/2 2x31x64x160->8 valid
// 0.95; 1x3 73x73x64->8 0.95. Not longer: 1x1 56x56x256->8 1.23,
// 28x28x512->8 1.37; 3x3 56x56x32->8 1.15, 60x60x48->8 1.25, 3x3 dilated
// 2 2x80x100x160->8 valid 1.33; 5x5 40x40x16->8 1.29): vectors of 8
// filters, the tile template's. bench_layers, ms, 1
// thread; 2 threads, before -> after: 3x3 96x96x4->8 0.23 -> 0.067; 0.13
// -> 0.051 (0.45x -> 1.21x oneDNN on 1 thread); 64x64x8->8 0.104 ->
// 0.059; 0.080 -> 0.047 (ab_static.sh, Emerald Rapids, one padded vector
// of 16 took 1.03 and 1.05 the time). Not 9 to 15 filters: two vectors of
// 8 run as many lanes as one padded vector of 16, in twice the FMAs. They
// take one padded vector (heuristic_for's pads_to_one_vector): time vs
// two of 8, 1 thread: 3x3 4x19x19x72->12 0.54; 64x64x8->12 0.58;
// 3x3/2 100x100x4->12 0.59; 5x5 60x60x4->9 0.55. Not over sixteens of
// channels, whose full vectors of input channels do better (2x2
// 2x48x48x64->12 0.38 vs 0.45; 1x1 73x73x320->12 0.46 vs 0.74), nor over
// channels in neither (5x5 128x128x2->12 takes vectors of columns: 0.22
// vs 0.30). Their blocks one row high, the input read in place
// (scripts/ab_static.sh, 1 thread, 96x96x4->8 in 1 x 16 blocks vs the
// model's 1 x 15 x 2 over the padded copy: 0.61, 0.64 the time; 64x64x8->8
// 0.87).
FilterVectors filter_vectors(const graph::Layer &layer, const Target &target) {
    const graph::Conv2D &c = layer.conv;
    const int natural = target.natural_vector_size<float>();
    const int registers = natural >= 16 ? 32 : 16;
    const int64_t f = c.groups > 1 ? c.filters / c.groups : 0, cin_group = layer.in_channels / c.groups;
    if (registers == 32 && f == 8) return {8, 0};
    const int lanes = input_lanes(layer, natural);
    const bool short_reduction = cin_group * c.kernel_h * c.kernel_w <= 192;
    const bool lanes_cost_more = lanes == 4 || lanes == 8 || (lanes == 16 && short_reduction);
    if (natural == 16 && c.groups == 1 && c.filters == 8 && lanes_cost_more) return {8, 0, true};
    const bool rotated = cin_group >= 4 && can_rotate_groups(layer, natural);
    if (c.groups <= 1 || f < 3 || f % natural == 0 || f >= 4 * natural || cin_group < 2 || rotated) return {};
    FilterVectors best;
    double best_share = 0;
    for (int V = std::max(4, natural / 4); V <= natural; V *= 2) {
        if (c.filters < V) continue;
        const int64_t padded = (f + V - 1) / V * V;
        const double share = double(V) / natural * double(f) / double(padded);
        if (share > best_share * 1.0001 && padded <= 4 * V) {
            best_share = share;
            best = {V == natural ? 0 : V, padded == f ? 0 : static_cast<int>(padded)};
        }
    }
    return best;
}

Conv2DParams heuristic_for(const graph::Layer &layer, const Target &target, int vector_floats, bool whole_groups);

}  // namespace

Conv2DParams conv2d_heuristic(const graph::Layer &layer, const Target &target) {
    const FilterVectors vectors = filter_vectors(layer, target);
    if (vectors.few_filters) {
        Conv2DParams p = heuristic_for(layer, target, vectors.vector_floats, false);
        if (p.accumulate == "tile" && p.vectorize == "c" && !p.flat_positions) {
            const int64_t w = layer.output.shape[2];
            if (p.block_y > 1) p.block_x = static_cast<int>(std::min<int64_t>(16, w > 0 ? w : 16)), p.block_y = 1;
            p.pad = "in_place";
        }
        return p;
    }
    if (vectors.padded_filters == 0) return heuristic_for(layer, target, vectors.vector_floats, false);
    // Padded groups: the blocks of the layer with its groups' filters
    // padded, each block of whole groups.
    graph::Layer padded = layer;
    padded.conv.filters = layer.conv.groups * vectors.padded_filters;
    padded.output.shape[3] = padded.conv.filters;
    Conv2DParams p = heuristic_for(padded, target, vectors.vector_floats, true);
    p.pad_groups = true;
    if (!pads_groups(layer, p, target) || !blocks_hold_whole_groups(layer, p, target))
        return heuristic_for(layer, target, vectors.vector_floats, false);
    return p;
}

namespace {

// Columns per block for lanes of input channels (schedule_input_lanes): F
// accumulators per column, up to 3/4 of the registers, with a register left
// per filter for its weights and one for an input vector.
int input_lanes_columns(int64_t F, int registers) {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(registers * 3 / 4 / F, (registers - 1 - F) / F)));
}

// The heuristic for vectors of `vector_floats` floats (0: the target's),
// with register blocks of whole groups where asked (padded groups).
Conv2DParams heuristic_for(const graph::Layer &layer, const Target &target, int vector_floats_, bool whole_groups) {
    const graph::Conv2D &c = layer.conv;
    Conv2DParams p;
    // AVX-512 (any of Halide's avx512* features: 16 floats per vector) has
    // 32 vector registers; AVX2 and SSE have 16.
    const int registers = target.natural_vector_size<float>() >= 16 ? 32 : 16;
    p.vector_floats = vector_floats_;
    const int V = vector_floats(p, target);
    const bool wide = V >= 16;
    const int64_t F = c.filters;
    const int64_t cin_group = layer.in_channels / c.groups;
    const int64_t window = int64_t(c.kernel_h) * c.kernel_w;
    const int64_t h = layer.output.shape[1], w = layer.output.shape[2];
    // About the input's size and the weights', for cache fits.
    const double input_bytes = input_image_bytes(layer);
    const double weight_bytes = 4.0 * double(F) * double(cin_group) * double(window);
    // Fewer filters than a vector over whole vectors of input channels:
    // tiles of one vector of filters, padded (pads_filters), instead of
    // lanes of input channels, where those take one-column blocks (a window
    // of several taps: every step loads F weight vectors for F FMAs) or, 1x1,
    // where a position's horizontal sums (log2 V shuffles per filter)
    // outweigh the lanes' share of its reduction: lanes ~F * (Cin / 2V +
    // log2 V) cycles per position, one padded vector ~Cin / 2 / 0.9.
    // ab_static.sh, AVX-512 (Emerald Rapids), 1 thread, time vs the lanes:
    // 3x3 28x28x128->14 0.38 (->9, two-column lanes: 1.27); 1x1
    // 37x37x64->12 0.47, 73x73x64->12/2 0.47, 56x56x32->6 0.56,
    // 20x20x256->12 0.75, 73x73x320->12 1.09 (the model's 1.05; 0.86
    // with eight channels per step, below),
    // 10x10x512->10 1.09 (1.41), 31x64x160->8/2 1.05 (1.22),
    // 28x28x256->7 1.38 (1.68), 56x56x64->4 1.28 (1.47). AVX2 unmeasured.
    // Lanes of part vectors (input channels in fours or eights, L lanes of
    // V) run at L / V of the peak where one padded vector runs at F / V;
    // with their horizontal sums and narrow blocks, measured even near F =
    // L / 2, so a window of several taps pads where 2F > L (AVX-512; AVX2
    // unmeasured): time vs the lanes, 1 thread: 3x3 56x56x8->5 0.85 (->3:
    // 1.33); 56x56x4->3 0.82 (->2: 1.04); 56x56x4->6 0.47; 5x5 60x60x4->9
    // 0.39.
    const bool pads_to_one_vector = [&] {
        const int L = input_lanes(layer, V);
        if (c.groups != 1 || F >= V || L == 0) return false;
        if (window > 1) return input_lanes_columns(F, registers) == 1 || (wide && L < V && 2 * F > L);
        const double lanes = double(F) * (double(cin_group) / (2.0 * L) + std::log2(double(L)));
        // A padded vector summing eight input channels per step (an input
        // past the L2: tile_channels_per_step) runs as if at 1.13: time vs
        // the lanes, 1 thread: 73x73x320->12 0.86; 48x64x320->12 0.89;
        // 56x56x256->10 0.93; 56x56x512->12 0.96; 62x128x160->8/2 0.94.
        const double padded = double(cin_group) / 2 / (sums_eight_channels_per_vector_step(layer, V) ? 1.13 : 0.9);
        return padded < lanes;
    }();
    if (F >= V || pads_to_one_vector) {
        p.vectorize = "c";
        // The register block with the best estimated efficiency: accumulators
        // plus bc weight vectors plus a broadcast must fit the registers.
        // Largest blocks first, and a smaller one only when it is estimated
        // 2% better: more accumulators leave slack for the loads and loop
        // overhead the model does not count (7x7/2 stem, 112 columns: 2x6
        // 2.49 ms vs 2x4 2.52, which the model puts 1.8% ahead).
        // The AVX-512 figures that set its blocks were taken with 10
        // accumulators as the latency bound; it keeps that.
        // With AVX2, blocks of fewer than 4 output positions measured below
        // the model: 3x3 blocks lost 4-6% to 2x5 and 2x6 (1x1
        // 4x14x14x256->1024, 7x1 17x17x160->192), so they are not
        // considered. Two-row blocks serve widths that no column count
        // fitting the registers divides: 3x3 14x14x256, 2 vectors x 2
        // columns x 2 rows 2.39 ms vs 2x5 2.62 (1 thread). AVX-512 keeps
        // one-row blocks and 10 accumulators, as measured there. With AVX2
        // 8 suffice where the template interleaves two reduction steps (or
        // unrolls a short one); one step at a time, as where the input is
        // read in place, needs 12: 1x1 layers, bench_layers side by side,
        // 1 thread, 3 vectors x 4 columns or 3x2x2 vs 2x4 or 2x2x2:
        // 56x56x64->256 1.32 vs 1.35 ms, 28x28x256->256 1.27 vs 1.33,
        // 14x14x512->512 1.26 vs 1.37.
        const int64_t step = channels_per_step(layer, V);
        const int latency_accumulators = wide ? 10 : step > 1 || step == cin_group ? 8 : 12;
        // The weights of a register block of bc vectors of filters, in bytes.
        auto block_weight_bytes = [&](int bc) { return 4.0 * V * bc * double(cin_group) * double(window); };
        // Blocks of bc vectors over the filters, a last part block counted.
        auto channel_blocks = [&](int bc) { return (F + int64_t(V) * bc - 1) / (int64_t(V) * bc); };
        // Whether a block's weights and the input a task reads would
        // overflow AVX-512's L2: 1 MB on Cascade Lake (Halide's
        // avx512_skylake and avx512_cannonlake targets), 2 MB on Sapphire
        // and Emerald Rapids (avx512_sapphirerapids), of which the blocks
        // take 1.25, leaving room for the output and the rest.
        const bool sapphire_rapids = target.has_feature(Target::AVX512_SapphireRapids);
        const double l2_budget = sapphire_rapids ? 1280 * 1024 : 1024 * 1024;
        auto overflows_l2 = [&](int bc, double task_input) {
            return block_weight_bytes(bc) + task_input > l2_budget;
        };
        // The most vectors, up to bc, whose block fits (one at least).
        auto vectors_fitting_l2 = [&](int bc, double task_input) {
            while (bc > 1 && overflows_l2(bc, task_input)) bc--;
            return bc;
        };
        // The vectors an L2 cut leaves a block of bc: those that fit; on
        // Sapphire and Emerald Rapids (2 MB of L2) 2 at least, since a
        // 1-vector block loads a broadcast for each FMA, which cost more
        // than the weights' overflow there. ab_static.sh, Emerald Rapids,
        // time vs 1-vector blocks, 1 thread; 2 threads: row tasks, 7x7/2
        // 80x80x160->20 (1 MB of weights per 2-vector block, 750 KB of task
        // input) in 2 x 14 vs 1 x 15, four runs, 0.60-0.79; 0.77-0.93 (2 x
        // 10 within 1% of 2 x 14). Channel tasks, two runs: 7x7/2
        // 14x20x192->160 (2 x 10, 1.2 MB per block) 0.88, 0.86; 0.89, 0.97.
        // 5x5/2 9x9x512->100 (2 x 5) 0.94, 1.00; 0.92, 0.93. 7x7/2
        // 48x48x256->100 valid (2 x 14, 2 x 11 since, vs 1 x 21) 1.01, 1.01;
        // 0.94, 1.00. Cascade Lake keeps the cut as measured there.
        auto vectors_after_l2_cut = [&](int bc, double task_input) {
            const int fitting = vectors_fitting_l2(bc, task_input);
            return sapphire_rapids ? std::max(std::min(2, bc), fitting) : fitting;
        };
        // AVX-512, where a 4-vector block's weights outgrow L1 (more than 8
        // KB per vector of filters): the tiles stream them from L2 at every
        // reduction step, and a block of fewer than 6 positions, which uses
        // each 64-byte weight vector for fewer than 6 FMAs, is bound by that
        // stream. Cascade Lake (32 KB L1d, 1 MB L2), scripts/ab_static.sh,
        // 1 thread, two runs: 3x3 14x14x256 2 x 14 vs 4 x 5 0.71, 0.80;
        // 7x7x512 4 x 4 vs 2 x 7 1.59, 1.54; 56x56x64 4 x 6 vs 4 x 4 0.86,
        // 0.89.
        const bool streams_weights = wide && block_weight_bytes(1) > 8 * 1024;
        const int min_positions = static_cast<int>(
            std::clamp<int64_t>(w > 0 ? w : 4, 1, !wide ? 4 : streams_weights ? 6 : 1));
        // Filter counts that are not a multiple of V: ungrouped layers take
        // tiles with the filters padded to whole register blocks
        // (pads_filters), whose last block may reach past the filters.
        Conv2DParams packed_tiles;
        packed_tiles.accumulate = "tile", packed_tiles.pack_weights = true;
        const bool paddable = pads_filters(layer, packed_tiles, V);
        const int64_t vectors = paddable ? (F + V - 1) / V : F / V;
        // max_by: 2 where the tile template may take two-row blocks, 1 for
        // the rows template and tasks of one-row groups, which have none.
        // No wider or taller than the image: an output smaller than its
        // block falls back to one-column tiles.
        // One vector of filters whose weights pass L1 (32 KB on Cascade
        // Lake) and stream from L2 at every step: as many columns as the
        // registers hold, so that each weight vector streamed serves more
        // FMAs. ab_static.sh, Emerald Rapids, time vs 10 columns, 1 thread;
        // 2 threads: 7x7 48x20x160->16 (500 KB, 20 columns) 0.90; 0.91.
        const int most_columns = wide && vectors == 1 && block_weight_bytes(1) > 32 * 1024 ? registers - 2 : 16;
        const int widest = static_cast<int>(std::clamp<int64_t>(w > 0 ? w : 16, 1, most_columns));
        // guarded: whether the template will guard a last column block
        // (guards_columns: tiles, on a width the spec fixes). AVX-512 layers
        // whose weights stay in L1 keep the blocks measured for them as if
        // shifted: 1x1 56x56x64->256 4 x 4, where the guarded model takes
        // 4 x 6 (1.02, 1.03 the time in ab_static.sh; 0.99x against 1.08x
        // oneDNN side by side in bench_layers, 1 thread). Not windows of
        // several taps 8 or more columns wide (depthwise layers aside): a
        // guarded last block lets the blocks of a row unroll and skip the
        // window's taps over the padding, reading the input in place
        // (unrolls_column_blocks). ab_static.sh, Emerald Rapids, time vs
        // the shifted model's, 1 thread: 3x3 28x64x96->256 in 16 groups (4 x
        // 6 for 4 x 4) 0.85; 7x7 60x60x8->16 in 8 groups (1 x 16 for 1 x 15)
        // 0.73; 1x3 9x9x40->120 (4 x 6 for 4 x 3) 0.92; 3x3 24x10x384->512
        // in 32 groups 0.97; 28x28x8->100 0.97; eleven more 0.98-1.02. Not
        // depthwise 7x7 9x9x320 (4 x 6 for 4 x 3) 1.10, 19x10x384 1.09; nor
        // 3x3 7x7x768->1024 in 64 groups (4 x 4 for 2 x 7) 1.04.
        const bool depthwise = c.groups == layer.in_channels && F == layer.in_channels;
        const bool tiles_guard_columns =
            w > 0 && (!wide || streams_weights || (window > 1 && !depthwise && w >= 8));
        // Grouped layers: register blocks within one group, or of whole
        // groups, so that Halide sees each vector within one group (else it
        // gathers each lane's input channel). 3x3 28x28x96->96 in 3 groups
        // of 32, 1 thread: 2 vectors x 6 columns 0.45 ms vs 0.66 for 3x4;
        // 64x64x32->32 in 4 groups of 8: 2x4 0.27 ms, 1x14 0.39.
        const int64_t per_group = F / c.groups;
        // (Where a group holds part-vectors, vectors straddle groups anyway.)
        auto within_groups = [&](int bc) {
            const int64_t cb = int64_t(bc) * V;
            if (whole_groups) return cb % per_group == 0;
            return c.groups == 1 || per_group % V != 0 || per_group % cb == 0 || cb % per_group == 0;
        };
        // AVX2, filters padded to 2 or 3 vectors (9-23 filters): every block
        // chosen holds all of them, one row high. The model counts the
        // vectors past the filters as free, so it may split them into a
        // 1-vector block, load-bound and short of accumulators, or take
        // 1-vector blocks throughout. bench_layers, time new / old, two runs
        // with the order swapped, 1 thread; 2 threads: 1x1 17x17x64->20 (3 x
        // 4 for 2 x 6) 0.95, 0.95; 0.90, 0.92. 13x13x256->21 (3 x 4 for 1 x
        // 13) 0.90, 0.93; 0.93, 0.93. 25x25x96->20 (3 x 4 for 1 x 13) 0.85,
        // 0.88; 0.84, 0.92. 9x9x512->18 (3 x 3 for 2 x 6) 0.78, 0.78; 0.79,
        // 0.85. 13x13x256->12 (2 x 5 for 1 x 13) 0.87, 0.93; 0.87, 0.94.
        // 25x25x96->10 (2 x 5 for 1 x 13) 0.79, 0.84; 0.90, 0.85.
        // AVX-512, five vectors of filters (65-80 filters, padded or not):
        // one block of all five by up to 5 columns (25 accumulators), where
        // blocks of up to 4 vectors leave a last block of one vector
        // (load-bound, 6 accumulators) or, unpadded, shift a 4-vector block
        // back over the first. ab_static.sh, Cascade Lake, 1 thread, time vs
        // the former pick, two runs: 1x1 19x19x480->80 vs 1 x 10 0.69, 0.69
        // (5 x 4: 0.75); 73x73x64->80 vs 1 x 15 0.75, 0.74; 3x3
        // 33x33x72->72 vs 4 x 6 0.89, 0.89 (3 x 9: 0.95, 2 x 11:
        // 0.94-0.98).
        const bool one_block_of_all = wide ? vectors == 5 : paddable && (vectors == 2 || vectors == 3);
        const int all_vectors =
            one_block_of_all && within_groups(static_cast<int>(vectors)) ? static_cast<int>(vectors) : 0;
        // The model's best block into `into`, over an output of `across` x
        // `down` positions: up to max_by rows, at least fewest_bc vectors
        // (only_bc where given; else any count up to at_most_bc where given,
        // else all_vectors where set), at least `fewest` and at most
        // `widest` positions. Largest blocks first; a smaller one only 2%
        // better. Returns its estimate.
        auto best_block = [&](Conv2DParams &into, int max_by, bool guarded, int only_bc, int64_t across, int64_t down,
                              int fewest_bc, int fewest, int widest_block, int at_most_bc = 0) {
            double best = -1;
            if (only_bc == 0 && at_most_bc == 0) only_bc = all_vectors;
            const int most_bc = at_most_bc > 0 ? at_most_bc
                                               : std::max(only_bc, static_cast<int>(std::min<int64_t>(wide ? 4 : 3, vectors)));
            for (int bc = most_bc; bc >= fewest_bc; bc--) {
                if (!within_groups(bc) || (only_bc > 0 && bc != only_bc)) continue;
                for (int by = 1; by <= max_by && (down <= 0 || by <= down); by++)
                    for (int bx = std::min(widest_block, (registers - bc - 1) / (bc * by)); bx * by >= fewest; bx--) {
                        double e = block_efficiency(bc, bx, by, V, F, paddable, across, guarded, down,
                                                    latency_accumulators);
                        if (e > best * 1.02) best = e, into.block_c = bc, into.block_x = bx, into.block_y = by;
                    }
            }
            return best;
        };
        // Blocks of rows of the layer's output into p. A block of all the
        // filters' vectors may be narrower: 3 x 3 still holds 9
        // accumulators.
        const int fewest_positions = all_vectors > 0 ? std::min(min_positions, 3) : min_positions;
        auto choose_block = [&](int max_by, bool guarded, int only_bc = 0) {
            return best_block(p, max_by, guarded, only_bc, w, h, 1, fewest_positions, widest);
        };
        choose_block(wide || all_vectors > 0 ? 1 : 2, tiles_guard_columns);
        // Those widest one-vector blocks split a row evenly: as many
        // blocks, none narrow and guarded (the model rates 1 x 30 and a
        // guarded 1 x 18 as two 1 x 24, each load-bound on its
        // broadcasts). ab_static.sh, Emerald Rapids, time vs the model's,
        // 1 thread: 3x3 48x48x256->16 (1 x 24) 0.95 (2 threads 0.95);
        // 40x40x256->16 (1 x 20) 0.94; 44x44x192->16 valid (1 x 21) 0.96;
        // 5x5 48x48x128->16 0.98; 5x47x48->12 0.96 (0.97); 3x3
        // 35x35x256->16 0.99.
        if (most_columns > 16 && p.block_c == 1 && p.block_y == 1 && w > p.block_x)
            p.block_x = even_column_blocks(w, p.block_x);
        // AVX2, five vectors of filters in all (40 filters): one block
        // of all five by 2 columns, 10 accumulators with the weights as FMA
        // memory operands, where the model (3 vectors at most, 4 positions
        // at least) left 1x14 blocks, load-bound on their broadcasts, or
        // 2-vector blocks computing 48 filters for 40. Zen 3, 1 thread:
        // 3x3 28x28x40->40 0.25 ms vs 0.48 in 1x14, 52x52x40->40 0.86 vs
        // 1.53, 100x100x20->40 1.51 vs 2.17 (1x13); 1x1 28x28x240->40 0.165
        // vs 0.180. (4 x 2 on 32 filters measured the same as the model's
        // 2 x 4 or 2 x 6; on 36 filters, padded to 40, 5 x 2 measured
        // 1.0-1.17x the time of 3 x 4. Depthwise-like layers keep their
        // own, below.)
        if (!wide && F == 5 * V && within_groups(5) && (w <= 0 || w >= 2)) p.block_c = 5, p.block_x = 2, p.block_y = 1;
        // AVX2, 1x1 layers on images 28 or more wide whose filters split
        // into pairs of vectors but not threes (256, 512, ...): 2 vectors x
        // 6 columns, where the model's 3 x 4 computes the last block's
        // vectors twice (33 for 32) over a reduction too short to hide it.
        // bench_layers, three rounds, time vs 3 x 4 at 1 / 2 threads:
        // 8x56x56x64->256 0.90 / 0.91, 28x28x64->256 0.94 / 0.95,
        // 56x56x256->512 stride 2 0.94 / 0.92, 28x28x256->256 0.97 / 0.97,
        // 56x56x128->512 0.96 / 0.99; the suite's 56x56x64->256 1.03 / 0.98
        // in that run, 0.99 / 0.97 and 0.95 / 0.95 in a rerun of four
        // rounds (two pairs). Not on narrower images (14x14x64->256 1.09 /
        // 1.05, 7x7x160->960 1.34 / 1.32: a 2 x 2 or 2 x 1 last block).
        if (!wide && window == 1 && w >= 28 && p.block_c == 3 && F % (2 * V) == 0 && F % (3 * V) != 0 &&
            within_groups(2))
            p.block_c = 2, p.block_x = 6, p.block_y = 1;
        // When the filter count is a multiple of the vector width the kernel
        // can be stored in filter blocks (kernel_block), and every layer
        // then does best accumulating each register tile over its whole
        // reduction, storing it straight from registers, with the block's
        // weights streamed contiguously. Zen 3 AVX2, convpipe bench, 1
        // thread: 3x3 56x56x64 2.55 ms tile vs 2.71 row accumulators; 28x28
        // 2.59 vs 2.72; 14x14 2.57 vs 2.66; 7x7x512 2.97 vs 3.08; 1x1
        // 56x56x64->256 1.12 vs 1.27 unpacked; 7x7/2 stem 2.50 vs 2.56-2.79.
        // Otherwise ungrouped layers take tiles too, with the filters padded
        // to whole register blocks (pads_filters). bench_layers, 1 thread,
        // vs oneDNN, before (row accumulators with each block's weights
        // copied per row group; 1x1 and 3x3 over 40+ channels) and after:
        // 1x1 20x20x256->20 0.63x -> 0.94x, ->36 0.76x -> 0.93x, ->100
        // 0.85x -> 0.99x, 7x7x256->100 0.73x -> 0.89x, 17x17x64->20 0.64x
        // -> 0.73x; 3x3 20x20x40->20 0.89x -> 1.06x, 14x14x128->100 0.96x
        // -> 1.13x, 38x38x512->84 0.66x -> 1.03x, 19x19x1024->126 0.93x ->
        // 0.91x (3x4 blocks, whose 884 KB of weights per block stream from
        // L3; 2x5 measured 0.98x). Grouped layers with such counts keep
        // row accumulators where the reduction is long, and short
        // reductions shifted last blocks.
        // Depthwise-like layers (a few taps per output, window unrolled by
        // the template): 2 vectors x 4 columns. Zen 3 AVX2, MobileNet dw3x3
        // 112x112x32, 1 thread: 0.176 ms vs 0.194 for the 2x6 block the
        // cost model prefers (which counts no loads saved by the unrolling).
        if (few_taps(layer)) {
            p.block_c = static_cast<int>(std::min<int64_t>(2, vectors)), p.block_x = 4, p.block_y = 1;
            // AVX-512 stems (fewer input channels than a vector) with one
            // vector of filters: 8 columns, whose 8 accumulators hide the
            // FMA latency that 4 leave half exposed. ab_static.sh, 1
            // thread, time 1 x 8 vs 1 x 4, two runs: 3x3 240x320x3->16
            // 0.77, 0.77; 64x64x3->16 0.79, 0.79; 3x3/2 512x512x3->16 0.88,
            // 0.89 (1 x 6 0.92, 0.91; 1 x 10 0.94, 1.00). Two vectors keep 2
            // x 4 (224x224x3->64 in 2 x 6: 1.10, 1.16). 2 threads: 0.90,
            // 0.91; 0.76, 0.77. 1x1 50x50x8->16 1.00, 0.99 (bound by its
            // memory traffic). AVX2 unmeasured. 1x1 layers of one vector
            // of filters over a few input channels too (Emerald Rapids,
            // time 1 x 8 vs 1 x 4, two runs, 1 thread; 2 threads:
            // 112x112x32->16 0.83, 0.85; 0.75, 0.76. 56x56x24->16 0.73,
            // 0.71; 0.74, 0.75. 14x14x32->16 0.73, 0.72; 0.85, 0.85.
            // 28x28x16->16 0.88, 0.88; 0.90, 0.91. 112x112x16->16 0.85,
            // 0.85; 0.83, 0.83).
            if (wide && vectors == 1 && (layer.in_channels < V || window == 1) && (w <= 0 || w >= 8))
                p.block_x = 8;
            // 1x1 layers of several vectors of filters over a few input
            // channels: blocks of 3 vectors x 8 columns where the vectors
            // come in threes but not in pairs (2-vector blocks compute one
            // vector twice), else 2 x 8 over 24 or more input channels.
            // ab_static.sh, Emerald Rapids, time vs 2 x 4, 1 thread: 3 x 8
            // 4x24x24x32->48 0.83 (2 threads 0.84); 2x48x48x24->48 0.89;
            // 56x56x24->48 0.90 (0.89); 56x56x24->144 0.90; 112x112x16->48
            // 0.93. 2 x 8: 28x28x32->64 0.94; 56x56x32->64 0.94;
            // 14x14x32->96 0.90; 28x28x24->384/2 0.93; 75x75x24->72 0.94;
            // 150x150x32->64 0.95. Not over fewer channels, whose blocks
            // store more than they sum: 80x33x12->80 valid 1.12;
            // 112x112x16->96 1.04; 56x56x16->96 1.05; 80x64x8->160 1.03.
            if (wide && window == 1 && c.groups == 1 && vectors > 1 && (w <= 0 || w >= 8)) {
                if (vectors % 3 == 0 && vectors % 2 != 0) p.block_c = 3, p.block_x = 8;
                else if (layer.in_channels >= 24) p.block_x = 8;
            }
            // Stems whose padding falls only after the image read it in
            // place: their copy costs a pass over an input of a few
            // channels as large as the output, next to few multiply-adds
            // per pixel, and with nothing to pad above or left the first
            // blocks need no edge tests. ab_static.sh, AVX-512 (Emerald
            // Rapids), time vs the padded copy, two runs, 1 thread; 2
            // threads: 3x3/2 512x512x3->16 0.74, 0.73; 0.68, 0.66.
            // 300x300x3->32 0.82, 0.83; 0.80, 0.70. 224x224x3->32 0.93,
            // 0.93; 0.91, 0.96. 224x224x3->24 0.89, 0.89; 0.87, 0.88.
            // 64x64x3->16 0.79, 0.80; 0.81, 0.81. 30x30x3->24 0.60, 0.61;
            // 0.68, 0.69. AVX2 there (bench_layers --isa avx2, side by
            // side): 512x512x3->16 0.83; 0.85, 300x300x3->32 0.93; 0.94,
            // 224x224x3->32 0.96; 0.95. Not with padding before the image,
            // where Halide's partition of the column loop leaves edge tests
            // in it: 3x3/2 299x299x3->32 1.22, 1.56; 1.59, 1.60; 3x3
            // 240x320x3->16 1.83, 1.54; 1.60, 1.61.
            if (layer.in_channels < V && pads_only_after(layer)) p.pad = "in_place";
            // The most columns a block of these vectors holds: beside its
            // accumulators, a register per vector (weights; depthwise, the
            // input's values, its weights being FMA memory operands) and,
            // but depthwise, one for the broadcast input.
            const int most_block_columns = (registers - p.block_c - (depthwise ? 0 : 1)) / p.block_c;
            // AVX-512 without padding (valid): a row narrower than 8 columns
            // and no wider than the registers allow takes one block of it,
            // rather than a block of 4 and one shifted to recompute most of
            // it. ab_static.sh, Emerald Rapids, time vs 2 x 4, two runs, 1
            // thread; 2 threads: 5x5 dilated 2 14x14x224 depthwise valid
            // (6 wide) 0.63, 0.63; 0.72, 0.71. Not wider rows, whose shifted
            // block recomputes less: 3x3 4x56x56x120->240 in 120 groups
            // valid (54 wide) in 2 x 6 1.02, 1.02; 1.02, 1.02.
            if (wide && layer.in_channels >= V && !graph::needs_zero_padding(c) && window > 1 && w > 0 && w < 8 &&
                w <= most_block_columns)
                p.block_x = static_cast<int>(w);
            // Depthwise-like layers read their input in place:
            // a padded copy costs them as much as their few multiply-adds
            // (stride 2: four input pixels copied per output). Column blocks
            // then divide the width where a block size does (a last block
            // shifted would keep every edge test in the loop; a guarded one
            // does not, below). bench_layers, Zen 3, 1 thread,
            // in place vs copied, same process, three runs: 3x3 stride 2
            // 56x56x128 0.83-0.90x the time; 14x14x576 (2x7 blocks)
            // 0.81-0.93x; 14x14x512 0.75-0.99x; 7x7x1024 0.62-0.85x;
            // 28x28x256, 56x56x128, 112x112x32 and 5x5 28x28x120 within
            // noise (0.92-1.08x). With channels_inner (below) also on large
            // inputs (medians of 6 runs, order swapped, vs copied with
            // channels_inner): 3x3 stride 2 112x112x64 0.71x, 112x112x96
            // 0.69x, 3x3 112x112x64 0.85x; 0.71-0.75x at 2 threads. Not
            // for stems (fewer channels than a vector: 3x3/2 on 224x224x3
            // 1.06x, before their row tasks kept the rows partitioned: see
            // above for those that read in place now) nor dense layers
            // (3x3 56x56x64 1.18x: their copy is cheap next to the
            // reduction, and the edge tests stay in its loops). AVX-512 takes the same, unmeasured there: what it
            // saves is memory traffic, whatever the vector width (its
            // depthwise layer was at 0.73-0.82x oneDNN with the copy).
            if (layer.in_channels >= V && graph::needs_zero_padding(c) && h > 0 && w > 0) {
                p.pad = "in_place";
                // Columns: the most, up to 7, that divide the width (7x7x1024
                // in 2 x 7: 0.75-0.80x the time of 2 x 2). Past 4 columns a
                // depthwise block then takes 1 vector, mostly (below).
                if (w % 4 != 0) p.block_x = 0;
                for (int bx = std::min(most_block_columns, 7); bx >= 2 && p.block_x == 0; bx--)
                    if (w % bx == 0) p.block_x = bx;
                // No divisor (prime widths): 4 columns, the last block
                // guarded (guards_columns), still in place: 3x3 19x19x546
                // 0.080 ms vs 0.113 copied (1 thread), 17x17x256 0.031 vs
                // 0.039; at 2 threads 0.053 vs 0.174 and 0.019 vs 0.076
                // (copied, one-row tasks each padded three input rows).
                if (p.block_x == 0) p.block_x = 4;
                // Blocks of 2 vectors wider than 4 columns spill: LLVM keeps
                // input vectors live across the unrolled taps (the interior
                // loop's spills and reloads, 3x3 56x56x128: 2 x 4 4, 2 x 5
                // 48 per 90 FMAs, 2 x 7 158 per 126; 5x5 45x45x48: 2 x 3
                // none, 2 x 5 178 per 250; 1 x 2 to 1 x 7 none). There one
                // vector by the same columns. scripts/ab_static.sh, 1
                // thread, time 1 x bx / 2 x bx, two runs: 3x3 30x30x48 (bx
                // 6) 0.62, 0.54; 35x35x64 (7) 0.65, 0.65; 14x14x256 0.81,
                // 0.80; 14x14x384 0.88, 0.87; 14x14x576 0.91, 0.81; 7x7x960
                // 0.89, 0.85; 25x25x96 (5) 0.84, 0.76; 5x5 35x35x64 0.51,
                // 0.57; 14x14x672 0.75, 0.74; 25x25x96 0.77, 0.84; 45x45x48
                // 0.81, 0.76. Not on pixels 2 KB apart (512 channels or a
                // multiple), where a 64-byte line holds two vectors and the
                // pixels a block reads fall on two L1 sets: one vector per
                // pass reads each line twice (3x3 14x14x512 1.04, 1.07; 5x5
                // 14x14x512 1.24, 1.27); 4 KB apart takes 4 vectors, below.
                // 2 x 4 stays (5x5 28x28x120: 1 x 4 1.08, 1.06).
                if (!wide && depthwise && p.block_c == 2 && p.block_x > 4 && layer.in_channels % 512 != 0)
                    p.block_c = 1;
                // Pixels 4 KB apart (1024 channels, or a multiple): the
                // input pixels a block reads along a kernel row (bx + its
                // width - 1 at stride 1) all sit on one L1 set, of 8 ways
                // on Zen 3, and past 8 they evict each other between the
                // taps. Blocks of 4 vectors make half the passes over them.
                // scripts/ab_static.sh, 1 thread, time 4 x bx / 2 x bx,
                // two runs: 3x3 7x7x1024 (bx 7) 0.78, 0.79; 14x14x1024
                // 0.89, 0.84; 7x7x2048 0.82, 0.81; 5x5 7x7x1024 0.81,
                // 0.81; 2x7x7x1024 0.82, 1.06. Not where they fit the set,
                // 28x28x1024 (bx 4) 1.00, 1.00, nor at other strides:
                // 7x7x960 1.52, 1.23; 14x14x512 1.06, 1.02; 14x14x576
                // 1.29, 1.26.
                const int64_t row_pixels = graph::window_w(c).input_span(p.block_x);
                if (!wide && depthwise && layer.in_channels % 1024 == 0 && row_pixels > 8 && vectors % 4 == 0)
                    p.block_c = 4;
            }
            // And with the channel-block loop inside the column loop: each
            // column block's input pixels are read whole while in L1, where
            // the channel-outer order strides through every row once per
            // channel block. Same process, 1 thread, two runs: 3x3 stride 2
            // 56x56x128 0.66-0.69x the time, 112x112x64 0.89-0.93x;
            // 28x28x256 0.68-0.72x; 56x56x128 0.68-0.88x; 112x112x32
            // 0.74-0.81x; 14x14x512 0.83x; 5x5 28x28x120 0.86-0.88x. Not
            // where one block spans the row (7x7x1024, 2x7 blocks:
            // 1.33-1.59x), nor for stems (3x3/2 on 224x224x3: 1.22x) or
            // dense layers (1x1 and 3x3: 0.98-1.15x). The 1x1 layers with
            // few input channels that count as few taps take it and
            // neither gain nor lose (56x56x24->144, 28x28x32->192,
            // 112x112x16->96: 0.97-1.00x, medians of 6 runs). Not blocks of
            // whole padded groups, whose few input channels per group stay
            // in L1 either way: ab_static.sh, AVX-512 (Emerald Rapids),
            // time channels outer vs inner, 1 thread: 3x3 48x48x24->48 in 8
            // groups (6 filters padded to 8) 0.65, valid 0.68 (2 threads
            // 0.68), stride 2 0.64; 64x64x12->24 in 4 groups 0.64;
            // 56x56x48 in 16 groups (3 padded to 4) 0.91; 35x35x96 in 32
            // groups 1.01.
            if (layer.in_channels >= V && w > p.block_x && !whole_groups) p.channels_inner = true;
            // Stems (fewer input channels than a vector) with AVX2: 4
            // vectors of filters by 2 columns where they divide the
            // filters, and 3 by 3 where 2 vectors do not. Same process,
            // medians of 4 runs, vs 2x4: 3x3/2 on 224x224x3 to 32 filters
            // 0.96-0.98x the time (1 and 2 threads), to 64 0.97x, 3x3 on
            // 256x256x3 to 32 0.92x; to 24 filters (3x2 vs a shifted 2x4)
            // 0.67-0.68x, and 3x3 (9 accumulators) vs 3x2 0.89x. To 48
            // filters 3x2 is slower (1.13x), 3x3 1.02x, and to 16 2x2
            // (1.31x): 2x4 stays. Padded filters count their whole vectors
            // (to 20 filters, 3 vectors of 24: 3x3 0.95x the time of 2x4).
            if (!wide && layer.in_channels < V) {
                if (vectors % 4 == 0) p.block_c = 4, p.block_x = 2;
                else if (vectors % 2 != 0 && vectors % 3 == 0) p.block_c = 3, p.block_x = 3;
            }
        }
        const bool storable = F % V == 0 || paddable;
        // AVX-512 takes tiles too. (Row accumulators over chunks of 16 input
        // channels with 4 x 6 blocks, which an Ice Lake-class Xeon with 48 KB
        // of L1d once measured ahead of the tiles of that time, lost to the
        // tiles on Cascade Lake, whose 32 KB L1d does not hold such a
        // chunk's 37 KB of weights: scripts/ab_static.sh, 1 thread, tiles
        // vs rows, 3x3 56x56x64 (4 x 6) 0.86, 0.88; 28x28x128 (4 x 6) 0.89,
        // 0.89; 14x14x256 (2 x 14) 0.77, 0.73.)
        if (storable || cin_group * window < 256) {
            p.accumulate = "tile";
            p.pack_weights = storable;
            // Row-group tasks, each padding only the input rows it reads
            // (depthwise 112x112x32 at 2 threads: 0.10 ms in row groups of
            // 14-56, 0.17 ms padding the whole image first): up to eight per
            // image, two at least, and a power of two (even shares for 2, 4
            // or 8 threads), of at least ~512K multiply-adds each, since
            // smaller ones cost more in scheduling and halo rows padded
            // twice than they gain (depthwise 3x3 14x14x576, 2 threads:
            // 0.032 ms in 2 tasks, 0.042 in 7, 0.05-0.13 in 14; 5x5
            // 28x28x120: 0.047 ms in 4, 0.065 in 14).
            p.rows = 8;
            if (h > 0) {
                int64_t tasks = row_tasks_wanted(layer);
                // AVX-512, several images, a window of several rows over a
                // padded copy: fewer row tasks per image while the batch
                // still gives 16 or more in all. Each task pads its rows
                // and the window's halo, so taller tasks copy less (1x1
                // layers copy no halo: 4x14x14x256->1024 in 2-row tasks took
                // 1.03, 1.04 the time at 2 threads).
                // ab_static.sh, Cascade Lake, time vs 8 tasks per image, two
                // runs, 1 thread; 2 threads: 3x3 8x56x56x64 in 28-row tasks
                // 1.01, 1.01; 0.95, 0.95. 16x14x14x64 in whole images (224
                // one-row tasks before) 0.93, 0.95; 0.87, 0.86.
                const int64_t images = layer.output.shape[0];
                if (wide && images > 1 && c.kernel_h > 1 && graph::needs_zero_padding(c))
                    while (tasks > 1 && tasks * images >= 32) tasks /= 2;
                p.rows = static_cast<int>(rows_per_task(h, images, tasks, p.block_y));
                // Images too short for eight row tasks, or with no even split
                // into them, split over channel blocks instead when every
                // task can read the whole input from L2: 3x3 7x7x512 at 2
                // threads, 1.50 ms in 22 tasks of one block vs 1.73 in 7
                // one-row tasks (4 + 3 per thread); 14x14x256 with 2x2x2
                // blocks 1.23 ms in 16 channel tasks vs 1.37 in 7 row tasks.
                // So do row tasks of a few output positions (24 at most)
                // where the weights outgrow L2: each such task streams all
                // of them again from L3 for a few uses of each. bench_layers,
                // side by side, ratio to oneDNN at 1 / 2 threads, row tasks
                // -> channel tasks: 3x3 17x17x384 1.07x / 1.00x -> 1.11x /
                // 1.09x, 19x19x256 1.07x / 1.02x -> 1.09x / 1.09x, 7x1
                // 17x17x160->192 1.03x / 0.95x -> 1.08x / 1.03x, 1x1
                // 8x8x1280->320 0.91x / 0.98x -> 0.94x / 0.99x, 3x3
                // 4x9x9x256 1.10x / 1.07x -> 1.13x / 1.10x. With more
                // positions per task it measured even or worse: 3x3/2
                // 31x31x128->256 (32 per task) 1.17x -> 1.09x at 2 threads,
                // 1x1 4x14x14x256->1024 (28) 0.94x -> 0.89x, 5x5
                // 27x27x96->256 (27) 0.89x either way. Weights past 1.5 MB
                // split so up to 32 positions per task (time with channel
                // tasks / row tasks, bench_layers, 1 / 2 threads): 5x5
                // 25x25x128->256 (3.2 MB, 25 positions) 0.95 / 0.93,
                // 31x31x128->192 (2.4 MB, 31) 0.98 / 0.97, 29x29x96->192
                // (1.8 MB, 29) 1.00 / 0.90; not 3x3 28x28x512->128 (2.4 MB,
                // 56 positions: 0.98 / 1.01) nor 24x24x512->256 (4.7 MB, 72:
                // 1.01 / 1.02). (Zen 3's 512 KiB L2.) AVX-512 (Cascade
                // Lake, 1 MB L2) from 1 MB of weights, ratio to oneDNN at
                // 1 / 2 threads, row -> channel tasks: 3x3 4x9x9x256 0.48x
                // / 0.73x -> 0.58x / 0.75x; 1x1 8x8x1280->320 0.61x / 0.88x
                // -> 0.77x / 0.90x; 1x3 8x8x384->384 0.78x / 0.96x -> 0.93x
                // / 1.13x.
                // AVX-512 at exactly 1 MB too, where the reduction is 512
                // input channels or more: a row task re-reads its input rows
                // (28 KB or more at 14 positions) for every channel block.
                // ab_static.sh, time vs row tasks (2 x 14 blocks), 1
                // thread; 2 threads: 1x1 14x14x1024->256 0.79, 0.80; 0.82,
                // 0.84. 14x14x512->512 0.96, 0.95; 0.95, 0.96. Not 256
                // channels: 14x14x256->1024 0.99, 0.96; 1.02, 1.05.
                // 4x14x14x256->1024 1.05, 1.05; 1.07, 1.02.
                const int64_t task_positions = p.rows * w;
                const double restream_from = (wide ? 1024 : 512) * 1024.0;
                const bool restreams_weights =
                    w > 0 &&
                    (weight_bytes > restream_from || (wide && weight_bytes == restream_from && cin_group >= 512)) &&
                    (task_positions <= 24 || (task_positions <= 32 && weight_bytes > 1536 * 1024));
                // The input, read whole by every channel task, may pass 1 MB
                // where the weights row tasks would re-stream are twice it
                // (3x3 19x19x1024->126: 1.4 MB of input, 4.5 MB of weights).
                const bool input_fits = input_bytes <= 1024 * 1024 || (restreams_weights && 2 * input_bytes <= weight_bytes);
                // The vectors per block a channel task keeps (AVX-512): as
                // many as fit the L2 beside the input, which the task reads
                // whole. An input that overflows the L2 alone streams from L3
                // into every task whatever its block, and narrower blocks
                // would only make more tasks read it; but where the block's
                // weights overflow it too, every column block would stream
                // them from L3 as well: the vectors whose weights fit alone.
                // ab_static.sh, Emerald Rapids, time in channel tasks of 1 x
                // 21 (two tasks of 11 rows per block) vs row tasks of 1 x
                // 11, two runs, 1 thread; 2 threads: 7x7/2 48x48x256->100
                // valid (802 KB of weights per vector, 1.8 MB of input)
                // 0.88, 0.90; 0.92, 0.95. 3x3 19x19x1024->100 (590 KB per
                // vector, 1.5 MB of input) in 2 x 14 (2 x 10 since, below)
                // vs 1 x 10 row tasks 0.78, 0.80; 0.95, 0.84.
                auto channel_task_vectors = [&](int bc) {
                    if (!wide) return bc;
                    return vectors_after_l2_cut(bc, overflows_l2(1, input_bytes) ? 0.0 : input_bytes);
                };
                // Four tasks at least, a channel block of an image each, of
                // the vectors the L2 cut below leaves, a last part block
                // counted whole (computed whole, or shifted inwards): 5x5
                // 12x12x320->120 (3.8 MB of weights) in four tasks of 2 x 12
                // blocks, the last of half filters, took 0.80, 0.80 the time
                // of 12 one-row tasks (ab_static.sh, 1 thread; 0.80 at 2).
                // Images count: 3x3 2x12x12x512->128 valid (2.4 MB of
                // weights) in 8 tasks of 2 x 10 blocks, time vs 20 one-row
                // tasks of 4 x 6, two runs, 1 thread; 2 threads: 0.73,
                // 0.74; 0.82, 0.80. 7x7 2x7x10x120->64 dilated 2 (1.5 MB)
                // in 4 tasks of 2 x 10 vs 14 one-row tasks 0.99, 1.00;
                // 0.83, 0.81.
                const int task_block_c = channel_task_vectors(p.block_c);
                const bool channel_tasks_pay = (h < 8 || p.rows == 0 || restreams_weights) &&
                                               channel_blocks(task_block_c) * layer.output.shape[0] >= 4 &&
                                               !few_taps(layer) && input_fits;
                // AVX-512: a row task runs every channel block over each
                // output row, so it reads all the layer's weights once per
                // row; from 640 KB (5/8 of the L2) they no longer stay there
                // next to the input rows, whatever the row's width. So
                // channel tasks, in flat 4 x 6 blocks (below), where those
                // divide the filters. ab_static.sh, time vs row tasks, two
                // runs, 1 thread; 2 threads: 3x3/2 31x31x128->256 (1.15
                // MB) 0.81, 0.82; 0.93, 0.93. 3x3 19x19x1024->126 (4.5 MB,
                // row tasks of 1 x 10 blocks) 0.83, 0.86; 0.81, 0.82. 7x7
                // 64x64x64 (784 KB, 4 tasks of 16 rows) 1.01, 0.84; 0.82,
                // 0.87. 7x1 17x17x160->192 (840 KB, 6 tasks) 1.00, 0.99;
                // 0.95, 0.96. Below it, at 1 thread: 3x3 (576 KB)
                // 23x23x128 1.02, 1.03; 2x17x17x128 1.04, 1.04;
                // 2x28x28x128 1.02, 1.01; 56x56x128/2 1.09, 1.06 (flat
                // channel tasks of the whole image); at 2 threads, see
                // "From 512 KB" below. Not 1x1 layers (14x14x512->512, 1 MB:
                // 1.00, 1.00), nor other blocks: 1x7 17x17x160->160 in 2 x
                // 12 blocks took 1.20, 1.22 (flat, in 10 tasks: 1.20, 1.25;
                // 1.21, 1.27). Whatever the input's size: 3x3/2
                // 71x71x192->192 valid (3.9 MB of input, 1.3 MB of weights,
                // 6 tasks of 18 rows) 0.93, 0.94; 0.95, 0.96.
                // Only where row tasks would be taken otherwise: 3x1
                // 8x8x384->384, in channel tasks of 3 x 8 blocks already,
                // took 1.06, 1.06 the time in flat 4 x 6 blocks. Fewer than
                // four channel blocks: tasks of part of the rows each
                // (below).
                // From 512 KB where the input is 512 KB at most, so that a
                // channel task keeps it in L2 with a kernel row's weights,
                // and four tasks split the rows evenly: row tasks then lose
                // at 2 threads what channel tasks lose at 1. ab_static.sh,
                // time vs row tasks, two runs, 1 thread; 2 threads: 3x3
                // (576 KB) 28x28x128 (4 tasks of 14 rows) 1.03, 1.04;
                // 0.84, 0.83; 2x28x28x128 1.02, 1.03; 0.88, 0.88;
                // 2x17x17x128 1.03, 1.02; 0.92, 0.93. Not 23x23x128 (two
                // parts of 12 rows recompute one) 1.06, 1.08; 0.95, 0.95;
                // nor 3x3/2 56x56x128->128 (1.6 MB of input) 1.03, 1.07;
                // 1.05, 1.07.
                // Flat blocks of 4 vectors x 6 positions (AVX-512, a width
                // the spec fixes, a window of several rows, 4-vector blocks
                // that divide the filters): what the two weight rules here
                // pick.
                const bool flat_4x6_fits = wide && w > 0 && c.kernel_h > 1 && vectors % 4 == 0 && within_groups(4);
                const bool even_parts = vectors / 4 * layer.output.shape[0] >= 4 || h % 2 == 0;
                const bool rereads_all_weights =
                    flat_4x6_fits && h >= 16 &&
                    (weight_bytes >= 640 * 1024 ||
                     (weight_bytes >= 512 * 1024 && input_bytes <= 512 * 1024 && even_parts)) &&
                    !channel_tasks_pay && !few_taps(layer);
                if (channel_tasks_pay || rereads_all_weights) {
                    p.parallel_channels = true;
                    p.rows = 0;
                    // AVX-512 (1 MB of L2 on Cascade Lake): a task reads its
                    // block's weights for every column block and the input
                    // whole, so both should stay in L2; where they do not,
                    // fewer vectors per block, each block then as wide as
                    // the registers allow (each weight vector streamed from
                    // L2 feeds more FMAs). bench_layers, 1 / 2 threads, ratio
                    // to oneDNN: 3x3 17x17x384 row tasks in 4 x 6 0.59x /
                    // 0.80x, channel tasks in 4 x 6 (885 KB of weights per
                    // block, 444 KB of input) 0.60x / 0.64x, in 2 x 14
                    // 0.79x / 0.90x, in 2 x 9 0.64x / 0.72x. Only where
                    // that makes them fit: an input that overflows the L2
                    // alone streams from L3 into every task whatever its
                    // block, and narrower blocks only make more tasks read
                    // it. ab_static.sh, Emerald Rapids, time in 4 x 6 vs 1
                    // x 30 (the cut's), 1 thread; 2 threads: 2x2/2
                    // 12x64x320->320 (3.9 MB of input) 0.70; 0.73.
                    // Where 4-vector blocks divide the filters and their
                    // weights pass half the L2, flat blocks of 4 vectors x 6
                    // positions with the kernel rows outside instead (a
                    // row's third of the weights stays in L2 for all the
                    // task's blocks). ab_static.sh, time vs the blocks this
                    // rule replaces, two runs: 3x3 7x7x512 (1.2 MB per
                    // block) vs 2 x 7 0.88, 0.91 (2 threads 0.88, 0.88);
                    // 4x7x7x512 0.91, 0.89; 13x13x512 vs 2 x 13 0.96, 0.96;
                    // 17x17x384 (885 KB) vs 2 x 14 0.88, 0.85; 14x14x256
                    // (590 KB) vs 2 x 14 row tasks 0.87, 0.88 (2 threads
                    // 0.93, 1.03). Not where 4 vectors do not divide the
                    // filters: flat 3 x 8 on 9x9x288 (498 KB) took 1.06,
                    // 1.06 the time of 3 x 9.
                    if (rereads_all_weights || (flat_4x6_fits && block_weight_bytes(4) > 512 * 1024)) {
                        p.block_c = 4, p.block_x = 6, p.block_y = 1;
                        p.flat_positions = true;
                        // Kernel rows outside where they hold several taps:
                        // 7x1 17x17x160->192 took 1.03, 1.04 the time with
                        // them outside, 0.95, 0.95 inside (vs row tasks).
                        p.kernel_rows_outer = c.kernel_w > 1;
                    } else if (const int kept = channel_task_vectors(p.block_c); wide && kept < p.block_c) {
                        p.block_c = kept;
                        while (p.block_c > 1 && !within_groups(p.block_c)) p.block_c--;
                        // As wide as the registers allow; on Sapphire and
                        // Emerald Rapids in column blocks of even widths
                        // (Cascade Lake measured 2 x 14 ahead of 2 x 9 on
                        // 17x17x384, above). ab_static.sh, Emerald Rapids,
                        // time vs the widest blocks, two runs, 1 thread; 2
                        // threads: 7x7/2 48x48x256->100 valid (21 wide) in 2
                        // x 11 vs 2 x 14 and a last block of 7 0.91, 0.91;
                        // 0.95, 0.94. 3x3 19x19x1024->100 in 2 x 10 0.91,
                        // 0.93; 0.99, 0.94.
                        const int64_t most = (registers - p.block_c - 1) / p.block_c;
                        p.block_x = sapphire_rapids && w > 0 ? even_column_blocks(w, most)
                                                             : static_cast<int>(std::min<int64_t>(w, most));
                        p.block_y = 1;
                    } else if (wide && window == 1 && w > 0 && cin_group >= 256 && p.block_c < 4 && vectors % 4 == 0 &&
                               within_groups(4) && vectors / 4 * layer.output.shape[0] % 2 == 0) {
                        // 1x1 layers with long reductions (256 input
                        // channels or more) whose channel tasks took
                        // narrower blocks: flat 4 x 6 (4 x 7 where that takes
                        // fewer blocks, below), in an even count of tasks.
                        // ab_static.sh, time vs the blocks of rows, two runs,
                        // 1 thread; 2 threads: 7x7x1024->1024 (2 x 7) 0.88,
                        // 0.89; 0.88, 0.88. 7x7x320->1280 (3 x 7) 0.95, 0.95;
                        // 0.91, 0.93. 14x14x1024->2048/2 (3 x 7) 0.96, 0.93;
                        // 0.95, 0.94. Not in an odd count of tasks:
                        // 8x8x1280->320 in 5 (2 x 8 in 10) 0.97, 0.92; 1.04,
                        // 1.04. Not where the tasks' blocks had 4 vectors
                        // already: 11x11x1024->1024 (4 x 6) 1.01, 1.00; 1.01,
                        // 1.01.
                        p.block_c = 4, p.block_x = 6, p.block_y = 1;
                        p.flat_positions = true;
                        p.kernel_rows_outer = false;
                    }
                    // A task per channel block: where blocks of 3 vectors do
                    // not divide the filters (one task then computes a
                    // shifted block, or a narrow one, over the whole image)
                    // but blocks of 2 do, 2-vector blocks where the model
                    // rates them within 3%. bench_layers, two runs (order
                    // swapped), time vs before at 1 thread; 2 threads: 5x5
                    // 27x27x96->256 2 x 6 vs 3 x 4 0.95, 0.95; 0.96, 0.93.
                    // 3x3 19x19x1024->126 2 x 5 vs 3 x 4 row tasks (with the
                    // input bound above) 0.96, 0.92; 0.95, 0.96. 1x1
                    // 11x11x1024->1024 2 x 6 0.96, 1.02; 0.92, 1.05. Not
                    // where a 2-vector block fits the width badly: 3x3
                    // 7x7x512's 2 x 4 (a 2 x 3 last block, rated 10% lower)
                    // took 1.07x the time of 3 x 4.
                    if (!wide && p.block_c == 3 && vectors % 3 != 0 && vectors % 2 == 0) {
                        const Conv2DParams three = p;
                        const double e3 = block_efficiency(3, p.block_x, p.block_y, V, F, paddable, w,
                                                           tiles_guard_columns, h, latency_accumulators);
                        if (choose_block(2, tiles_guard_columns, 2) * 1.03 < e3) p = three;
                    }
                    // An odd count of such tasks under 16 leaves a thread of
                    // two idle for the last; on images tall enough that one
                    // row recomputed costs little, each channel block takes
                    // two tasks of half the rows (the second shifted): 1x1
                    // 19x19x480->80 at 2 threads, 5 vs 10 tasks: 0.198 ms vs
                    // 0.162 (1 thread 0.321 vs 0.313). Not on 14x14x128->100
                    // (1.22x the time at 1 thread) nor 7x7x256->100 (1.27x).
                    // Shorter images of an even height (no row computed
                    // twice) where each half still holds 2M multiply-adds:
                    // ab_static.sh, Emerald Rapids, 2x2/2 12x64x320->320 in
                    // 10 tasks of 3 rows vs 5 of 6, 1 thread 1.00; 2 threads
                    // 0.82. Not 1x1 14x14x128->100 (3 blocks, 0.4M per half):
                    // 1.23; 1.09.
                    // Channel tasks taken for the weights (above) over fewer
                    // than four blocks: four tasks at least, of part of
                    // the rows each (7x7 64x64x64, one block: 4 tasks of
                    // 16 rows).
                    auto task_rows = [&](const Conv2DParams &q) {
                        const int64_t channel_tasks = channel_blocks(q.block_c) * layer.output.shape[0];
                        const double half_task_macs = image_macs(layer) * double(layer.output.shape[0]) /
                                                      double(std::max<int64_t>(1, 2 * channel_tasks));
                        const bool splits_evenly = h % 2 == 0 && half_task_macs >= 2e6;
                        int64_t parts =
                            channel_tasks % 2 != 0 && channel_tasks < 16 && (h >= 16 || splits_evenly) ? 2 : 1;
                        if (rereads_all_weights)
                            while (channel_tasks * parts < 4 && h >= 16 * parts) parts *= 2;
                        if (parts == 1) return 0;   // whole images
                        return static_cast<int>(((h + parts - 1) / parts + q.block_y - 1) / q.block_y * q.block_y);
                    };
                    p.rows = task_rows(p);
                    // Flat blocks of 4 vectors: 7 positions where that costs
                    // less. A task's short last block streams its weights
                    // from L2 as a whole block does, so it costs about as
                    // much; 4 x 7 fills the 32 registers (LLVM spills one
                    // accumulator per step), 7% per block; a width that
                    // divides the output's skips the window rows over the
                    // padding (skips_padding_rows). ab_static.sh, time 4 x 7
                    // vs 4 x 6, two runs, 1 thread; 2 threads: 3x3 7x7x512
                    // (49 positions: 7 blocks vs 9) 0.94, 0.95; 0.96, 0.96;
                    // 4x7x7x512 0.95, 0.98; 0.95, 0.96 (before rows were
                    // skipped). 14x14x256 dilated 2 (skipping 10% of the
                    // rows) 0.96, 0.95. Not where 4 x 7 saves no block and
                    // little padding: 14x14x256 1.00, 1.04 (1.07, 1.07
                    // before rows were skipped); 19x19x256 1.09, 1.06;
                    // 13x13x512 1.04, 1.04; 17x17x384 1.02, 1.01.
                    // Outputs 8-14 wide whose window reaches into the
                    // padding take blocks of 2 vectors x a whole row instead
                    // (16-28 accumulators, no spill), which skip the window
                    // rows and columns over it (skips_padding_columns):
                    // flat where those blocks hold more than 512 KB of
                    // weights, else one row high (below; the figures here
                    // are for the flat blocks, before that).
                    // ab_static.sh, time vs the 4 x 6 or 4 x 7 blocks, two
                    // runs, 1 thread; 2 threads: 3x3 14x14x256 (5% of the
                    // rows skipped, before columns were) 0.95, 0.95; 0.98,
                    // 0.99; 13x13x512 0.95, 0.97; 13x13x384->256 0.95, 0.96;
                    // 0.97, 0.96; 14x14x256 dilated 2 0.98, 0.92. With the
                    // columns skipped too: 4x9x9x256 0.95, 0.95; 0.93, 0.92;
                    // 11x11x256 0.88, 0.91; 0.94, 0.92; 10x10x384 0.94,
                    // 0.89; 9x9x512 0.94, 0.96; 8x8x512 0.94, 0.95. Not
                    // wider: 15x15x256 in 2 x 15 (30 accumulators, spilled)
                    // 1.26, 1.24. Not with little to skip: 3x3/2
                    // 28x28x256->512 1.01, 1.03. Not narrower: 7x7x512 in
                    // 2 x 7 1.14, 1.11 (its 4 x 7 blocks span the row too).
                    // Widths of 28, 42, ... whose 2-vector blocks' weights
                    // stay within a quarter of the L2 (256 KB) take blocks
                    // of 2 vectors x 14 columns, one row high, instead: the
                    // whole reduction in registers and the activation
                    // stored from them (no pass over a task's buffer), and
                    // 2 weight vectors streamed per 28 FMAs where 4 x 6
                    // streams 4 per 24. ab_static.sh, time vs flat 4 x 6,
                    // two runs, 1 thread: 3x3 28x28x128 (147 KB per block)
                    // 0.94, 0.94, 0.96 (2 threads 0.95, 0.96);
                    // 2x28x28x128 0.94, 0.96; 28x28x128->256 0.95, 0.95;
                    // 28x28x192 (221 KB) 0.96, 0.96 (2 threads 0.98,
                    // 0.98); 56x56x128->256 0.96, 0.97. Not with larger
                    // blocks: 28x28x256 (295 KB) 0.98-0.99, 28x28x512 (590
                    // KB) 1.03, 1.04. Not on widths that 14 does not
                    // divide (a short last block): 2x17x17x128 in 2 x 9
                    // 1.05, 1.06; 19x19x256 in 2 x 10 1.06, 1.04; 3x3/2
                    // 71x71x192 valid in 2 x 12 1.05, 1.07. Tasks of 14
                    // rows (16 input rows of 28x28x128: 245 KB, in L2 with
                    // the block's weights): time vs whole images,
                    // 28x28x128 0.97, 0.98 (7 rows: 1.05, 1.04),
                    // 2x28x28x128 0.97, 0.95, 56x56x128->256 0.99, 1.00.
                    // (Those figures for 28x28x256 and 19x19x256 predate
                    // the skipping of the window's columns; padded layers
                    // whose 2-vector blocks hold 512 KB at most (1.25 MB
                    // past 14 columns) now take 2-vector row blocks, below,
                    // which measured 0.92-0.96 the time of flat 4 x 6 on
                    // both, and 28x28x512 0.94-0.95 on another Xeon.)
                    const bool flat_four_vectors = p.flat_positions && p.block_c == 4 && wide;
                    // 4-vector blocks whose weights stay within 320 KB:
                    // one row high, they take two input channels per step
                    // and win over flat or 2 x 14 blocks (below).
                    const bool small_four_vector_blocks = block_weight_bytes(4) <= 320 * 1024;
                    if (flat_four_vectors && w > 14 && w % 14 == 0 && block_weight_bytes(2) <= 256 * 1024 &&
                        within_groups(2)) {
                        // Where a 4-vector block's weights stay within
                        // 320 KB, 4 x 6 blocks one row high instead: they
                        // take two input channels per step, which 2 x 14
                        // (28 accumulators) cannot (tile_channels_per_step).
                        // ab_static.sh, time vs 2 x 14, 1 thread: 3x3
                        // 28x28x128 0.94, 0.94, 0.99, 0.99, 0.98, 0.93 (2
                        // threads 0.97, 0.97); 2x28x28x128 0.94, 0.95;
                        // 28x28x128->256 0.94, 0.97; 56x56x128->256 0.92,
                        // 0.95. Tasks of 14 rows vs whole images: 1.01,
                        // 1.01.
                        p.block_c = small_four_vector_blocks ? 4 : 2;
                        p.block_x = small_four_vector_blocks ? 6 : 14;
                        p.block_y = 1;
                        if (h > 14) p.rows = static_cast<int>(rows_dividing(h, 14));
                        p.flat_positions = false;
                        p.kernel_rows_outer = false;
                    } else if (flat_four_vectors) {
                        const double rows_kept = window_rows_in_image(layer);
                        const double columns_kept = window_columns_in_image(layer);
                        // Past 14 columns the other pick is flat 4 x 6 (below).
                        // Up to 14 it is flat 2 x a row with the kernel rows
                        // outside, which ties with row blocks over 590 KB (3x3
                        // over 512 channels) and loses over larger windows
                        // with a 2 MB L2 (avx512_sapphirerapids). Emerald
                        // Rapids, ab_static.sh, time row blocks vs flat, 1
                        // thread; 2 threads: 3x3 8x8x512 0.99; 1.01. 9x9x512
                        // 0.99; 0.99. 13x13x512 0.97; 0.99. 5x5 10x10x256 (819
                        // KB) 0.86; 0.87. 5x5 12x12x320->120 (1 MB) 0.78.
                        const bool row_blocks_up_to_l2 = w > 14 || sapphire_rapids;
                        const double row_block_weights = (row_blocks_up_to_l2 ? 1280 : 512) * 1024.0;
                        // Valid layers too on a 2 MB L2, where a block's
                        // weights fit beside the input: ab_static.sh,
                        // Emerald Rapids, time vs flat, 1 thread; 2 threads:
                        // 5x5 17x17x224->256 (717 KB) 0.96, 0.97; 0.97. 3x3
                        // 16x16x256 0.98; 0.98. 12x12x512->256 0.98; 0.985.
                        // 5x5 12x12x256->128 0.985. Past 14 columns: 5x5
                        // 35x35x64->192 (2 x 11) 0.78; 35x35x128->192 0.79.
                        // 7x7 40x40x64->128 0.97. 3x3 30x30x256 0.985;
                        // 24x24x320->128 0.98. Not where they overflow it:
                        // 5x5 14x14x384 (1.2 MB and 301 KB) 1.10; 3x3/2
                        // 71x71x192 (3.9 MB of input) 1.01.
                        const bool valid_row_blocks = sapphire_rapids && !graph::needs_zero_padding(c) &&
                                                      !overflows_l2(2, input_bytes);
                        if (w >= 8 && (graph::needs_zero_padding(c) || valid_row_blocks) &&
                            !small_four_vector_blocks && block_weight_bytes(2) <= row_block_weights &&
                            within_groups(2)) {
                            // Blocks of 2 vectors x up to 14 columns, one row
                            // high, instead where their weights stay within
                            // half the L2 (not where 4-vector row blocks take
                            // two input channels per step, above): the sum
                            // skips the window's taps over the padding (flat
                            // blocks across row ends cannot) and keeps the
                            // whole window in registers, the activation stored
                            // from them. ab_static.sh, time vs flat 4 x 6, 1
                            // thread; 2 threads: 3x3 17x17x384 (2 x 9) 0.93,
                            // 0.93; 0.95, 0.95. 19x19x256 (2 x 10) 0.92, 0.92;
                            // 0.93, 0.93. 5x5 27x27x96->256 (2 x 14) 0.92,
                            // 0.92; 0.91, 0.92. 3x3/2 28x28x256->512 0.96,
                            // 0.97; 0.96, 0.96. 7x7 64x64x64 (2 x 13) 0.92,
                            // 0.93; 0.92, 0.92. Vs flat 2 x a row with the
                            // kernel rows outside: 3x3 14x14x256 0.96-0.98
                            // over six runs (1.01 twice on a busy host);
                            // 0.94-0.97 over four. 11x11x256 0.97, 0.97; 0.96,
                            // 0.96. 10x10x384 0.985, 0.985; 0.98, 0.98.
                            // 14x14x256 dilated 2 0.98, 0.98; 0.97, 1.01.
                            // 13x13x384->256 0.98, 0.98; 0.97, 0.97. 4x9x9x256
                            // 1.00, 0.99; 0.96, 0.97. Not 590 KB blocks, which
                            // stay flat 2 x a row: 8x8x512 1.02, 0.98; 0.99,
                            // 0.98. 9x9x512 1.03, 1.00; 0.98, 0.99. 13x13x512
                            // 1.01, 1.01. Nor without padding, on a 1 MB L2
                            // (above): 3x3/2 71x71x192 valid 1.01, 1.00 (2 x
                            // 12).
                            // Past 14 columns, where the other pick is flat
                            // 4 x 6, up to 1.25 MB per block (3x3 over 1024
                            // channels), their rows split for their own count
                            // of tasks. Cascade Lake: 19x19x1024->126 (1.2 MB)
                            // 0.96, 0.97. An Emerald Rapids Xeon (2 MB of L2,
                            // 48 KB of L1d), two runs, 1 thread; 2 threads:
                            // 19x19x1024->126 0.68, 0.68; 0.65, 0.66 (rows
                            // split in two: 0.73; 0.70). 2x19x19x1024->126
                            // 0.89, 0.89; 0.92, 0.92. 28x28x512 (590 KB) 0.95,
                            // 0.95; 0.94, 0.94. 19x19x768->256 0.92, 0.92;
                            // 0.89, 0.89. 17x17x1024->256 0.95, 0.93; 0.89,
                            // 0.91. 32x32x640->128 0.91, 0.91; 0.88, 0.87.
                            // 38x38x1024->256 0.97, 0.98; 0.95, 0.97.
                            // 24x24x1024->512 0.98, 0.99; 0.97, 0.98. (8-14
                            // wide, 590 KB blocks tie there too: 13x13x512
                            // 0.99, 0.99; 0.99, 0.99.)
                            const int64_t column_blocks = (w + 13) / 14;
                            p.block_c = 2;
                            p.block_x = static_cast<int>((w + column_blocks - 1) / column_blocks);
                            p.block_y = 1;
                            p.flat_positions = false;
                            p.kernel_rows_outer = false;
                            p.rows = task_rows(p);
                        } else if (w >= 8 && w <= 14 && rows_kept * columns_kept < 1.0) {
                            p.block_c = 2, p.block_x = static_cast<int>(w);
                        } else {
                            const int64_t rows = p.rows > 0 ? p.rows : h, positions = rows * w;
                            auto cost = [&](int bx) {
                                return double((positions + bx - 1) / bx * bx) * (bx == 7 ? 1.07 : 1.0) *
                                       (w % bx == 0 ? rows_kept : 1.0) * (bx % w == 0 ? columns_kept : 1.0);
                            };
                            p.block_x = cost(7) < cost(6) ? 7 : 6;
                            // Blocks of 6 one row high instead (a short block
                            // per row, costed as a whole one) where skipping the
                            // window rows over the padding saves 3% more than
                            // that costs: 7x1 17x17x160->192 (10% of the
                            // window's rows skipped), time vs flat, two runs, 1
                            // thread; 2 threads: 0.91, 0.91; 0.91, 0.91. Where
                            // the model ties them (3x3 17x17x384, 7x7 64x64x64),
                            // flat.
                            const double row_blocks = double(rows * ((w + 5) / 6) * 6) * rows_kept;
                            // Row blocks of 4 x 6 also take two input
                            // channels per step where flat ones that cross
                            // row ends take one (tile_channels_per_step),
                            // which outweighs the short blocks where a
                            // block's weights stay within 320 KB (no kernel
                            // rows outside the blocks needed to keep them in
                            // L2; three or so per row, unrolled, then read
                            // the input in place). ab_static.sh, time rows
                            // vs flat, two runs, 1 thread; 2 threads: 3x3
                            // 2x17x17x128 (288 KB) 0.91, 0.87; 0.88, 0.92;
                            // 3x3/2 31x31x128->256 (288 KB) 0.86, 0.87;
                            // 0.86, 0.87. Not with larger blocks (rows from
                            // the padded copy vs flat): 19x19x256 (576 KB)
                            // 0.96, 1.00; 5x5 27x27x96->256 (600 KB) 0.96,
                            // 0.97; 3x3/2 28x28x256->512 (576 KB) 1.06, 1.07;
                            // 17x17x384 (864 KB) 1.12, 1.17; 7x7 64x64x64
                            // (784 KB) 1.03, 1.04; 19x19x1024->126 1.19,
                            // 1.55.
                            const bool rows_take_two_steps = p.block_x == 6 && small_four_vector_blocks;
                            if (rows_take_two_steps || row_blocks < 0.97 * cost(p.block_x)) {
                                p.block_x = 6;
                                p.flat_positions = false;
                                p.kernel_rows_outer = false;
                            }
                        }
                    }
                    // Register blocks over flat positions (flat_positions)
                    // where the model rates them 2% above blocks of rows: a
                    // width no block fits, whose row blocks end in a narrow
                    // one, or filters that 2-vector blocks divide and 3-vector
                    // ones do not; the task's last block is then its one
                    // short block. (The flat template takes one reduction
                    // step; 10 accumulators measured as fast as 12 there, so
                    // the latency bound stays the tiles'.) bench_layers, time
                    // flat / rows, two runs with the order swapped, 1 thread;
                    // 2 threads: 3x3 7x7x512 2 x 5 vs 3 x 4 0.93, 0.94; 0.91,
                    // 0.94; 4x7x7x512 0.94, 0.93; 0.97, 0.94; 13x13x384->384
                    // 3 x 4 vs 2 x 5 0.97, 0.93; 0.96, 0.98; 13x13x256->384
                    // 0.92, 0.94; 0.94, 0.94; 13x13x512->512 2 x 5 vs 2 x 5
                    // 0.93, 0.93; 0.93, 0.93; 13x13x384->256 0.93, 0.95;
                    // 0.92, 0.93; 5x5 27x27x96->256 2 x 6 vs 2 x 6 0.98,
                    // 0.96; 0.99, 0.96. Where the model keeps row blocks,
                    // flat ones measured even or slower (3x3 7x7x512 in 3 x 4
                    // 1.08-1.10, 17x17x384 1.02-1.03, 19x19x256 1.01,
                    // 23x23x128 1.04-1.13); for row tasks it keeps rows on
                    // every shape measured, and 1x1 layers, whose short
                    // reductions the flat template's store pass outweighs
                    // (1x1 56x56x64->256 2 x 6 flat: 1.17x the time), stay out.
                    if (!wide && window > 1 && h > 0 && w > 0) {
                        const int64_t positions = (p.rows > 0 ? p.rows : h) * w;
                        const double e_rows = block_efficiency(p.block_c, p.block_x, p.block_y, V, F, paddable, w,
                                                               tiles_guard_columns, h, latency_accumulators);
                        // One row of the task's positions, its last block
                        // guarded; 2 vectors at least (1-vector blocks ran
                        // at half the model's rate where measured, notes),
                        // 4 positions at least.
                        Conv2DParams flat = p;
                        const int widest_flat = static_cast<int>(std::min<int64_t>(positions, 16));
                        bool take_flat = best_block(flat, 1, true, 0, positions, 1, 2, 4, widest_flat) > e_rows * 1.02;
                        // Kernel rows outside the blocks where a block's
                        // weights pass 200 KB. Time with / without, same
                        // process, interleaved, 1 thread: 3x3 7x7x512 (295
                        // KB) 0.977, 0.982 (2 threads 0.982, 0.983);
                        // 4x7x7x512 0.97, 0.98; 13x13x512->512 0.98, 0.98;
                        // 13x13x384->384 (221 KB) 0.96, 0.95;
                        // 13x13x384->256 0.99, 0.99; 13x13x256->384
                        // (3-vector blocks, 221 KB) 1.00, 1.00. Smaller
                        // blocks gain nothing: 7x7x320 (184 KB) 1.00,
                        // 1.00; 5x5 27x27x96->256 (154 KB) 1.01, 1.01;
                        // 7x7x128->256 1.01, 1.01.
                        auto rows_outer_pays = [&](const Conv2DParams &q) {
                            return c.kernel_h > 1 && block_weight_bytes(q.block_c) > 200 * 1024;
                        };
                        // Where a block's weights pass half the L2 (256
                        // KB), flat blocks of the same vectors with kernel
                        // rows outside also where the model rates them up
                        // to 2% below rows (same measure, flat vs rows):
                        // 3x3 19x19x1024->126 2 x 6 vs 2 x 5 (590 KB) 0.89,
                        // 0.89 (bench_layers, two runs, order swapped: 0.84,
                        // 0.93; 2 threads 0.82, 0.93); 19x19x512->1024
                        // dilated 6, 2 x 6 vs 2 x 5 (295 KB) 0.96, 0.95
                        // (0.94, 0.90; 1.03, 0.98); 8x8x448->384 3 x 4 (378
                        // KB) 0.94, 0.97 (0.96, 1.16; 1.09, 0.98, a busy
                        // host). Not below: 17x17x384->384 2 x 6 (221 KB)
                        // 1.00, 1.01 (1.02, 0.93; 1.05, 1.07). (The model's
                        // own flat pick, 3 x 4 on the first: 1.01, 1.03,
                        // its 885 KB per block.)
                        if (!take_flat && c.kernel_h > 1 && block_weight_bytes(p.block_c) > 256 * 1024) {
                            Conv2DParams same = p;
                            if (best_block(same, 1, true, p.block_c, positions, 1, 2, 4, widest_flat) > e_rows * 0.98)
                                flat = same, take_flat = true;
                        }
                        if (take_flat) {
                            p = flat;
                            p.flat_positions = true;
                            p.kernel_rows_outer = rows_outer_pays(p);
                        }
                    }
                } else if (p.rows == 0) {
                    // Two-row blocks that no task size fits: one-row blocks,
                    // and the task sizes again for them.
                    if (p.block_y > 1) {
                        choose_block(1, tiles_guard_columns);
                        p.rows = static_cast<int>(rows_per_task(h, layer.output.shape[0], tasks, 1));
                    }
                    if (p.rows == 0) p.rows = static_cast<int>(rows_for_tasks(h, tasks));
                    // Reading the input where it is (in place, or no padding
                    // at all), a one-row task costs no extra copy, so rather
                    // that than a shifted last group computing rows twice:
                    // depthwise 7x7x1024 0.87-0.97x the time of 4-row
                    // groups, 7x7x576 0.87-0.92x (1 and 2 threads, medians
                    // of 6 runs); 1x1 7x7x240->40 0.91x and 0.96x.
                    const bool reads_input_in_place = p.pad == "in_place" || !graph::needs_zero_padding(c);
                    if (reads_input_in_place && h % p.rows != 0) p.rows = 1;
                }
                // AVX-512 row tasks whose block's weights and the task's
                // input rows overflow the L2 (1 MB on Cascade Lake): every
                // column block would stream its weights from L3. Fewer
                // vectors per block, as for channel tasks above, the columns
                // the model rates best for them. ab_static.sh, 1 thread, time
                // vs the former pick, two runs: 3x3 38x38x512->84 (4 x 6:
                // 1.2 MB of weights per block, 330 KB of input rows) in 2 x
                // 14 0.60, 0.61 (2 x 13 0.56, 0.56; 3 x 9 0.66, 0.69; 3 x 8
                // 0.66, 0.66); 19x19x1024->126 (3 x 8: 1.8 MB) in 1 x 10
                // 0.83, 0.77 (it takes channel tasks now, above, as does
                // 19x19x1024->100).
                if (wide && !p.parallel_channels && p.rows > 0 && w > 0 && !few_taps(layer)) {
                    const double task_input = input_rows_bytes(layer, p.rows);
                    // A block of all the filters' five vectors: fewer rows
                    // per task first, while its weights fit beside them
                    // (down to one row, while they fit alone), where fewer
                    // vectors would leave a last block computing padding or
                    // a shifted one computing vectors twice (3 x 8 blocks:
                    // 96 filters for 72; 3 x 9: 6 vectors for 5).
                    // ab_static.sh, time vs the 3-vector blocks, 1 thread;
                    // 2 threads: 3x3/2 112x112x120->72 in 5 x 4 blocks,
                    // 2-row tasks, 0.83 (5 x 5: 0.85; 5 x 5 in 7 rows: 0.91),
                    // 4-row tasks 0.90; 0.88. 3x3/2 80x33x320->80 (921 KB
                    // of weights) in 5 x 5, 1-row tasks, 0.83; 0.78 (5-row
                    // tasks 0.84; 0.64 on this 2 MB L2).
                    bool whole_block = false;
                    if (all_vectors > 0 && p.block_c == all_vectors && overflows_l2(p.block_c, task_input)) {
                        int64_t rows = p.rows;
                        double rows_input = task_input;
                        while (rows > 1 && overflows_l2(p.block_c, rows_input))
                            rows_input = input_rows_bytes(layer, --rows);
                        if (!overflows_l2(p.block_c, rows_input) || !overflows_l2(p.block_c, 0)) {
                            p.rows = static_cast<int>(rows_dividing(h, rows));
                            choose_block(1, tiles_guard_columns, p.block_c);
                            whole_block = true;
                        }
                    }
                    // (Only where that makes them fit, as for channel
                    // tasks.) The model's best block of the vectors that
                    // fit, or fewer: 4 vectors cut to 3 would leave a last
                    // block of one, which the model counts as shifted. 7x7
                    // 2x7x10x120->64 dilated 2 (1.5 MB per 4-vector block),
                    // ab_static.sh, Emerald Rapids, time in 3 x 6 vs 2 x 10,
                    // 1 thread; 2 threads: 1.04; 1.06.
                    if (!whole_block && p.block_c > 1 && overflows_l2(p.block_c, task_input) &&
                        !overflows_l2(1, task_input)) {
                        best_block(p, 1, tiles_guard_columns, 0, w, h, 1, fewest_positions, widest,
                                   vectors_after_l2_cut(p.block_c, task_input));
                    }
                    // Padded filters in 3-vector blocks that neither divide
                    // the vectors nor the width (at most 14): 2 vectors x
                    // the whole width, one column block per row instead of
                    // a full and a guarded narrow one, each streaming the
                    // block's weights from L2 (the model counts neither).
                    // ab_static.sh, time vs 3 x 9, two runs, 1 thread; 2
                    // threads: 3x3 14x14x128->100 0.92, 0.89; 0.94, 0.91.
                    // 14x14x256->100 0.87, 0.91; 0.89, 0.88. 13x13x128->100
                    // (2 x 13) 0.87, 0.89; 0.92, 0.88. Not where 3-vector
                    // blocks divide the vectors: 14x14x192->96 1.00, 1.01;
                    // 0.98, 0.96; 14x14x128->48 1.32, 1.28; 1.25, 1.22.
                    if (w <= 14 && w % p.block_x != 0 && p.block_c == 3 && p.block_y == 1 && paddable && F % V != 0 &&
                        vectors % 3 != 0 && within_groups(2))
                        p.block_c = 2, p.block_x = static_cast<int>(w);
                    // Sapphire and Emerald Rapids (avx512_sapphirerapids:
                    // 48 KB of L1d, 2 MB of L2), widths of 4-8 blocks of
                    // 14 columns, windows of several taps, where the model
                    // ties 4 x 6 with 2 x 14 and takes the larger block:
                    // 2 x 14, which streams half the weight lines from L2
                    // per FMA (2 per 28 FMAs, 4 per 24) and whose few
                    // column blocks, unrolled, skip the window's columns
                    // over the padding (the input then read in place).
                    // ab_static.sh, Emerald Rapids, time vs 4 x 6, 1 thread;
                    // 2 threads: 3x3 8x56x56x64 0.97; 0.96. 2x56x56x64 0.95;
                    // 0.95. 56x56x64 0.99; 1.00. 56x56x128 0.97; 0.98.
                    // 56x56x64->128 0.99. 112x112x64 0.98; 0.98.
                    // 112x112x64->128 0.99; 1.00. 70x70x64 0.97; 0.98. 3x3/2
                    // 112x112x64->128 0.98. 5x5 56x56x32->64 0.99. 7x7/2
                    // 224x224x3->64 0.97; 0.97. 56x56x48 in 2 groups 0.97;
                    // 0.93. Not 28 wide: 3x3/2 56x56x128->128 1.04, 1.05
                    // (5x5 28x28x32->64 1.00; 3x3 28x28x192 in 8 groups
                    // 0.98); nor 1x1 layers: 28x28x512->128 1.01, 28x28x256
                    // 1.01, 56x56x256->512/2 1.01. Cascade Lake keeps 4 x 6,
                    // which takes two input channels per step there
                    // (tile_channels_per_step; unmeasured against 2 x 14).
                    if (sapphire_rapids && streams_weights && p.block_c == 4 && p.block_x == 6 && p.block_y == 1 &&
                        w % 14 == 0 && w >= 4 * 14 && w <= 8 * 14 && window > 1 && vectors % 2 == 0 &&
                        within_groups(2))
                        p.block_c = 2, p.block_x = 14;
                }
            }
        } else {
            // Grouped layers whose filter count is not a multiple of V, with
            // long reductions: row accumulators, each block's weights copied
            // densely per row group.
            p.accumulate = "rows";
            p.pack_weights = true;
            // Blocks of one row, chosen as such: keeping the columns of a
            // two-row block left 14-wide layers 2x2 blocks (4 accumulators;
            // 3x3 14x14x128->100 1.06 ms vs 0.62 with the 1x14 chosen so,
            // when such ungrouped layers took this template).
            if (p.block_y > 1) choose_block(1, false);
            // With packed weights, chunking the reduction measured no better
            // (3x3 14x14x256: 2.81 ms unchunked, 3.06 in chunks of 32), so
            // the default runs it whole; chunk_c stays a knob for tuning.
            p.chunk_c = 0;
            // Rows per accumulator buffer: the whole image when it is small
            // (more reuse of each chunk), else a buffer of ~32 KB.
            int64_t row_bytes = (w > 0 ? w : 64) * V * p.block_c * 4;
            int64_t rows = std::max<int64_t>(1, 32 * 1024 / row_bytes);
            p.rows = static_cast<int>(h > 0 && rows >= h ? 0 : rows_dividing(h, std::min<int64_t>(rows, 16)));
        }
    } else if (input_lanes(layer, V) > 0) {
        // Few filters over whole vectors of input channels: lanes of input
        // channels (schedule_input_lanes), block_x columns x every filter of
        // accumulators, up to 3/4 of the registers, with a register left
        // per filter for its weights and one for an input vector. Zen 3,
        // bench_layers, 1 thread: 3x3 64x64x32->4 in 2-column blocks
        // (8 + 4 + 1) 0.136 ms vs 0.260 in 3 (12 + 4: spills); 64x64x64->3
        // 4 columns 0.194 ms vs 0.235 in 2; 64x64x16->6 1 column 0.113 vs
        // 0.179 in 2; 128x128x16->1 8 or 12 columns within 3%.
        p.vectorize = "ci";
        p.block_c = 1;
        p.block_x = input_lanes_columns(F, registers);
        if (w > 0) p.block_x = static_cast<int>(std::min<int64_t>(p.block_x, w));
        // Row-group tasks as for the tiles: up to eight per image, of at
        // least ~512K multiply-adds each.
        p.rows = 8;
        if (h > 0) {
            const int64_t tasks = row_tasks_wanted(layer);
            p.rows = static_cast<int>(rows_per_task(h, layer.output.shape[0], tasks, 1));
            if (p.rows == 0) p.rows = static_cast<int>(rows_for_tasks(h, tasks));
        }
    } else {
        p.vectorize = "x";
        p.block_c = 1;
        // No more vectors of columns than the image holds (AVX-512,
        // 16x16x3->8 3x3, convpipe bench, 1 thread: 3 vectors of 16
        // columns 0.33 ms, 1 vector 0.007 ms).
        const int64_t vectors_across = w > 0 ? std::max<int64_t>(1, w / V) : 4;
        p.block_x = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({4, (registers - 4) / F, vectors_across})));
        // Row groups large enough that a task is worth its scheduling: about
        // 64K outputs each, and at most one group per 2 threads' share.
        int64_t row_outputs = (w > 0 ? w : 256) * F;
        p.rows = static_cast<int>(std::clamp<int64_t>(65536 / row_outputs, 1, 64));
        if (h > 0 && p.rows * 2 > h) p.rows = static_cast<int>(std::max<int64_t>(1, h / 2));
    }
    // Groups of G filters over G input channels, G from 4 to less than a
    // vector: sums over rotated groups (lower::SumForm::rotates_groups), one
    // vector of channels x block_x columns x G sums, up to 3/4 of the
    // registers (the rest: a weight vector per sum, an input vector), the
    // input read in place. bench_layers, AVX-512, 1 thread; 2 threads, ms
    // before -> after: 3x3 56x56x128 in 32 groups (G = 4; 4 x 4 blocks of
    // gathered group channels before) 0.68 -> 0.28; 0.39 -> 0.18. 8 images
    // 6.07 -> 2.37; 2.94 -> 1.26. 3x3/2 0.172 -> 0.083; 0.137 -> 0.076.
    // 56x56x256 in 64 groups 1.38 -> 0.54; 0.77 -> 0.35. 64x64x32 in 4
    // groups (G = 8, vectors of 8 floats before) 0.222 -> 0.149; 0.156 ->
    // 0.099. 28x28x256 in 32 groups (G = 8) 0.349 -> 0.309; 0.216 ->
    // 0.207. 1x1 20x20x48 in 12 groups 0.0125 -> 0.0029. The copy of the
    // padded input instead: 0.33, 0.43 ms (1 thread) for 56x56x128 and
    // 28x28x256. Not groups of 2, whose gathers cost less than the
    // rotations: 3x3 56x56x64 in 32 groups 0.071 -> 0.12 ms; 112x112x64
    // 0.34 -> 0.62; 14x14x64 0.0076 -> 0.012.
    const int64_t group_channels = layer.in_channels / c.groups;
    if (p.accumulate == "tile" && p.vectorize == "c" && group_channels >= 4 && !whole_groups &&
        can_rotate_groups(layer, target.natural_vector_size<float>())) {
        const int64_t G = group_channels;
        p.rotate_groups = true;
        p.vector_floats = 0;
        p.block_c = 1;
        p.block_x = static_cast<int>(std::max<int64_t>(1, registers * 3 / 4 / G));
        if (w > 0) p.block_x = static_cast<int>(std::min<int64_t>(p.block_x, w));
        p.block_y = 1;
        p.flat_positions = p.kernel_rows_outer = p.channels_inner = p.parallel_channels = false;
        p.channels_per_step = 0;
        p.pad = "in_place";
    }
    // A sum that skips every window tap over the padding (its rows and its
    // columns) never reads the zeros: it reads the input in place, saving
    // the padded copy's pass over the input. ab_static.sh, time vs the
    // copy, two runs, 1 thread; 2 threads: 3x3 14x14x256 0.98, 0.99; 0.98,
    // 0.98. 7x7x512 1.00, 0.99; 0.99, 0.99. 13x13x512 1.00, 1.00; 0.99,
    // 0.99. 4x9x9x256 0.99, 1.00; 0.99, 0.99. 16x14x14x64 0.96, 0.94; 0.99,
    // 0.99. 1x3 8x8x384 0.93, 0.99; 0.95, 0.96. 14x14x128->100 0.99, 0.99;
    // 0.95, 0.94.
    if (p.pad == "copy" && sum_skips_padding(layer, p, target)) p.pad = "in_place";
    return p;
}

}  // namespace

int input_lanes(const graph::Layer &layer, int V) {
    const int64_t cin_group = layer.in_channels / layer.conv.groups;
    if (layer.conv.filters >= V) return 0;
    for (int lanes = V; lanes >= 4; lanes /= 2)
        if (cin_group % lanes == 0) return lanes;
    return 0;
}

bool guards_columns(const graph::Layer &layer, const Conv2DParams &p) {
    const int64_t width = layer.output.shape[2];
    return p.vectorize == "c" && p.accumulate == "tile" && width > 0 && width % std::max(1, p.block_x) != 0;
}

bool pads_filters(const graph::Layer &layer, const Conv2DParams &p, int V) {
    const int64_t F = layer.conv.filters;
    return p.vectorize == "c" && p.accumulate == "tile" && p.pack_weights && layer.conv.groups == 1 &&
           F % V != 0;
}

int padded_group_filters(const graph::Layer &layer, int V) {
    const graph::Conv2D &c = layer.conv;
    if (c.groups <= 1 || c.filters < V) return 0;
    const int64_t per_group = c.filters / c.groups;
    return per_group % V == 0 ? 0 : static_cast<int>((per_group + V - 1) / V * V);
}

bool pads_groups(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const int V = vector_floats(p, target);
    return p.pad_groups && p.vectorize == "c" && p.accumulate == "tile" && padded_group_filters(layer, V) > 0 &&
           !rotates_groups(layer, p, target) && !sums_flat_positions(layer, p, target);
}

namespace {

// Output channels per register block: block_c vectors, at most the filters
// (rounded up to whole vectors where the filters are padded, or to whole
// vectors per group where the groups are: channels of the sum, then).
int channel_block(const Conv2DParams &p, const graph::Layer &layer, const Target &target) {
    const int V = vector_floats(p, target);
    const int64_t F = layer.conv.filters;
    const int64_t vectors = pads_filters(layer, p, V)       ? (F + V - 1) / V
                            : pads_groups(layer, p, target) ? layer.conv.groups * padded_group_filters(layer, V) / V
                                                            : F / V;
    return V * std::max(1, std::min<int>(p.block_c, static_cast<int>(vectors)));
}

}  // namespace

int kernel_block(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const int V = vector_floats(p, target);
    const int64_t F = layer.conv.filters;
    // Padded filters: stored in blocks of the register block's channels, so
    // that every register block reads one block, whole.
    if (pads_filters(layer, p, V)) return channel_block(p, layer, target);
    // Padded groups: blocks of the register block's channels where they
    // divide the padded filters (the last block shifted over whole groups
    // may then read two), else of one vector.
    if (pads_groups(layer, p, target)) {
        if (!p.pack_weights) return 0;
        const int cb = channel_block(p, layer, target);
        return layer.conv.groups * padded_group_filters(layer, V) % cb == 0 ? cb : V;
    }
    if (!p.pack_weights || p.vectorize != "c" || F < V || F % V != 0) return 0;
    // Blocks of one vector: a register block of bc vectors then reads bc
    // streams, whole blocks apart (KH*KW*Cin*V floats). With AVX-512 that
    // distance is a multiple of 4 KB for every ResNet 3x3 layer, and the
    // streams fall on the same L1 sets: there the register block's channels
    // (as the templates split them) go in one block, one stream, when they
    // divide the filters. With AVX2 on Zen 3 one-vector blocks measured
    // faster (3x3 56x56x64: 2.53 ms vs 2.62 in blocks of 16).
    const int64_t cb = channel_block(p, layer, target);
    return static_cast<int>(V >= 16 && F % cb == 0 ? cb : V);
}

bool blocks_hold_whole_groups(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    return channel_block(p, layer, target) % padded_group_filters(layer, vector_floats(p, target)) == 0;
}

bool can_rotate_groups(const graph::Layer &layer, int V) {
    const graph::Conv2D &c = layer.conv;
    const int64_t G = layer.in_channels / std::max<int64_t>(1, c.groups);
    return c.groups > 1 && G >= 2 && c.filters / c.groups == G && G < V && V % G == 0;
}

bool rotates_groups(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const int V = vector_floats(p, target);
    return p.rotate_groups && p.vectorize == "c" && p.accumulate == "tile" && layer.conv.filters >= V &&
           can_rotate_groups(layer, V) && !sums_flat_positions(layer, p, target);
}

bool sums_flat_positions(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const int V = vector_floats(p, target);
    return p.flat_positions && p.vectorize == "c" && p.accumulate == "tile" && layer.conv.filters >= V &&
           p.compute_at == "root" && layer.output.shape[2] > 0;
}

namespace {

// What skipping the padding along an axis with `kernel` taps needs, whatever
// the blocks: zero padding, a window loop of several taps (not unrolled, as
// for few taps), the tile template's blocks of channel vectors.
bool may_skip_padding(const graph::Layer &layer, const Conv2DParams &p, int kernel) {
    return graph::needs_zero_padding(layer.conv) && kernel >= 2 && !few_taps(layer) && p.vectorize == "c" &&
           p.accumulate == "tile";
}

}  // namespace

// Up to 8 blocks: each is a copy of the block's reduction loops, and a
// copy not at the image's edge has nothing to peel. A guarded last block
// (guards_columns) skips its columns past the image whole. ab_static.sh,
// time unrolled (columns skipped, input read in place) vs not, two runs, 1
// thread: AVX-512 3x3 28x28x128 (2 x 14, two blocks) 0.97, 0.97 (2 threads
// 0.95, 0.95); 2x28x28x128 0.97; 28x28x12->24 0.75, 0.77; 28x28x96 in 3
// groups 0.93, 0.92; 56x56x96 in 2 groups (3 x 8, seven blocks) 0.97,
// 0.96. Guarded: 30x30x48 0.82, 0.88; 3x3/2 37x37x64->128 0.87, 0.88;
// 64x64x6->32 0.87, 0.87; 32x32x64 dilated 4 0.88, 0.88; 28x28x32->64 5x5
// 0.96, 0.91; 1x7 17x17x160->160 (2 x 12, 2 x 5) 0.92, 0.95; 3x3/2
// 56x56x128->128 0.94, 0.92; 20x20x40->20 0.93, 0.93; 38x38x512->84 0.94,
// 0.95; 23x23x128, 31x31x64, 33x33x72, 35x35x96, 55x55x16->64 0.96-0.97;
// 64x64x32 in 4 groups 1.00, 0.98. AVX2: 32x32x64 dilated 4 0.90, 0.89;
// 28x28x12->24 0.93, 0.93; 8x8x384 1x3 0.95, 0.95; 20x20x40->20 0.96,
// 0.96; 30x30x48 0.97, 0.96; 14x14x128->100 0.99, 0.99.
// Up to 11 where the input, all its images, fits in the L2 (1 MB): the
// copy the sum would read otherwise is made per task, from the input's
// rows as they come from memory, and where they come from L2 anyway
// reading them in place saves it. AVX-512, time unrolled vs not, 1
// thread; 2 threads: 3x3 56x56x64 (4 x 6, ten blocks, 784 KB) 0.96-0.98
// over six runs; 0.98-1.00 over eight. 60x80x24->48 (3 x 9, nine) 0.96,
// 0.96, 0.97, 0.98; 0.96, 0.97. 64x64x64 dilated 2 (4 x 6, eleven, 1 MB)
// 0.93, 0.96, 0.96, 0.97; 0.99-1.01 over four. AVX2, 1 thread:
// 64x64x6->32 0.96, 0.95; 55x55x16->64, 35x35x96 and 7x7 64x64x64
// 0.98-0.99; 33x33x72 0.96, 1.01, 0.96, 1.07. Not larger inputs, which
// then stream from memory into the sum's loads: 3x3 8x56x56x64 (6.1 MB)
// 0.95, 0.95; 1.01-1.04 over four. 5x5 96x96x48 (3 x 9, eleven, 1.7 MB)
// 0.97, 0.98; 1.06-1.07 over four. Nor more blocks: 56x56x128 in 32 groups
// (4 x 4, 14 blocks) 1.00, 1.02; 3x3 96x160x32 (2 x 14, twelve) 1.17,
// 1.07.
bool unrolls_column_blocks(const graph::Layer &layer, const Conv2DParams &p) {
    const int64_t width = layer.output.shape[2];
    const int bx = std::max(1, p.block_x);
    if (!may_skip_padding(layer, p, layer.conv.kernel_w) || p.flat_positions || width <= bx) return false;
    const int64_t blocks = (width + bx - 1) / bx;
    const double input_bytes = input_bytes_of_all_images(layer);
    const bool input_fits_l2 = input_bytes > 0 && input_bytes <= 1024 * 1024;
    return blocks <= 8 || (blocks <= 11 && input_fits_l2);
}

// ab_static.sh, Emerald Rapids, time clamped vs tested, same blocks, 1
// thread: 3x1 20x50x128->100 (4 x 6) 0.82; 3x1/2 19x100x128->100 0.82;
// 5x1 20x50x128->100 0.82; 3x1 60x33x96->100 0.86. Not for every window
// one column wide: 7x1 35x35x128->16 (1 x 18, filters not padded) 1.06,
// as LLVM then scheduled the last block's last column apart from the
// rest; 17x17x160->192 0.97, others 1.00.
bool clamps_columns(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    return graph::needs_zero_padding(layer.conv) && graph::window_w(layer.conv).extent() == 1 &&
           pads_filters(layer, p, vector_floats(p, target)) && guards_columns(layer, p);
}

bool skips_padding_rows(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    if (!may_skip_padding(layer, p, layer.conv.kernel_h)) return false;
    if (sums_flat_positions(layer, p, target)) return layer.output.shape[2] % p.block_x == 0;
    return p.block_y == 1;
}

bool skips_padding_columns(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const int64_t width = layer.output.shape[2];
    if (width <= 0 || !may_skip_padding(layer, p, layer.conv.kernel_w)) return false;
    if (sums_flat_positions(layer, p, target)) return p.block_x % width == 0;
    return p.block_x == width || unrolls_column_blocks(layer, p);
}

bool sum_skips_padding(const graph::Layer &layer, const Conv2DParams &p, const Target &target) {
    const graph::Conv2D &c = layer.conv;
    return graph::needs_zero_padding(c) && (c.kernel_h == 1 || skips_padding_rows(layer, p, target)) &&
           (c.kernel_w == 1 || skips_padding_columns(layer, p, target));
}

namespace {

// Whether the template writes a padded copy of the input ('same' padding
// that pads, read through a copy rather than in place).
bool copies_padded_input(const graph::Layer &layer, const Conv2DParams &p) {
    return graph::needs_zero_padding(layer.conv) && p.pad == "copy";
}

// Tiles of `columns` x `rows` outputs for `store`: tile(stage, true)
// schedules them. A pipeline output's buffer cannot grow, so it takes them
// only where it is at least that large, and 1x1 tiles, tile(stage, false),
// elsewhere.
void tile_store(Func store, bool is_output, int columns, int rows, const std::function<void(Stage, bool)> &tile) {
    if (is_output && (columns > 1 || rows > 1)) {
        tile(store.specialize(store.output_buffer().dim(1).extent() >= columns &&
                              store.output_buffer().dim(2).extent() >= rows),
             true);
        tile(store, false);
    } else {
        tile(store, true);
    }
}

// A padded copy's loops stay whole: Halide would split them into edges
// and interior at the image's likely values (lower_conv), which measured
// 4% slower on 3x3 56x56x64.
Func copy_padded(Func padded, const Var &y) {
    return padded.partition(lower::dims().x, Partition::Never).partition(y, Partition::Never);
}

void schedule_channels(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p, const Target &target,
                       const std::optional<LoopLevel> &pad_at) {
    const lower::Dims &d = lower::dims();
    const int V = vector_floats(p, target);
    const graph::Conv2D &cp = s.layer->conv;
    const int64_t F = cp.filters;
    const int64_t cin_group = s.layer->in_channels / cp.groups;
    const int cb = channel_block(p, *s.layer, target);
    const int bx = std::max(1, p.block_x);
    Var co("co"), ci("ci"), yo("yo"), yi("yi"), t("t");
    RVar rc = s.r.x, rkx = s.r.y, rky = s.r.z;

    // rows == 0: the whole image height per accumulator buffer.
    int64_t h = s.layer->output.shape[1];
    int rows = p.rows > 0 ? p.rows : (h > 0 ? static_cast<int>(h) : 8);
    // Inside a consumer's task the row range is symbolic, and a fused loop
    // over rows and channel blocks would leave Halide unable to bound the
    // channel block; there, the row loop itself is the group loop.
    const bool fused = pad_at.has_value();
    const Var group = fused ? yo : t;
    auto nest = [&](Stage st, int r) {
        st.split(d.c, co, ci, cb, TailStrategy::ShiftInwards)
            .split(d.y, yo, yi, r, TailStrategy::ShiftInwards)
            .reorder(ci, d.x, yi, yo, co, d.n)
            .vectorize(ci, V)
            .unroll(ci);
        if (fused) return;
        st.fuse(yo, co, t).fuse(t, d.n, t);
        if (p.parallel) st.parallel(t);
    };
    if (is_output && rows > 1 && !(h > 0 && h % rows == 0 && h >= rows)) {
        // Output buffers cannot grow: short images take one-row groups.
        nest(store.specialize(store.output_buffer().dim(2).extent() >= rows), rows);
        nest(store, 1);
    } else {
        nest(store, rows);
    }

    // Accumulators for one row group and channel block, in memory (L1/L2).
    s.conv.compute_at(store, group).vectorize(d.c, V).unroll(d.c);
    // The reduction is split in chunks of input channels; rfactor makes each
    // chunk's sum for one register block a Func of its own, small and of
    // constant size, so LLVM keeps it in registers.
    Var xo("xo"), xi("xi"), u("u");
    RVar rco("rco"), rci("rci");
    int64_t chunk = p.chunk_c > 0 && p.chunk_c < cin_group && cin_group % p.chunk_c == 0 ? p.chunk_c : cin_group;
    Stage up = s.conv.update();
    up.split(rc, rco, rci, static_cast<int>(chunk));
    Func block = up.rfactor(rco, u);
    up.split(d.x, xo, xi, bx, TailStrategy::RoundUp)
        .reorder(d.c, xi, xo, d.y, rco, d.n)
        .vectorize(d.c, V)
        .unroll(d.c)
        .unroll(xi);
    block.compute_at(s.conv, xo).vectorize(d.c, V).unroll(d.c).unroll(d.x);
    // Weights packed in filter blocks (block lanes innermost, then input
    // channel, kx, ky) let the inner loop walk contiguous memory instead of
    // striding by the filter count. Stored packed when the filter count
    // allows (kernel_block); else copied so once per row group, here.
    if (p.pack_weights && s.kernel_block == 0) {
        Func packed = s.kernel.in(block);
        packed.compute_at(store, group).vectorize(packed.args()[0], V);
    }
    block.update()
        .reorder(d.c, d.x, rci, rkx, rky, d.y, d.n, u)
        .vectorize(d.c, V)
        .unroll(d.c)
        .unroll(d.x);
    if (chunk <= 4) block.update().unroll(rci);   // short loops cost more than their body

    if (copies_padded_input(*s.layer, p)) {
        // Zeros and clamped reads, computed per row group: the inner loop
        // then reads plain memory.
        copy_padded(s.padded, d.y).compute_at(pad_at.value_or(LoopLevel(store, t)));
        s.padded.vectorize(d.c, V, TailStrategy::GuardWithIf);
        if (s.layer->in_channels < V) s.padded.vectorize(d.x, V);
    }
}

// "accumulate": "tile": the whole reduction of one register block runs at
// once and the activation is applied straight from registers; the input is
// padded once for the whole image. Fewer passes over memory; better when the
// reduction (window x input channels) is short enough that one block's
// weights stay in L1/L2 anyway.
void schedule_channels_tile(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p,
                            const Target &target, const std::optional<LoopLevel> &pad_at, bool has_fused_producer) {
    const lower::Dims &d = lower::dims();
    const int V = vector_floats(p, target);
    const int64_t F = s.layer->conv.filters;
    const int cb = channel_block(p, *s.layer, target);
    const int bx = std::max(1, p.block_x);
    Var co("co"), ci("ci"), xo("xo"), xi("xi"), yo("yo"), yi("yi"), yio("yio"), yii("yii"), t("t");
    RVar rc = s.r.x, rkx = s.r.y, rky = s.r.z;
    // rows > 1: tasks of that many output rows, each padding just the input
    // rows it reads (in cache) instead of the whole image up front.
    const int64_t h = s.layer->output.shape[1];
    const int rows = p.rows > 0 ? p.rows : (h > 0 ? static_cast<int>(h) : 8);
    // Register blocks of by rows: as many rows as a task has at most.
    const int by = std::clamp(p.block_y, 1, rows);
    // Tasks of one channel block each: the input is then padded once, up
    // front (every task reads all of it), and no producer may be computed
    // per task (each block would compute it again).
    const bool channel_tasks = p.parallel_channels && !pad_at && !has_fused_producer;
    // A layer computed inside its consumer's task pads locally too.
    const bool local_pad =
        !channel_tasks && (rows > 1 || pad_at || has_fused_producer) && copies_padded_input(*s.layer, p);
    const bool reads_padding_in_place = graph::needs_zero_padding(s.layer->conv) && !copies_padded_input(*s.layer, p);
    // Padded filters: the last channel block is computed whole (the kernel
    // and bias read zeros past the filters), where a shifted block would
    // straddle two blocks of the kernel. A pipeline output stores it under
    // a guard (its last vector shifted where it can, below, else masked
    // stores for a part-vector); an intermediate is stored
    // whole, its buffer rounded up to whole blocks (no masked stores:
    // 3x3/2 224x224x3->20 then 1x1 to 32, convpipe bench, 1 thread, 0.41 ms
    // vs 0.44 guarded).
    const bool padded_filters = pads_filters(*s.layer, p, V);
    const TailStrategy channel_tail = !padded_filters ? TailStrategy::ShiftInwards
                                      : is_output     ? TailStrategy::GuardWithIf
                                                      : TailStrategy::RoundUp;
    // A width the spec fixes and the column block does not divide: the
    // last column block is computed whole and stored under a guard, which
    // Halide resolves at generation time, so LLVM drops the columns never
    // stored (3x3 7x7x512 in 3x4 blocks: 24 FMAs per step in the first
    // block, 18 in the second) where a shifted block computes them twice.
    const bool guarded_columns = guards_columns(*s.layer, p);
    // A row's few column blocks unrolled (none where positions are flat).
    const bool unrolled_columns = unrolls_column_blocks(*s.layer, p);
    // An output whose last block holds at least a whole vector of filters
    // stores that block's last vector shifted back to end at the last
    // filter (a lane shift of two accumulators) rather than masked:
    // vectors of V channels, the last shifted inwards, in blocks of cb / V
    // vectors whose last is guarded (resolved at generation time).
    // bench_layers, 1 thread, vs masked: 3x3/2 224x224x3->20 0.87x the
    // time, 1x1 20x20x256->20 0.96x. Not under guarded columns: there
    // LLVM then kept every column of the last column block (3x3
    // 20x20x40->20 in 2 x 14 blocks, AVX-512: 28 FMAs per step in the
    // 6-column block, 12 with masked stores; tests/test_generated_code.cpp;
    // AVX2, 3 x 3 blocks: 16 vs 12 per step of two channels, unmeasured).
    // bench_layers, AVX-512, 1 thread, ratio to oneDNN, shifted -> masked:
    // 3x3 20x20x40->20 0.75x -> 0.90-0.94x, 1x1 20x20x256->20 0.81x ->
    // 1.06x, 20x20x256->36 0.93x -> 1.01x.
    const bool shifted_last_vector = padded_filters && is_output && F % cb >= V && !guarded_columns;
    Var cv("cv"), cvo("cvo"), gc("gc"), gi("gi"), j("j");
    // Padded groups (s.group_filters): the store's channels in groups of
    // the layer's f filters, blocks of whole groups (shifted inwards by
    // whole groups), each group's filters one vector of f lanes: the sum
    // holds them at the start of the group's padded filters, so they load
    // as one dense part-vector (no gathers).
    const int padded_group = s.group_filters;
    const int group_f = static_cast<int>(F / s.layer->conv.groups);
    // Flat positions (s.flat_width): the sum is computed per task and
    // channel block, its register blocks running through the task's
    // positions in order, across row ends, so only the task's last block
    // is short; the store then reads it back, whole rows at a time.
    const bool flat = s.flat_width > 0;
    // The channel loops inside the block loop co, innermost first.
    const std::vector<VarOrRVar> lanes =
        padded_group > 0 ? std::vector<VarOrRVar>{j, gi} : std::vector<VarOrRVar>{ci};
    auto with_lanes = [&](std::vector<VarOrRVar> outer) {
        outer.insert(outer.begin(), lanes.begin(), lanes.end());
        return outer;
    };
    auto tile = [&](Stage st, int x_factor, int r, int y_factor) {
        const TailStrategy column_tail =
            guarded_columns && x_factor == bx ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards;
        if (padded_group > 0)
            st.split(d.c, gc, j, group_f, TailStrategy::RoundUp)
                .split(gc, co, gi, cb / padded_group, TailStrategy::ShiftInwards)
                .vectorize(j)
                .unroll(gi);
        else if (shifted_last_vector)
            st.split(d.c, cv, ci, V, TailStrategy::ShiftInwards)
                .split(cv, co, cvo, cb / V, TailStrategy::GuardWithIf)
                .unroll(cvo);
        else
            st.split(d.c, co, ci, cb, channel_tail);
        if (flat) {
            st.split(d.y, yo, yi, r, TailStrategy::ShiftInwards);
            // Channel tasks over several images: numbered image-first, so
            // that a thread's consecutive tasks share a channel block and
            // its weights, still in L2, serve the next image. ab_static.sh,
            // time vs block-first, two runs, 1 thread; 2 threads: 3x3
            // 4x9x9x256 (590 KB per block) 0.96, 0.98; 0.98, 0.99.
            // 4x7x7x512 (1.2 MB) 0.86, 0.90; 1.03, 1.04, 1.03, 1.01.
            if (channel_tasks && s.layer->output.shape[0] > 1) {
                st.reorder(ci, d.x, yi, yo, d.n, co).fuse(yo, d.n, t).fuse(t, co, t);
            } else {
                st.reorder(ci, d.x, yi, co, yo, d.n);
                if (channel_tasks) st.fuse(co, yo, t).fuse(t, d.n, t);
                else st.fuse(yo, d.n, t);
            }
            st.vectorize(ci, V).unroll(ci);
            if (p.parallel) st.parallel(t);
            return;
        }
        st.split(d.x, xo, xi, x_factor, column_tail)
            .split(d.y, yo, yi, r, TailStrategy::ShiftInwards)
            .split(yi, yio, yii, y_factor, TailStrategy::ShiftInwards);
        if (channel_tasks) {
            st.reorder(with_lanes({xi, yii, xo, yio, co, yo, d.n})).fuse(co, yo, t).fuse(t, d.n, t);
        } else {
            if (p.channels_inner) st.reorder(with_lanes({xi, yii, co, xo, yio, yo, d.n}));
            else st.reorder(with_lanes({xi, yii, xo, co, yio, yo, d.n}));
            // Inside a consumer's task the rows asked for vary (fewer at the
            // image's edges), and a row loop fused with the image loop
            // would leave Halide unable to bound the image: there the two
            // stay apart (as in schedule_channels).
            if (!pad_at) st.fuse(yo, d.n, t);
        }
        if (padded_group == 0) st.vectorize(ci, V).unroll(ci);
        st.unroll(xi).unroll(yii);
        // A row's few column blocks unrolled: each copy's window columns
        // then test constants, which Halide peels where the block meets
        // the padding and drops elsewhere (skips_padding_columns).
        if (x_factor == bx && unrolled_columns) st.unroll(xo);
        // A stem read in place (no padded copy): the row tasks' loop stays
        // whole, so that Halide partitions the rows inside each task and
        // the last task runs the edge tests on its last rows only, not on
        // all of them (3x3/2 224x224x3->32 in 8 tasks, 2 threads: 1.25-1.30
        // the time of the copy with the task loop split, 0.94-0.95 without).
        if (p.parallel && x_factor == bx && s.layer->in_channels < V && reads_padding_in_place)
            st.partition(t, Partition::Never);
        if (p.parallel) st.parallel(t);
    };
    tile_store(store, is_output, flat ? 1 : bx, rows,
               [&](Stage st, bool whole) { whole ? tile(st, bx, rows, by) : tile(st, 1, 1, 1); });
    if (flat) {
        // The sum over the task's positions, in a buffer per task; LLVM
        // keeps each block's accumulators (fixed offsets into it) in
        // registers over the block's reduction. With kernel_rows_outer the
        // blocks sum one kernel row at a time, so one row's weights are
        // read by all the task's blocks before the next row's: a working
        // set of a third (3x3) that stays in L2 next to the input, where
        // the whole block's weights (295 KB for 3x3 7x7x512 in 2-vector
        // blocks) and the input (166 KB) crowd its 512 KB.
        Var po("po"), pi("pi");
        s.conv.compute_at(store, channel_tasks ? t : co).vectorize(d.c, V).unroll(d.c);
        s.conv.update().split(d.pos, po, pi, bx, TailStrategy::GuardWithIf);
        if (p.kernel_rows_outer) s.conv.update().reorder(d.c, pi, rc, rkx, po, rky, d.n);
        else s.conv.update().reorder(d.c, pi, rc, rkx, rky, po, d.n);
        s.conv.update()
            .vectorize(d.c, V)
            .unroll(d.c)
            .unroll(pi);
    } else {
        // The register block is computed in the innermost tile loop.
        const Var &block_loop = p.channels_inner && !channel_tasks ? co : xo;
        s.conv.compute_at(store, block_loop).vectorize(d.c, V).unroll(d.c).unroll(d.x).unroll(d.y);
        if (guarded_columns) s.conv.bound_extent(d.x, bx);
        s.conv.update()
            .reorder(d.c, d.x, d.y, rc, rkx, rky, d.n)
            .vectorize(d.c, V)
            .unroll(d.c)
            .unroll(d.x)
            .unroll(d.y);
    }
    if (s.rotated_sums.defined()) {
        // Sums over rotated groups (lower::SumForm::rotates_groups): the
        // block's G sums per vector and column in registers, then rotated
        // back within groups, in vectors of the block's groups (one lane per
        // group) with the group's lanes unrolled, which Halide turns into
        // dense loads and stores and LLVM into one in-lane shuffle per sum
        // (vshufps/vshufpd on AVX-512). 3x3 56x56x128 in 32 groups, 1 x 6
        // blocks: 24 FMAs per step over 4 weight and 6 input loads.
        const int G = static_cast<int>(s.layer->in_channels / s.layer->conv.groups);
        const Var &block_loop = p.channels_inner && !channel_tasks ? co : xo;
        Var g("g"), j("j");
        s.conv.bound(d.k, 0, G).reorder(d.c, d.k, d.x, d.y).unroll(d.k);
        s.conv.update().reorder(d.c, d.k, d.x, d.y, rc, rkx, rky, d.n).unroll(d.k);
        s.rotated_sums.compute_at(store, block_loop)
            .bound(d.k, 0, G)
            .split(d.c, g, j, G)
            .reorder(j, g, d.k, d.x, d.y)
            .vectorize(g)
            .unroll(j)
            .unroll(d.k)
            .unroll(d.x)
            .unroll(d.y);
    }
    // Padded groups: the sum for the block's whole groups, from the first
    // group's start (the store's channels would ask for less of the last).
    if (padded_group > 0) s.conv.bound_extent(d.c, cb);
    if (padded_filters) {
        s.conv.bound_extent(d.c, cb);
        // The bias with zeros past the filters, once per call, up to the
        // end of the last block: Halide would compute only the filters the
        // stored outputs need, and the last block's other lanes would start
        // from uninitialised memory (denormal garbage there made every FMA
        // of those lanes take a microcode assist: 3x3 38x38x512->84, 44 of
        // 128 lanes, 0.49x oneDNN before, 1 thread).
        const int blocks_end = static_cast<int>((F + cb - 1) / cb * cb);
        if (s.layer->conv.use_bias) s.bias.compute_root().bound(d.c, 0, blocks_end);
    }
    const int64_t cin_group = s.layer->in_channels / s.layer->conv.groups;
    const bool unrolled_window = few_taps(*s.layer);
    // Input channels per reduction step: the schedule's, else
    // tile_channels_per_step's (which says why).
    const int64_t step = p.channels_per_step > 0 ? p.channels_per_step
                                                 : tile_channels_per_step(*s.layer, V, cb / V, bx, by, s.flat_width);
    if (step == cin_group) {
        s.conv.update().unroll(rc);
    } else if (step > 1) {
        RVar rco("rco"), rci("rci");
        s.conv.update().split(rc, rco, rci, static_cast<int>(step)).unroll(rci);
    }
    // Depthwise-like reductions (a few taps): the window unrolled, so LLVM
    // keeps the block's weights out of the column loop and loads each input
    // vector once for all the taps that read it.
    if (unrolled_window) s.conv.update().unroll(rkx).unroll(rky);
    // Unrolled column blocks whose last is guarded (stride 1): the window's
    // columns unrolled too. That block meets the image's right edge with
    // positions that are never stored, and Halide, which peels a whole
    // block's edge columns, left tests inside its reduction there (and LLVM
    // spilled around them); unrolled, each column's positions are
    // constants. ab_static.sh, time vs not, two runs, 1 thread; 2 threads:
    // 1x7 17x17x160->160 0.92, 0.92; 0.98, 0.92. 38x38x512->84 0.96, 0.96;
    // 0.96, 0.97. 2x17x17x128 0.98, 0.98; 0.97, 0.96. 3x3 28x28x128 (4 x
    // 6, five blocks) 0.99, 0.98; 1.00, 1.00. 28x28x128->256 0.98, 0.99;
    // 2x28x28x128 0.99, 0.98. 20x20x40->20 0.98, 0.94. 56x56x64 0.99,
    // 0.99. 30x30x48, 23x23x128 and 5x5 28x28x32->64 0.98-1.03. Not stride
    // 2: 3x3/2 37x37x64->128 1.04, 1.04; 56x56x128->128 1.02, 1.01. Windows
    // up to 7 columns wide: an 11x11 window's copies took 11 s to generate
    // (1.5 s before) and 3x the code. Not where the step unrolls all of
    // several input channels (stems): their weight vectors for each column
    // and channel spilled beside the accumulators. ab_static.sh, Emerald
    // Rapids, time vs unrolled, 1 thread: 5x5 64x64x3->24 (2 x 13) 0.69;
    // 128x128x2->24 0.65-0.80; 3x3 64x64x4->24 0.72; 5x5 64x64x3->32 0.46.
    else if (unrolled_columns && guarded_columns && s.layer->conv.stride_w == 1 && s.layer->conv.kernel_w <= 7 &&
             !(step == cin_group && cin_group > 1))
        s.conv.update().unroll(rkx);
    if (!copies_padded_input(*s.layer, p)) return;   // reads the input directly
    if (local_pad) {
        copy_padded(s.padded, d.y);
        if (unrolled_window && !pad_at && !flat && !guarded_columns) {
            // Row by row, as the output rows need them, in a buffer of a few
            // rows (Halide folds it): the rows stay in L1 between the three
            // output rows that read each. Depthwise 112x112x32, 1 thread:
            // 0.168 vs 0.179 ms; 3x3 56x56x64 lost 3% so, hence only here.
            // Not under guarded columns: each row is then computed for the
            // columns stored only, not the whole last block's (below).
            s.padded.store_at(store, t).compute_at(store, yio);
        } else {
            s.padded.compute_at(pad_at.value_or(LoopLevel(store, t)));
        }
    } else {
        Var yn("yn");
        s.padded.compute_root().fuse(d.y, d.n, yn);
        copy_padded(s.padded, yn);
        if (p.parallel) s.padded.parallel(yn);
    }
    // A guarded last column block is computed whole, past the image, and
    // reads the copy that far. Halide sizes the copy's buffer for it but
    // computed only the columns the stored outputs need, so those blocks
    // summed uninitialised memory into accumulators never stored: correct,
    // but stale pointers read as denormal floats took microcode assists
    // (3x3 28x28x40->20 in 2 x 12 blocks, 1 thread: 0.24 ms with denormals
    // flushed, 0.4-4.1 ms without, depending on what the buffer held).
    if (guarded_columns) {
        const int64_t width = s.layer->output.shape[2];
        const int64_t computed = (width + bx - 1) / bx * bx;
        s.padded.bound_extent(d.x, static_cast<int>(graph::window_w(s.layer->conv).input_span(computed)));
    }
    if (s.layer->in_channels >= V) {
        s.padded.vectorize(d.c, V, TailStrategy::GuardWithIf);
    } else {
        // Few channels (stems): vectors across columns with every channel
        // unrolled, which Halide turns into one dense, interleaved store;
        // with the column loop split at the image's edges (the likely
        // values), the columns inside copy contiguous memory, without
        // gathers or the edge test. 3x3/2 on 224x224x3: 0.30 vs 0.37 ms;
        // 7x7/2: 2.45 vs 2.49 ms (1 thread). (Not Partition::Always:
        // 'same' padding that pads nothing, as 2x2/2 on even sizes, leaves
        // nothing to split, and Halide then refuses the schedule.)
        s.padded.bound(d.c, 0, static_cast<int>(s.layer->in_channels))
            .vectorize(d.x, V)
            .unroll(d.c)
            .partition(d.x, Partition::Auto);
    }
    // The copy's channel loop unrolled (up to 8 vectors): depthwise 3x3
    // 112x112x32 0.155 vs 0.163 ms, 112x112x64 stride 2 0.155 vs 0.163, on
    // 1 thread; no change on 3x3 56x56x64.
    if (s.layer->in_channels % V == 0 && s.layer->in_channels <= 8 * V) s.padded.unroll(d.c);
}

void schedule_columns(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p, const Target &target,
                      const std::optional<LoopLevel> &pad_at) {
    const lower::Dims &d = lower::dims();
    const int V = vector_floats(p, target);
    const int64_t F = s.layer->conv.filters;
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), t("t");
    RVar rc = s.r.x, rkx = s.r.y, rky = s.r.z;
    const int xw = V * std::max(1, p.block_x);
    int64_t h = s.layer->output.shape[1];
    int rows = p.rows > 0 ? p.rows : (h > 0 ? static_cast<int>(h) : 8);
    auto tile = [&](Stage st, int x_factor, int r, bool vec) {
        st.split(d.x, xo, xi, x_factor, TailStrategy::ShiftInwards)
            .split(d.y, yo, yi, r, TailStrategy::ShiftInwards)
            .reorder(d.c, xi, xo, yi, yo, d.n);
        if (vec) st.vectorize(xi, V).unroll(d.c);
        st.fuse(yo, d.n, t);
        if (p.parallel) st.parallel(t);
    };
    store.bound(d.c, 0, static_cast<int>(F));
    tile_store(store, is_output, xw, rows,
               [&](Stage st, bool whole) { whole ? tile(st, xw, rows, true) : tile(st, 1, 1, false); });
    // Each filter's accumulators are whole vectors of columns (columns
    // innermost in storage), all of them unrolled: in registers.
    s.conv.compute_at(store, xo)
        .reorder_storage(d.x, d.c, d.y, d.n)
        .reorder(d.x, d.c)
        .vectorize(d.x, V)
        .unroll(d.x)
        .unroll(d.c);
    s.conv.update().reorder(d.x, d.c, rc, rkx, rky, d.y, d.n).vectorize(d.x, V).unroll(d.x).unroll(d.c);
    if (copies_padded_input(*s.layer, p)) {
        // The input rows one row group needs, with zeros around: L1-sized,
        // and stored a row of each channel after another (columns
        // innermost), so the inner loop's vectors of columns are dense
        // loads rather than gathers across pixels.
        copy_padded(s.padded, d.y)
            .compute_at(pad_at.value_or(LoopLevel(store, t)))
            .reorder_storage(d.x, d.c, d.y, d.n)
            .vectorize(d.x, V);
    }
}

// "vectorize": "ci": layers with fewer filters than a vector (heads to a
// few channels): vectors of input channels instead, one partial sum per
// lane, in lanes of input_lanes (V, or 4 where the channels come in fours).
// For each row group (parallel) and block of block_x columns:
//   lanes[f][x][L] = 0                                          (registers)
//   for ky, kx, each vector of input channels ci0:
//     lanes[f][x] += in(ci0.., x+kx, y+ky) * W(f, ci0.., kx, ky)
//   out[f][x] = activation(bias[f] + sum of lanes[f][x])        (horizontal)
// Every load is dense (the weights are copied once per call with the input
// channel innermost); the horizontal sums cost a few shuffles per output.
// Vectors over columns (schedule_columns) gather an input channel across
// strided pixels at every step: 3x3 64x64x32->4 at 2.7% of the FMA peak.
void schedule_input_lanes(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p,
                          const Target &target, const std::optional<LoopLevel> &pad_at) {
    const lower::Dims &d = lower::dims();
    const int V = vector_floats(p, target);
    const int F = static_cast<int>(s.layer->conv.filters);
    const int bx = std::max(1, p.block_x);
    const int lanes_per_vector = input_lanes(*s.layer, V);
    Var xo("xo"), xi("xi"), yo("yo"), yi("yi"), t("t"), u("u");
    RVar rc = s.r.x, rkx = s.r.y, rky = s.r.z, rco("rco"), rci("rci");
    const int64_t h = s.layer->output.shape[1];
    const int rows = p.rows > 0 ? p.rows : (h > 0 ? static_cast<int>(h) : 8);
    auto tile = [&](Stage st, int x_factor, int r) {
        st.split(d.x, xo, xi, x_factor, TailStrategy::ShiftInwards)
            .split(d.y, yo, yi, r, TailStrategy::ShiftInwards)
            .reorder(d.c, xi, xo, yi, yo, d.n)
            .unroll(d.c)
            .unroll(xi);
        // Inside a consumer's task the rows asked for vary; the row loop and
        // the image loop then stay apart (as in the other templates).
        if (!pad_at) st.fuse(yo, d.n, t);
        if (p.parallel && !pad_at) st.parallel(t);
    };
    store.bound(d.c, 0, F);
    tile_store(store, is_output, bx, rows,
               [&](Stage st, bool whole) { whole ? tile(st, bx, rows) : tile(st, 1, 1); });
    // The per-lane partial sums of one block, in registers: lane innermost
    // in storage, so each accumulator is one dense vector.
    Stage up = s.conv.update();
    up.split(rc, rco, rci, lanes_per_vector);
    Func lanes = up.rfactor(rci, u);
    lanes.compute_at(store, xo).reorder_storage(u, d.c, d.x, d.y, d.n).vectorize(u).unroll(d.c).unroll(d.x);
    lanes.update().reorder(u, d.c, d.x, rco, rkx, rky).vectorize(u).unroll(d.c).unroll(d.x);
    // Bias plus the lanes' sum, per output: a vector reduction.
    s.conv.compute_at(store, xo).unroll(d.c).unroll(d.x);
    s.conv.update().reorder(rci, d.c, d.x).atomic().vectorize(rci).unroll(d.c).unroll(d.x);
    // The weights with the input channel innermost (Keras's layout has the
    // filter innermost), copied once per call: F x Cin x KH x KW floats.
    Func weights = s.kernel.in(lanes);
    const std::vector<Var> kargs = weights.args();
    weights.compute_root().reorder_storage(kargs[1], kargs[0], kargs[2], kargs[3]).reorder(kargs[1], kargs[0]);
    if (copies_padded_input(*s.layer, p)) {
        // The input rows one row group reads, with zeros around.
        copy_padded(s.padded, d.y).compute_at(pad_at.value_or(LoopLevel(store, t)));
        s.padded.vectorize(d.c, V, TailStrategy::GuardWithIf);
    }
}

}  // namespace

void apply_conv2d(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p, const Target &target,
                  const Placement &placement) {
    const std::optional<LoopLevel> &consumer_task = placement.consumer_task;
    const int V = vector_floats(p, target);
    if (!is_output) store.compute_at(consumer_task.value_or(LoopLevel::root()));
    // Computed inside a consumer's task: exactly the rows that task reads,
    // one row at a time, padded once for them all, no tasks of its own.
    Conv2DParams own = p;
    if (consumer_task) own.rows = 1, own.parallel = false;
    // Tiles take fewer filters than a vector too where they pad them to one.
    if (p.vectorize == "c" && (s.layer->conv.filters >= V || pads_filters(*s.layer, p, V)) && p.accumulate == "tile")
        schedule_channels_tile(s, store, is_output, own, target, consumer_task, placement.has_fused_producer);
    else if (p.vectorize == "c" && s.layer->conv.filters >= V)
        schedule_channels(s, store, is_output, own, target, consumer_task);
    else if (p.vectorize == "ci" && input_lanes(*s.layer, V) > 0)
        schedule_input_lanes(s, store, is_output, own, target, consumer_task);
    else
        schedule_columns(s, store, is_output, own, target, consumer_task);
}

}  // namespace convpipe::schedule
