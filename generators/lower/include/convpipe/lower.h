#pragma once
// Graph IR -> Halide algorithm (no scheduling here: schedules/ does that).
// Used by both the AOT Generator and the JIT compiler, so the two paths
// compute with exactly the same definitions.
#include <map>
#include <string>
#include <vector>

#include <Halide.h>

#include "convpipe/graph.h"
#include "convpipe/layout.h"

namespace convpipe::lower {

// The pure dimensions of every NHWC tensor, innermost first.
struct Dims {
    Halide::Var c{"c"}, x{"x"}, y{"y"}, n{"n"};
    Halide::Var pos{"pos"};   // x + width * y, where a Conv2D sums over flat positions
    Halide::Var k{"k"};       // a group's lane rotation (SumForm::rotates_groups)
};
const Dims &dims();

// A call input as the lowering sees it: its values and its extents (one per
// Halide dimension, innermost first). Weights keep Keras's layout reversed:
// kernel(f, ci, kx, ky), bias(f).
struct InputBinding {
    Halide::Func func;
    std::vector<Halide::Expr> extent;
};

// One layer's Funcs; `out` is its result. For Conv2D: `padded` is the
// layer's input with zeros outside (for 'same') and clamped reads beyond (so
// tiles may safely overrun); `conv` accumulates bias + sum over the window,
// as conv(c, x, y, n) or, where flat_width > 0, as conv(c, pos, n) over the
// output's positions in row-major order, pos = x + flat_width * y (register
// blocks may then run on across the end of a row); `out` applies the
// activation. For MinMaxNormalization, `reductions` holds
// the per-image minimum and maximum.
struct LayerStage {
    const graph::Layer *layer = nullptr;
    Halide::Func out;
    Halide::Func padded, conv;
    std::vector<Halide::Func> reductions;
    Halide::Func kernel, bias;         // kernel(f, ci, kx, ky), whatever its storage
    // Its storage's filter block (convpipe/layout.h), 0: Keras's. Where the
    // block does not divide the filters, kernel and bias read zeros up to
    // the next whole block.
    int kernel_block = 0;
    int flat_width = 0;
    Halide::RDom r;                    // r.x: input channel in group, r.y: kx, r.z: ky
    // With SumForm::rotates_groups: conv(c, k, x, y, n) holds lane c's sum
    // k, rotated_sums(c, k, x, y, n) the sum k that filter c adds, and
    // kernel(c, k, kx, ky) is indexed so (stored rotated, convpipe/layout.h).
    Halide::Func rotated_sums;
    // With SumForm::pads_groups: conv(c, x, y, n) runs over each group's
    // filters padded to group_filters (the kernel's too), without the bias,
    // which `out` adds to the group's own filters.
    int group_filters = 0;
    Halide::Expr out_width, out_height;
};

struct LoweredGraph {
    std::vector<LayerStage> stages;     // in graph order
    std::map<std::string, Halide::Func> values;   // by graph value name
    std::map<std::string, std::vector<Halide::Expr>> extents;
};

// The layout of each Conv2D layer's kernel storage (convpipe/layout.h), by
// layer name; layers not listed keep Keras's layout. Chosen by the schedule
// (schedule::kernel_layouts) before lowering, since it changes what the
// pipeline takes as input.
using KernelLayouts = std::map<std::string, graph::KernelLayout>;

// How a Conv2D layer's sum is defined, as its schedule wants it: over flat
// positions (LayerStage::flat_width; only layers whose output width the spec
// fixes can be), and whether it skips the window rows that fall in the zero
// padding (an RDom predicate, which Halide turns into bounds on the window's
// row loop where each register block lies within one output row), and the
// columns likewise (peeled loop iterations, where blocks span whole rows).
// Chosen by the schedule (schedule::sum_forms) before lowering; layers not
// listed take the plain form.
struct SumForm {
    bool flat_positions = false;
    bool skips_padding_rows = false;
    bool skips_padding_columns = false;
    // Grouped layers whose groups hold G filters and G input channels, G
    // less than a vector: each input lane sums its products with the G
    // filters of its group in G sums, the k-th for filter (lane + k) % G;
    // each filter then adds its G sums back from the lanes that hold them,
    // rotated within the group (LayerStage::rotated_sums). Not with flat
    // positions.
    bool rotates_groups = false;
    // Grouped layers whose groups' filters do not fill whole vectors: the
    // sum runs over each group's filters padded to whole vectors (the
    // kernel's layout says how many: KernelLayout::group_filters), so that
    // every vector of filters lies in one group and reads one input channel
    // at a time, and the output picks each group's own filters from it.
    // Not with flat positions, nor with rotated groups.
    bool pads_groups = false;
    // Windows one column wide: the input's columns read clamped, with no
    // test for the columns past the image (none is read for a stored
    // output), for schedules whose test Halide would leave in the loops
    // (schedule::clamps_columns).
    bool clamps_columns = false;
};
using SumForms = std::map<std::string, SumForm>;

// The layout a call input is stored in: its layer's when it is a run-time
// kernel of a layer listed, else Keras's (as the graph says).
graph::KernelLayout call_input_layout(const graph::Value &call_input, const KernelLayouts &layouts);
// The shape a call input has in storage (convpipe/layout.h).
Shape storage_shape(const graph::Value &call_input, const KernelLayouts &layouts);

// Declares a call input dense and zero-based, with its fixed sizes promised
// to Halide (constant strides, fewer checks), and binds it for lowering.
InputBinding bind_input(Halide::ImageParam param, const Shape &shape);
// The same promises for an NHWC output of the shape the spec gives it
// (sizes left to run time, -1, stay free).
void constrain_output(Halide::OutputImageParam output, const Shape &shape);

// call_inputs follow graph.call_inputs() order.
// call_inputs are bound with their storage_shape.
LoweredGraph lower_graph(const graph::Graph &graph, const std::vector<InputBinding> &call_inputs,
                         const KernelLayouts &kernel_layouts = {}, const SumForms &sum_forms = {});

// The activation as a Halide expression (Keras 3 semantics).
Halide::Expr activate(graph::Activation activation, float alpha, Halide::Expr v);

// A baked weight as a Halide buffer, dimensions reversed from Keras's.
Halide::Buffer<float> weight_buffer(const graph::Weight &weight, const std::string &name);

}  // namespace convpipe::lower
