// Choosing parameters for every layer: schedule file first, heuristic for
// whatever the file leaves out.
#include <fstream>
#include <sstream>

#include "convpipe/error.h"
#include "convpipe/schedule.h"

namespace convpipe::schedule {

ScheduleFile load_schedule_file(const std::string &path, const graph::Graph &graph) {
    std::ifstream f(path);
    if (!f) throw SpecError(path + ": cannot open schedule file");
    std::stringstream text;
    text << f.rdbuf();
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error &e) {
        throw SpecError(path + ": invalid JSON: " + e.what());
    }
    if (!j.is_object() || !j.contains("layers") || !j["layers"].is_object())
        throw SpecError(path + ": expected an object with \"layers\": {layer name: parameters}");
    for (auto it = j["layers"].begin(); it != j["layers"].end(); ++it)
        if (!graph.find_layer(it.key()))
            throw SpecError(path + ": layers." + it.key() + ": pipeline '" + graph.name + "' has no such layer");
    ScheduleFile file;
    file.path = path;
    file.layers = j["layers"];
    return file;
}

namespace {

// An output that only copies an already computed layer.
void schedule_copy(Halide::Func copy, int64_t channels, const Halide::Target &target) {
    const lower::Dims &d = lower::dims();
    const int V = target.natural_vector_size<float>();
    Halide::Var yn("yn");
    copy.fuse(d.y, d.n, yn).parallel(yn);
    if (channels >= V) copy.vectorize(d.c, V, Halide::TailStrategy::ShiftInwards);
}

// Layers without windows (Add, Activation, ChannelMean, MinMaxNormalization):
// computed once, whole, vectorised and parallel. `output` is defined when the
// layer is a pipeline output.
void schedule_simple(lower::LayerStage &s, Halide::Func output, const Halide::Target &target) {
    const lower::Dims &d = lower::dims();
    const int V = target.natural_vector_size<float>();
    Halide::Var yn("yn");
    for (Halide::Func r : s.reductions) r.compute_root().parallel(d.n);
    auto lay_out = [&](Halide::Func f) {
        f.fuse(d.y, d.n, yn).parallel(yn);
        if (s.layer->output.shape[3] >= V) f.vectorize(d.c, V, Halide::TailStrategy::GuardWithIf);
        else f.vectorize(d.x, V, Halide::TailStrategy::GuardWithIf);
    };
    if (output.defined()) {
        lay_out(output);
    } else {
        s.out.compute_root();
        lay_out(s.out);
    }
}

}  // namespace

const graph::Layer *fusable_consumer(const graph::Graph &graph, const graph::Layer &layer) {
    for (const std::string &o : graph.outputs)
        if (o == layer.name) return nullptr;
    const graph::Layer *reader = nullptr;
    int readers = 0;
    for (const graph::Layer &l : graph.layers)
        for (const std::string &in : l.inputs)
            if (in == layer.name) readers++, reader = &l;
    return readers == 1 && reader->kind == graph::OpKind::Conv2D ? reader : nullptr;
}

