#pragma once
// How generated libraries make themselves known. Each library built by
// convpipe_add_pipeline() carries a small generated source that fills in a
// Registration and calls register_pipeline() from a static initialiser.
// Applications never use this header directly.
#include "convpipe/layout.h"

struct halide_buffer_t;

namespace convpipe::detail {

// Calls the generated function: inputs and outputs in graph call order.
using EntryPoint = int (*)(void *user_context, halide_buffer_t **inputs, halide_buffer_t **outputs);

struct Variant {
    const char *family;       // "x86" or "cuda"
    const char *isa;          // x86: "avx512_sapphirerapids", "avx512", "avx2" or "sse41"; cuda: ""
    EntryPoint entry;
    const char *targets;      // the Halide targets it was compiled for
    // Per call input: the layout its kernel is stored in (convpipe/layout.h;
    // Keras's for the other inputs).
    const graph::KernelLayout *input_layouts;
};

struct Registration {
    const char *name;
    const char *graph_json;   // graph::to_json(graph, false)
    const Variant *variants;
    int variant_count;
    const char *schedule_origin;   // "heuristic" or the schedule file's name
};

bool register_pipeline(const Registration &registration);

}  // namespace convpipe::detail
