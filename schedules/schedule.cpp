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

GraphParams choose_params(const graph::Graph &graph, const ScheduleFile *file, const Halide::Target &target) {
    GraphParams chosen;
    for (const graph::Layer &l : graph.layers) {
        if (l.kind != graph::OpKind::Conv2D) continue;
        Conv2DParams p = conv2d_heuristic(l, target);
        if (file && file->layers.contains(l.name)) p.update_from(file->layers[l.name], file->path + ": layers." + l.name);
        chosen[l.name] = p;
    }
    return chosen;
}

lower::KernelBlocks kernel_blocks(const graph::Graph &graph, const GraphParams &params, const Halide::Target &target) {
    lower::KernelBlocks blocks;
    for (const graph::Layer &l : graph.layers)
        if (l.kind == graph::OpKind::Conv2D)
            if (int b = kernel_block(l, params.at(l.name), target)) blocks[l.name] = b;
    return blocks;
}

void schedule_graph(lower::LoweredGraph &lowered, const graph::Graph &graph,
                    const std::map<std::string, Halide::Func> &outputs, const GraphParams &params,
                    const Halide::Target &target) {
    for (lower::LayerStage &stage : lowered.stages) {
        const std::string &name = stage.layer->name;
        auto out = outputs.find(name);
        if (stage.layer->kind != graph::OpKind::Conv2D) {
            schedule_simple(stage, out == outputs.end() ? Halide::Func() : out->second, target);
            continue;
        }
        const Conv2DParams &p = params.at(name);
        bool is_output = out != outputs.end();
        bool has_consumers = false;
        for (const graph::Layer &l : graph.layers)
            for (const std::string &in : l.inputs) has_consumers |= in == name;
        if (is_output && has_consumers) {
            // Later layers read it too: compute it once, then copy it out.
            apply_conv2d(stage, stage.out, false, p, target);
            schedule_copy(out->second, stage.layer->conv.filters, target);
        } else {
            apply_conv2d(stage, is_output ? out->second : stage.out, is_output, p, target);
        }
    }
}

}  // namespace convpipe::schedule
