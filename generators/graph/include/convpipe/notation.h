#pragma once
// One Conv2D layer in one line: "NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid]
// [linear]" (input shape, filters, window, then stride, dilation, groups or
// depthwise, 'valid' padding, no activation; else 'same' and relu), e.g.
// "1x56x56x64->64 3x3" or "1x112x112x32->32 3x3 s2 dw". bench_layers reads
// and writes it, `convpipe spec` turns it into a spec file, and tests build
// layers from it.
#include <string>

#include "convpipe/graph.h"

namespace convpipe::graph {

// A one-layer spec (input "x", layer "conv") named `name`. Throws SpecError
// naming the notation and what is wrong with it.
Graph parse_conv_notation(const std::string &notation, const std::string &name);

// The same spec as JSON text (`convpipe spec` prints it), checked as
// parse_conv_notation checks it.
std::string conv_notation_spec(const std::string &notation, const std::string &name);

// The notation of a Conv2D layer reading `input` (NHWC).
std::string conv_notation(const Layer &conv, const Shape &input);

}  // namespace convpipe::graph
