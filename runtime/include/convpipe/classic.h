#pragma once
// Classic convolutions with numpy's and scipy's semantics, compiled ahead of
// time with Halide (float32 in, float32 out, accumulated in float32):
//
//   convolve(a, v, mode)                     numpy.convolve: 1-D arrays
//   convolve2d(in1, in2, mode, boundary, f)  scipy.signal.convolve2d
//   correlate2d(in1, in2, mode, boundary, f) scipy.signal.correlate2d
//
// Bad arguments (wrong rank, empty arrays, 'valid' where neither input
// contains the other) throw convpipe::Error with numpy's or scipy's reason.
#include <string>

#include "convpipe/error.h"
#include "convpipe/tensor.h"

namespace convpipe {

enum class Mode {
    Full,   // every overlap: (N + M - 1)
    Same,   // the size of the first input (numpy: of the longer), centred
    Valid,  // full overlaps only: (N - M + 1)
};

enum class Boundary {
    Fill,   // pad with fillvalue
    Wrap,   // periodic
    Symm,   // symmetric reflection that repeats the edge: ...cba|abc...|cba...
};

const char *mode_name(Mode mode);              // "full", "same", "valid"
const char *boundary_name(Boundary boundary);  // "fill", "wrap", "symm"
// Parses numpy's and scipy's names (scipy's aliases "pad", "circular" and
// "symmetric" too). Throws SpecError naming the choices.
Mode mode_from_name(const std::string &name);
Boundary boundary_from_name(const std::string &name);

// numpy.convolve: a and v are 1-D (a 0-D scalar counts as length 1); either
// may be the longer. Returns a 1-D tensor.
Tensor convolve(const Tensor &a, const Tensor &v, Mode mode = Mode::Full);

// scipy.signal.convolve2d / correlate2d on 2-D tensors [H, W]. Returns [H', W'].
Tensor convolve2d(const Tensor &in1, const Tensor &in2, Mode mode = Mode::Full,
                  Boundary boundary = Boundary::Fill, float fillvalue = 0.0f);
Tensor correlate2d(const Tensor &in1, const Tensor &in2, Mode mode = Mode::Full,
                   Boundary boundary = Boundary::Fill, float fillvalue = 0.0f);

// The same, writing into `out` and reusing its storage when it already holds
// enough elements: repeated calls allocate nothing large.
void convolve_into(const Tensor &a, const Tensor &v, Tensor &out, Mode mode = Mode::Full);
void convolve2d_into(const Tensor &in1, const Tensor &in2, Tensor &out, Mode mode = Mode::Full,
                     Boundary boundary = Boundary::Fill, float fillvalue = 0.0f);
void correlate2d_into(const Tensor &in1, const Tensor &in2, Tensor &out, Mode mode = Mode::Full,
                      Boundary boundary = Boundary::Fill, float fillvalue = 0.0f);

// Which compiled variant the most recent call on this thread ran: "2x2",
// "3x3", "separable" or "general". For tests and benchmarks. The x86
// variant is chosen like a pipeline's: see set_cpu_isa_limit() and
// last_cpu_isa() in convpipe/pipeline.h.
const char *last_classic_variant();


}  // namespace convpipe
