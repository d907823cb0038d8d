// numpy.convolve and scipy.signal.convolve2d/correlate2d on top of the
// classic_conv2d generators (generators/classic/classic_conv2d.cpp).
//
// The generated code computes one thing: a convolution of an extended image
// with a kernel, at an offset, into an output of a given size. Everything
// numpy and scipy decide (which argument is the kernel, swaps, output sizes,
// 'same' centring, correlation as a flipped kernel, reversed output) is
// decided here, as they do, before Halide sees the call.
#include "convpipe/classic.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "convpipe_classic_conv2d_2x2_edges_avx2.h"
#include "convpipe_classic_conv2d_2x2_edges_avx512.h"
#include "convpipe_classic_conv2d_2x2_edges_sse41.h"
#include "convpipe_classic_conv2d_2x2_interior_avx2.h"
#include "convpipe_classic_conv2d_2x2_interior_avx512.h"
#include "convpipe_classic_conv2d_2x2_interior_sse41.h"
#include "convpipe_classic_conv2d_3x3_edges_avx2.h"
#include "convpipe_classic_conv2d_3x3_edges_avx512.h"
#include "convpipe_classic_conv2d_3x3_edges_sse41.h"
#include "convpipe_classic_conv2d_3x3_interior_avx2.h"
#include "convpipe_classic_conv2d_3x3_interior_avx512.h"
#include "convpipe_classic_conv2d_3x3_interior_sse41.h"
#include "convpipe_classic_conv2d_any_edges_avx2.h"
#include "convpipe_classic_conv2d_any_edges_avx512.h"
#include "convpipe_classic_conv2d_any_edges_sse41.h"
#include "convpipe_classic_conv2d_any_interior_avx2.h"
#include "convpipe_classic_conv2d_any_interior_avx512.h"
#include "convpipe_classic_conv2d_any_interior_sse41.h"
#include "convpipe_classic_conv2d_separable_edges_avx2.h"
#include "convpipe_classic_conv2d_separable_edges_avx512.h"
#include "convpipe_classic_conv2d_separable_edges_sse41.h"
#include "convpipe_classic_conv2d_separable_interior_avx2.h"
#include "convpipe_classic_conv2d_separable_interior_avx512.h"
#include "convpipe_classic_conv2d_separable_interior_sse41.h"
#include "cpu_isa.h"
#include "halide_buffers.h"