GraphParams choose_params(const graph::Graph &graph, const ScheduleFile *file, const Halide::Target &target) {
    GraphParams chosen;
    for (const graph::Layer &l : graph.layers) {
        if (l.kind != graph::OpKind::Conv2D) continue;
        Conv2DParams p = conv2d_heuristic(l, target);
        // A memory-bound layer (depthwise: a few multiply-adds per value it
        // writes) is computed inside a 1x1 consumer's tasks: its output then
        // goes from cache to cache, and a 1x1 window needs no halo rows
        // computed twice. MobileNet's dw3x3 -> 1x1 on 112x112x32, Zen 3,
        // convpipe bench (bench/fusion): 0.42 ms fused vs 0.44 apart at 2
        // threads, 0.82 vs 0.79 at 1. Layers with longer reductions are
        // compute-bound and would only pay for the halo (two 3x3 layers at
        // 56x56x64: 10-13% slower fused).
        const graph::Layer *consumer = fusable_consumer(graph, l);
        if (consumer && few_taps(l) &&
            consumer->conv.kernel_h == 1 && consumer->conv.kernel_w == 1 && consumer->conv.stride_h == 1 &&
            consumer->conv.stride_w == 1)
            p.compute_at = "consumer";
        if (file && file->layers.contains(l.name)) {
            const std::string where = file->path + ": layers." + l.name;
            const nlohmann::json &entry = file->layers.at(l.name);
            // Whether the heuristic reads the input in place because its
            // blocks skip every window tap over the padding (below).
            const bool in_place_for_skips = p.pad == "in_place" && sum_skips_padding(l, p, target);
            p.update_from(entry, where);
            // Several-row blocks and inner channel loops exist in the tile
            // template only: a file that picks another one drops the
            // heuristic's, and may not ask for them.
            if (p.accumulate != "tile" || p.vectorize != "c") {
                if (p.block_y > 1 && entry.contains("block_y"))
                    throw SpecError(where + ".block_y: register blocks of several rows need \"accumulate\": "
                                            "\"tile\" and \"vectorize\": \"c\"");
                if (p.channels_inner && entry.contains("channels_inner"))
                    throw SpecError(where + ".channels_inner: needs \"accumulate\": \"tile\" and \"vectorize\": \"c\"");
                if (p.flat_positions && entry.contains("flat_positions"))
                    throw SpecError(where + ".flat_positions: needs \"accumulate\": \"tile\" and \"vectorize\": \"c\"");
                if (p.channels_per_step > 0 && entry.contains("channels_per_step"))
                    throw SpecError(where + ".channels_per_step: needs \"accumulate\": \"tile\" and \"vectorize\": \"c\"");
                p.block_y = 1;
                p.channels_inner = false;
                p.flat_positions = false;
                p.channels_per_step = 0;
            }
            const int64_t cin_group = l.in_channels / l.conv.groups;
            if (p.channels_per_step > 0 && cin_group % p.channels_per_step != 0)
                throw SpecError(where + ".channels_per_step: " + std::to_string(p.channels_per_step) +
                                " does not divide the layer's " + std::to_string(cin_group) +
                                " input channels per group");
            // Flat positions are numbered along a row of fixed width, and a
            // layer computed inside its consumer's tasks runs the rows those
            // ask for: the file may not ask for them there, and drops the
            // heuristic's.
            if (p.flat_positions) {
                const bool asked = entry.contains("flat_positions");
                if (asked && l.output.shape[2] <= 0)
                    throw SpecError(where + ".flat_positions: needs an output width the spec fixes");
                if (asked && p.compute_at == "consumer")
                    throw SpecError(where + ".flat_positions: not with \"compute_at\": \"consumer\"");
                if (l.output.shape[2] <= 0 || p.compute_at == "consumer") p.flat_positions = false;
            }
            // Kernel rows outside the blocks is an order of the flat
            // template's loops: nothing without it.
            if (!p.flat_positions && p.kernel_rows_outer) {
                if (entry.contains("kernel_rows_outer"))
                    throw SpecError(where + ".kernel_rows_outer: needs \"flat_positions\": true");
                p.kernel_rows_outer = false;
            }
            // Blocks from the file that read the padding take the padded
            // copy again, unless the file asks for the input in place (in
            // place, each of their edge positions would test its reads:
            // 3x3 28x28x128 in flat 4 x 6 blocks 1.9x the time).
            if (in_place_for_skips && !entry.contains("pad") && !sum_skips_padding(l, p, target)) p.pad = "copy";
            if (entry.contains("rotate_groups") && p.rotate_groups && !rotates_groups(l, p, target))
                throw SpecError(where + ".rotate_groups: needs \"accumulate\": \"tile\", \"vectorize\": \"c\", "
                                        "no flat positions, and groups of as many filters as input channels, "
                                        "fewer than a vector's floats (" +
                                std::to_string(vector_floats(p, target)) + ") and dividing them");
            if (entry.contains("pad_groups") && p.pad_groups && !pads_groups(l, p, target))
                throw SpecError(where + ".pad_groups: needs \"accumulate\": \"tile\", \"vectorize\": \"c\", no "
                                        "flat positions or rotated groups, at least a vector's filters (" +
                                std::to_string(vector_floats(p, target)) +
                                " floats) and groups whose filters do not fill whole vectors");
            if (pads_groups(l, p, target) && !blocks_hold_whole_groups(l, p, target)) {
                const int V = vector_floats(p, target), padded = padded_group_filters(l, V);
                throw SpecError(where + ": groups padded to " + std::to_string(padded) +
                                " filters need register blocks of whole groups: block_c a multiple of " +
                                std::to_string(padded / V) + " (vectors of " + std::to_string(V) + " floats), got " +
                                std::to_string(p.block_c));
            }
            if (p.compute_at == "consumer" && !fusable_consumer(graph, l))
                throw SpecError(where + ".compute_at: \"consumer\" needs a layer that is not a pipeline output and "
                                        "is read by exactly one layer, a Conv2D");
        }
        chosen[l.name] = p;
    }
    return chosen;
}

