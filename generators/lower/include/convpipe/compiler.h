#pragma once
// Compiling a graph in-process with Halide's JIT: the same lowering and
// schedules the build uses for AOT libraries, so a spec can be run before it
// is added to a build. Links libHalide (the runtime library does not).
#include <string>

#include "convpipe/graph.h"
#include "convpipe/pipeline.h"

namespace convpipe {

struct CompileOptions {
    std::string schedule_file;   // empty: schedules/x86 heuristic defaults
    Device device = Device::CPU;
};

Pipeline compile_graph(const graph::Graph &graph, const CompileOptions &options = {});

// The schedule parameters each Conv2D layer gets on this machine's CPU (as
// the JIT compiles it): the heuristic defaults, overridden by the schedule
// file when one is given. One JSON object per line: "layer: {...}".
std::string describe_schedule(const graph::Graph &graph, const std::string &schedule_file = "");
Pipeline compile_spec(const std::string &spec_path, const CompileOptions &options = {});

}  // namespace convpipe