namespace convpipe {

namespace {

// Matches kBoundaryFill / kBoundaryWrap / symmetric in the generator.
int32_t boundary_code(Boundary b) {
    switch (b) {
    case Boundary::Fill: return 0;
    case Boundary::Wrap: return 1;
    case Boundary::Symm: return 2;
    }
    return 0;
}

thread_local const char *t_last_variant = "";

// --- x86 ISA dispatch: one variant per level of runtime/src/cpu_isa.h ------
// The three variants of one function, indexed by ISA level (up to 2: the
// classic convolutions have no Sapphire Rapids variant).
#define CONVPIPE_CLASSIC_VARIANTS(fn) {{fn##_sse41, fn##_avx2, fn##_avx512}}

std::string shape_text(const Tensor &t) { return shape_to_string(t.shape()); }

// Halide buffers address bytes with 32-bit signed offsets.
void check_fits_halide(const char *what, const char *name, int64_t elements) {
    if (elements > (int64_t(1) << 31) / int64_t(sizeof(float)) - 1)
        throw Error(std::string(what) + ": " + name + " has " + std::to_string(elements) +
                    " elements; at most 2^29 are supported");
}

// One call of a generated convolution: image [H, W] convolved with kernel
// [KH, KW] (already in convolution orientation), output pixel (m, n) reading
// the extended image around (m + offset_y, n + offset_x).
struct ConvCall {
    const float *image = nullptr;
    int64_t height = 0, width = 0;
    Values kernel;
    int64_t kernel_h = 0, kernel_w = 0;
    int64_t offset_y = 0, offset_x = 0;
    Boundary boundary = Boundary::Fill;
    float fillvalue = 0.0f;
    int64_t out_h = 0, out_w = 0;
};

// A rank-1 kernel as column (x) row, when it is one to within float32
// rounding: each reconstructed tap within 2^-20 of the largest tap. Box
// blurs factor exactly (pivot row and column of equal values).
bool factor_rank_one(const ConvCall &c, std::vector<float> &column, std::vector<float> &row) {
    const int64_t kh = c.kernel_h, kw = c.kernel_w;
    int64_t pj = 0, pk = 0;
    float peak = 0.0f;
    for (int64_t j = 0; j < kh; j++)
        for (int64_t k = 0; k < kw; k++) {
            // NaN or infinite taps: the factors would spread them to taps
            // that the direct sum keeps apart.
            if (!std::isfinite(c.kernel[j * kw + k])) return false;
            if (std::fabs(c.kernel[j * kw + k]) > peak) {
                peak = std::fabs(c.kernel[j * kw + k]);
                pj = j;
                pk = k;
            }
        }
    if (!(peak > 0.0f)) return false;
    const float pivot = c.kernel[pj * kw + pk];
    column.resize(kh);
    row.resize(kw);
    for (int64_t j = 0; j < kh; j++) column[j] = c.kernel[j * kw + pk];
    for (int64_t k = 0; k < kw; k++) row[k] = c.kernel[pj * kw + k] / pivot;
    const double tolerance = std::ldexp(double(peak), -20);
    for (int64_t j = 0; j < kh; j++)
        for (int64_t k = 0; k < kw; k++)
            if (std::fabs(double(column[j]) * row[k] - c.kernel[j * kw + k]) > tolerance) return false;
    return true;
}

// Separable passes pay off once 2*(KH+KW) flops per pixel is well under
// 2*KH*KW; below 4x4 the unrolled direct loops win.
bool worth_separating(int64_t kh, int64_t kw) { return kh >= 2 && kw >= 2 && kh * kw >= 16; }

// A float32 halide_buffer_t over row-major data of shape `shape` (outermost
// first); Halide's dimension 0 is the innermost, so dimensions are reversed.
struct HostBuffer {
    halide_buffer_t buffer{};
    halide_dimension_t dims[2]{};

    HostBuffer(const float *data, std::initializer_list<int64_t> shape) {
        buffer.host = reinterpret_cast<uint8_t *>(const_cast<float *>(data));
        buffer.type = halide_type_t(halide_type_float, 32, 1);
        buffer.dimensions = static_cast<int32_t>(shape.size());
        const std::vector<int64_t> extents(shape);
        int32_t stride = 1;
        for (size_t axis = 0; axis < extents.size(); axis++) {
            const int32_t extent = static_cast<int32_t>(extents[extents.size() - 1 - axis]);
            dims[axis] = halide_dimension_t(0, extent, stride);
            stride *= extent;
        }
        buffer.dim = dims;
    }
    // Rows [row_begin, row_end) and columns [col_begin, col_end) of a
    // [rows, row_stride] output, addressed by their own coordinates.
    HostBuffer(float *data, int64_t row_stride, int64_t row_begin, int64_t row_end, int64_t col_begin,
               int64_t col_end) {
        buffer.host = reinterpret_cast<uint8_t *>(data + row_begin * row_stride + col_begin);
        buffer.type = halide_type_t(halide_type_float, 32, 1);
        buffer.dimensions = 2;
        dims[0] = halide_dimension_t(int32_t(col_begin), int32_t(col_end - col_begin), 1);
        dims[1] = halide_dimension_t(int32_t(row_begin), int32_t(row_end - row_begin), int32_t(row_stride));
        buffer.dim = dims;
    }
    HostBuffer(const HostBuffer &) = delete;
    HostBuffer &operator=(const HostBuffer &) = delete;
    halide_buffer_t *get() { return &buffer; }
};

// The narrowest interior the generated interior functions take
// (kMinInteriorWidth in generators/classic/classic_conv2d.cpp).
constexpr int64_t kMinInteriorWidth = 256;

// Generated entry points: (user_context, image, kernel or taps..., offset_x,
// offset_y, boundary, fillvalue, output), one per ISA level.
using DirectFn = decltype(&convpipe_classic_conv2d_any_interior_sse41);
using SeparableFn = decltype(&convpipe_classic_conv2d_separable_interior_sse41);
using DirectVariants = std::array<DirectFn, 3>;
using SeparableVariants = std::array<SeparableFn, 3>;

const DirectVariants kAnyInterior = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_any_interior);
const DirectVariants kAnyEdges = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_any_edges);
const DirectVariants k2x2Interior = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_2x2_interior);
const DirectVariants k2x2Edges = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_2x2_edges);
const DirectVariants k3x3Interior = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_3x3_interior);
const DirectVariants k3x3Edges = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_3x3_edges);
const SeparableVariants kSeparableInterior = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_separable_interior);
const SeparableVariants kSeparableEdges = CONVPIPE_CLASSIC_VARIANTS(convpipe_classic_conv2d_separable_edges);