lower::KernelLayouts kernel_layouts(const graph::Graph &graph, const GraphParams &params,
                                   const Halide::Target &target) {
    lower::KernelLayouts layouts;
    for (const graph::Layer &l : graph.layers)
        if (l.kind == graph::OpKind::Conv2D) {
            const Conv2DParams &p = params.at(l.name);
            const bool padded = pads_groups(l, p, target);
            const graph::KernelLayout layout{
                kernel_block(l, p, target),
                rotates_groups(l, p, target) ? static_cast<int>(l.in_channels / l.conv.groups) : 0,
                padded ? static_cast<int>(l.conv.groups) : 0,
                padded ? padded_group_filters(l, vector_floats(p, target)) : 0};
            if (!layout.is_keras()) layouts[l.name] = layout;
        }
    return layouts;
}

lower::SumForms sum_forms(const graph::Graph &graph, const GraphParams &params, const Halide::Target &target) {
    lower::SumForms forms;
    for (const graph::Layer &l : graph.layers)
        if (l.kind == graph::OpKind::Conv2D) {
            const Conv2DParams &p = params.at(l.name);
            forms[l.name] = {sums_flat_positions(l, p, target), skips_padding_rows(l, p, target),
                             skips_padding_columns(l, p, target), rotates_groups(l, p, target),
                             pads_groups(l, p, target), clamps_columns(l, p, target)};
        }
    return forms;
}

void schedule_graph(lower::LoweredGraph &lowered, const graph::Graph &graph,
                    const std::map<std::string, Halide::Func> &outputs, const GraphParams &params,
                    const Halide::Target &target) {
    // The Func each layer's values are stored in: its pipeline output, or its
    // own Func when it is an intermediate or other layers read it too.
    std::map<std::string, Halide::Func> stores;
    std::map<std::string, bool> read_by_layers;
    for (lower::LayerStage &stage : lowered.stages) {
        const std::string &name = stage.layer->name;
        auto out = outputs.find(name);
        bool has_consumers = false;
        for (const graph::Layer &l : graph.layers)
            for (const std::string &in : l.inputs) has_consumers |= in == name;
        stores[name] = out != outputs.end() && !has_consumers ? out->second : stage.out;
        read_by_layers[name] = has_consumers;
    }
    // Placements, consumers first: a layer computed inside its consumer's
    // tasks goes where that consumer's per-task stages go, which for a
    // consumer that is itself fused is further down the chain.
    std::map<std::string, Placement> placements;
    std::map<std::string, Halide::LoopLevel> task_of;
    for (auto it = lowered.stages.rbegin(); it != lowered.stages.rend(); ++it) {
        const graph::Layer &l = *it->layer;
        if (l.kind != graph::OpKind::Conv2D) continue;
        Placement &pl = placements[l.name];
        if (params.at(l.name).compute_at == "consumer") {
            const std::string &consumer = fusable_consumer(graph, l)->name;
            pl.consumer_task = task_of.at(consumer);
            placements[consumer].has_fused_producer = true;
        }
        task_of.emplace(l.name, pl.consumer_task.value_or(Halide::LoopLevel(stores.at(l.name), Halide::Var("t"))));
    }
    for (lower::LayerStage &stage : lowered.stages) {
        const std::string &name = stage.layer->name;
        auto out = outputs.find(name);
        if (stage.layer->kind != graph::OpKind::Conv2D) {
            schedule_simple(stage, out == outputs.end() ? Halide::Func() : out->second, target);
            continue;
        }
        const Conv2DParams &p = params.at(name);
        bool is_output = out != outputs.end();
        if (is_output && read_by_layers.at(name)) {
            // Later layers read it too: compute it once, then copy it out.
            apply_conv2d(stage, stage.out, false, p, target, placements.at(name));
            schedule_copy(out->second, stage.layer->conv.filters, target);
        } else {
            apply_conv2d(stage, stores.at(name), is_output, p, target, placements.at(name));
        }
    }
}

}  // namespace convpipe::schedule