void run(const char *what, const ConvCall &c, float *out) {
    check_fits_halide(what, "the first input", c.height * c.width);
    check_fits_halide(what, "the kernel", c.kernel_h * c.kernel_w);
    check_fits_halide(what, "the output", c.out_h * c.out_w);
    // Halide's errors reach the ErrorSink passed as user_context through the
    // halide_error override in halide_hooks.cpp; this keeps it linked in.
    detail::link_halide_hooks();

    HostBuffer image(c.image, {c.height, c.width});
    HostBuffer kernel(c.kernel.data(), {c.kernel_h, c.kernel_w});
    std::vector<float> column, row;
    // Classic convolutions stop at their last variant (the AVX-512 Skylake set).
    const int isa = std::min(detail::choose_isa_level(), static_cast<int>(kAnyInterior.size()) - 1);
    detail::record_isa_level(isa);
    DirectFn interior_fn = kAnyInterior[isa], edges_fn = kAnyEdges[isa];
    bool separable = false;
    if (c.kernel_h == 2 && c.kernel_w == 2) {
        t_last_variant = "2x2";
        interior_fn = k2x2Interior[isa];
        edges_fn = k2x2Edges[isa];
    } else if (c.kernel_h == 3 && c.kernel_w == 3) {
        t_last_variant = "3x3";
        interior_fn = k3x3Interior[isa];
        edges_fn = k3x3Edges[isa];
    } else if (worth_separating(c.kernel_h, c.kernel_w) && factor_rank_one(c, column, row)) {
        t_last_variant = "separable";
        separable = true;
    } else {
        t_last_variant = "general";
    }
    HostBuffer column_taps(column.data(), {int64_t(column.size())});
    HostBuffer row_taps(row.data(), {int64_t(row.size())});

    const int32_t ox = int32_t(c.offset_x), oy = int32_t(c.offset_y);
    const int32_t boundary = boundary_code(c.boundary);
    detail::ErrorSink sink;
    // One rectangle of the output, through the interior or the edge code.
    auto region = [&](bool interior, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
        if (r1 <= r0 || c1 <= c0) return;
        HostBuffer part(out, c.out_w, r0, r1, c0, c1);
        int rc;
        if (separable) {
            SeparableFn fn = interior ? kSeparableInterior[isa] : kSeparableEdges[isa];
            rc = fn(&sink, image.get(), column_taps.get(), row_taps.get(), ox, oy, boundary, c.fillvalue, part.get());
        } else {
            rc = (interior ? interior_fn : edges_fn)(&sink, image.get(), kernel.get(), ox, oy, boundary, c.fillvalue,
                                                     part.get());
        }
        if (rc != 0)
            throw Error(std::string(what) + " failed (Halide error " + std::to_string(rc) + "): " + sink.text());
    };

    // Output rows [r0, r1) and columns [c0, c1) read only pixels inside the
    // image; the bands around them need the boundary rule.
    const int64_t r0 = std::clamp<int64_t>(c.kernel_h - 1 - c.offset_y, 0, c.out_h);
    const int64_t r1 = std::clamp<int64_t>(c.height - c.offset_y, r0, c.out_h);
    const int64_t c0 = std::clamp<int64_t>(c.kernel_w - 1 - c.offset_x, 0, c.out_w);
    const int64_t c1 = std::clamp<int64_t>(c.width - c.offset_x, c0, c.out_w);
    if (r1 > r0 && c1 - c0 >= kMinInteriorWidth) {
        region(false, 0, r0, 0, c.out_w);          // top band
        region(false, r1, c.out_h, 0, c.out_w);    // bottom band
        region(false, r0, r1, 0, c0);              // left band
        region(false, r0, r1, c1, c.out_w);        // right band
        region(true, r0, r1, c0, c1);              // interior
    } else {
        region(false, 0, c.out_h, 0, c.out_w);     // too narrow to split
    }
}

// scipy's _inputs_swap_needed: only 'valid' swaps, and only when the second
// input is at least as large in every dimension (and not equal).
bool swap_for_valid(const char *what, Mode mode, const Shape &s1, const Shape &s2) {
    if (mode != Mode::Valid) return false;
    bool first_contains = true, second_contains = true;
    for (size_t i = 0; i < s1.size(); i++) {
        first_contains = first_contains && s1[i] >= s2[i];
        second_contains = second_contains && s2[i] >= s1[i];
    }
    if (first_contains) return false;
    if (second_contains) return true;
    throw Error(std::string(what) + ": for 'valid' mode, one input must be at least as large as the other in every "
                "dimension; got shapes " + shape_to_string(s1) + " and " + shape_to_string(s2));
}

// Output size and offset of one axis: image of n samples, kernel of k taps.
// Convolution centres 'same' at (k-1)/2; correlation (the kernel flipped)
// at k-1-(k-1)/2, as scipy's C loop does for even kernels.
void axis_plan(Mode mode, bool correlate, int64_t n, int64_t k, int64_t &out, int64_t &offset) {
    switch (mode) {
    case Mode::Full:
        out = n + k - 1;
        offset = 0;
        break;
    case Mode::Same:
        out = n;
        offset = correlate ? (k - 1) - (k - 1) / 2 : (k - 1) / 2;
        break;
    case Mode::Valid:
        out = n - k + 1;
        offset = k - 1;
        break;
    }
}

void classic2d(const char *what, bool correlate, const Tensor &in1, const Tensor &in2, Tensor &out, Mode mode,
               Boundary boundary, float fillvalue) {
    if (in1.rank() != 2 || in2.rank() != 2)
        throw Error(std::string(what) + ": inputs must both be 2-D arrays, got shapes " + shape_text(in1) + " and " +
                    shape_text(in2));
    if (in1.empty() || in2.empty())
        throw Error(std::string(what) + ": inputs must not be empty, got shapes " + shape_text(in1) + " and " +
                    shape_text(in2));
    const bool swapped = swap_for_valid(what, mode, in1.shape(), in2.shape());
    const Tensor &image = swapped ? in2 : in1;
    const Tensor &kernel = swapped ? in1 : in2;

    ConvCall c;
    c.image = image.data();
    c.height = image.dim(0);
    c.width = image.dim(1);
    c.kernel_h = kernel.dim(0);
    c.kernel_w = kernel.dim(1);
    c.kernel = kernel.values();
    // Correlation is convolution with the kernel flipped in both axes (and
    // conjugated, a no-op for real values).
    if (correlate) std::reverse(c.kernel.begin(), c.kernel.end());
    c.boundary = boundary;
    c.fillvalue = fillvalue;
    axis_plan(mode, correlate, c.height, c.kernel_h, c.out_h, c.offset_y);
    axis_plan(mode, correlate, c.width, c.kernel_w, c.out_w, c.offset_x);

    out.resize({c.out_h, c.out_w});
    run(what, c, out.data());
    // scipy.signal.correlate2d reverses the result when it swapped inputs.
    if (correlate && swapped) std::reverse(out.values().begin(), out.values().end());
}

}  // namespace

const char *mode_name(Mode mode) {
    switch (mode) {
    case Mode::Full: return "full";
    case Mode::Same: return "same";
    case Mode::Valid: return "valid";
    }
    return "?";
}

const char *boundary_name(Boundary boundary) {
    switch (boundary) {
    case Boundary::Fill: return "fill";
    case Boundary::Wrap: return "wrap";
    case Boundary::Symm: return "symm";
    }
    return "?";
}

Mode mode_from_name(const std::string &name) {
    if (name == "full") return Mode::Full;
    if (name == "same") return Mode::Same;
    if (name == "valid") return Mode::Valid;
    throw SpecError("unknown mode '" + name + "' (expected full, same or valid)");
}

Boundary boundary_from_name(const std::string &name) {
    if (name == "fill" || name == "pad") return Boundary::Fill;
    if (name == "wrap" || name == "circular") return Boundary::Wrap;
    if (name == "symm" || name == "symmetric") return Boundary::Symm;
    throw SpecError("unknown boundary '" + name + "' (expected fill, wrap or symm)");
}

void convolve_into(const Tensor &a, const Tensor &v, Tensor &out, Mode mode) {
    const char *what = "convolve";
    // numpy reads a 0-d array as one sample; a default Tensor holds nothing.
    auto length = [&](const Tensor &t, const char *name) -> int64_t {
        if (t.rank() > 1)
            throw Error(std::string(what) + ": " + name + " must be 1-D, got shape " + shape_text(t));
        if (t.empty()) throw Error(std::string(what) + ": " + name + " cannot be empty");
        return t.size();
    };
    int64_t n = length(a, "a"), m = length(v, "v");
    // numpy.convolve swaps so the longer argument is the signal.
    const Tensor &signal = m > n ? v : a;
    const Tensor &taps = m > n ? a : v;
    if (m > n) std::swap(n, m);

    ConvCall c;
    c.image = signal.data();
    c.height = 1;
    c.width = n;
    c.kernel_h = 1;
    c.kernel_w = m;
    c.kernel = taps.values();
    int64_t rows = 0;
    axis_plan(mode, false, n, m, c.out_w, c.offset_x);
    axis_plan(Mode::Valid, false, 1, 1, rows, c.offset_y);
    c.out_h = 1;
    out.resize({c.out_w});
    run(what, c, out.data());
}

void convolve2d_into(const Tensor &in1, const Tensor &in2, Tensor &out, Mode mode, Boundary boundary,
                     float fillvalue) {
    classic2d("convolve2d", false, in1, in2, out, mode, boundary, fillvalue);
}

void correlate2d_into(const Tensor &in1, const Tensor &in2, Tensor &out, Mode mode, Boundary boundary,
                      float fillvalue) {
    classic2d("correlate2d", true, in1, in2, out, mode, boundary, fillvalue);
}

Tensor convolve(const Tensor &a, const Tensor &v, Mode mode) {
    Tensor out;
    convolve_into(a, v, out, mode);
    return out;
}

Tensor convolve2d(const Tensor &in1, const Tensor &in2, Mode mode, Boundary boundary, float fillvalue) {
    Tensor out;
    convolve2d_into(in1, in2, out, mode, boundary, fillvalue);
    return out;
}

Tensor correlate2d(const Tensor &in1, const Tensor &in2, Mode mode, Boundary boundary, float fillvalue) {
    Tensor out;
    correlate2d_into(in1, in2, out, mode, boundary, fillvalue);
    return out;
}

const char *last_classic_variant() { return t_last_variant; }


}  // namespace convpipe
