// Classic 2-D convolution (scipy.signal.convolve2d, and numpy.convolve as its
// one-row case), compiled ahead of time into the convpipe_classic library.
//
// Every variant computes, for each output pixel (x, y),
//
//   out(x, y) = sum_{j<KH, k<KW} kernel(k, j) * ext(x + offset_x - k, y + offset_y - j)
//
// where ext is the image extended past its edges by the boundary rule
// (fill with a value, wrap, or symmetric reflection that repeats the edge:
// scipy's 'fill', 'wrap' and 'symm'). The caller (runtime/src/classic.cpp)
// turns modes, correlation and argument swaps into a kernel orientation, an
// offset and an output size, so these generators know nothing of modes.
//
// Variants (the runtime picks one per call):
//   classic_conv2d kernel_size=any        any kernel size, register-blocked
//   classic_conv2d kernel_size=2x2/3x3 taps unrolled, vectorised across x
//   classic_conv2d_separable         rank-1 kernels (box blurs, ...) given as
//                                    a column and a row of taps: two 1-D passes
#include <Halide.h>

namespace {

using namespace Halide;

// Values of the `boundary` input; runtime/src/classic.cpp uses the same.
constexpr int kBoundaryFill = 0;
constexpr int kBoundaryWrap = 1;
// anything else: symmetric

enum class KernelSize { Any, K2x2, K3x3 };

// The image extended to all of Z^2 by the run-time boundary rule. Each
// schedule specialises on `boundary`, so each loop nest sees one rule, and
// the likely() inside Halide's boundary conditions lets loop partitioning give
// the interior a loop with no edge tests at all.
Func extended(const Func &image, Expr width, Expr height, Expr boundary, Expr fillvalue) {
    Region bounds = {{0, width}, {0, height}};
    Func fill = BoundaryConditions::constant_exterior(image, fillvalue, bounds);
    Func wrap = BoundaryConditions::repeat_image(image, bounds);
    Func symm = BoundaryConditions::mirror_image(image, bounds);
    Var x("x"), y("y");
    Func ext("extended");
    ext(x, y) = select(boundary == kBoundaryFill, fill(x, y), boundary == kBoundaryWrap, wrap(x, y), symm(x, y));
    return ext;
}

// Splits output rows into tasks for the thread pool. GuardWithIf: the row
// count is arbitrary and outer-loop guards cost nothing.
constexpr int kRowsPerTask = 16;

class ClassicConv2D : public Generator<ClassicConv2D> {
public:
    GeneratorParam<KernelSize> kernel_size{"kernel_size", KernelSize::Any,
                                           {{"any", KernelSize::Any}, {"2x2", KernelSize::K2x2}, {"3x3", KernelSize::K3x3}}};

    Input<Buffer<float, 2>> image{"image"};      // (x, y): dim 0 is the row
    Input<Buffer<float, 2>> kernel{"kernel"};    // (k, j), already in convolution orientation
    Input<int32_t> offset_x{"offset_x"};
    Input<int32_t> offset_y{"offset_y"};
    Input<int32_t> boundary{"boundary"};
    Input<float> fillvalue{"fillvalue"};
    Output<Buffer<float, 2>> output{"output"};

    void generate() {
        Func ext = extended(image, image.width(), image.height(), boundary, fillvalue);
        int taps = fixed_taps();
        if (taps > 0) {
            // Fixed size: the sum is written out tap by tap; the kernel
            // values are loop invariant and stay in registers.
            kernel.dim(0).set_bounds(0, taps);
            kernel.dim(1).set_bounds(0, taps);
            Expr sum = 0.0f;
            for (int j = 0; j < taps; j++)
                for (int k = 0; k < taps; k++)
                    sum += kernel(k, j) * ext(x + offset_x - k, y + offset_y - j);
            output(x, y) = sum;
        } else {
            r = RDom(0, kernel.width(), 0, kernel.height(), "r");
            accumulator(x, y) = 0.0f;
            accumulator(x, y) += kernel(r.x, r.y) * ext(x + offset_x - r.x, y + offset_y - r.y);
            output(x, y) = accumulator(x, y);
        }
    }

    void schedule() {
        const int V = get_target().natural_vector_size<float>();
        if (fixed_taps() > 0) {
            // Two vectors per iteration hide FMA latency; narrower outputs
            // (1-D calls, tiny images) take the scalar fallback.
            const int width = 2 * V;
            for_each_boundary([&](Stage s) {
                s.split(y, yo, yi, kRowsPerTask, TailStrategy::GuardWithIf).parallel(yo);
                s.specialize(output.width() >= width).vectorize(x, width);
            });
        } else {
            // Register blocking: `blocks` vector accumulators per tile, the
            // kernel loop inside, each tap broadcast once per tile.
            const int blocks = 4;
            const int tile = blocks * V;
            for_each_boundary([&](Stage s) {
                s.split(y, yo, yi, kRowsPerTask, TailStrategy::GuardWithIf).parallel(yo);
                s.specialize(output.width() >= tile).split(x, xo, xi, tile, TailStrategy::ShiftInwards);
                s.split(x, xo, xi, tile, TailStrategy::GuardWithIf);
            });
            // Always a whole tile, even for the last, narrower one: the
            // accumulators are then a fixed set of registers, and ext answers
            // for the extra columns.
            accumulator.compute_at(output, xo).bound_extent(x, tile).vectorize(x, V).unroll(x);
            accumulator.update().reorder(x, r.x, r.y, y).vectorize(x, V).unroll(x);
        }
    }

private:
    Var x{"x"}, y{"y"}, xo{"xo"}, xi{"xi"}, yo{"yo"}, yi{"yi"};
    Func accumulator{"accumulator"};
    RDom r;   // the kernel's taps, for kernel_size=any

    int fixed_taps() const {
        switch (kernel_size) {
        case KernelSize::K2x2: return 2;
        case KernelSize::K3x3: return 3;
        default: return 0;
        }
    }

    // Applies `schedule_stage` to the output once per boundary rule, so each
    // specialisation's loop nest carries exactly one rule.
    template <typename F>
    void for_each_boundary(F schedule_stage) {
        Func out = output;
        schedule_stage(out.specialize(boundary == kBoundaryFill));
        schedule_stage(out.specialize(boundary == kBoundaryWrap));
        schedule_stage(Stage(out));
    }
};

// A rank-1 kernel column_taps (x) row_taps: a horizontal pass over the
// extended image, then a vertical pass over its result. 2*(KH+KW) flops per
// pixel instead of 2*KH*KW, which makes a 10x10 box cost about a 3x3.
class ClassicConv2DSeparable : public Generator<ClassicConv2DSeparable> {
public:
    Input<Buffer<float, 2>> image{"image"};
    Input<Buffer<float, 1>> column_taps{"column_taps"};   // KH taps, along y
    Input<Buffer<float, 1>> row_taps{"row_taps"};         // KW taps, along x
    Input<int32_t> offset_x{"offset_x"};
    Input<int32_t> offset_y{"offset_y"};
    Input<int32_t> boundary{"boundary"};
    Input<float> fillvalue{"fillvalue"};
    Output<Buffer<float, 2>> output{"output"};

    void generate() {
        Func ext = extended(image, image.width(), image.height(), boundary, fillvalue);
        rk = RDom(0, row_taps.width(), "rk");
        horizontal(x, y) = 0.0f;
        horizontal(x, y) += row_taps(rk) * ext(x + offset_x - rk, y);
        rj = RDom(0, column_taps.width(), "rj");
        vertical(x, y) = 0.0f;
        vertical(x, y) += column_taps(rj) * horizontal(x, y + offset_y - rj);
        output(x, y) = vertical(x, y);
    }

    void schedule() {
        const int V = get_target().natural_vector_size<float>();
        const int blocks = 4;
        const int tile = blocks * V;
        // Tiles of columns x rows: the horizontal pass for a tile (plus the
        // KH-1 rows above it) stays in L1 while the vertical pass reads it.
        const int tile_rows = 32;
        const int tile_columns = 256;
        Func out = output;
        auto schedule_stage = [&](Stage s) {
            s.split(y, yo, yi, tile_rows, TailStrategy::GuardWithIf).parallel(yo);
            s.specialize(output.width() >= tile_columns)
                .split(x, xo, xi, tile_columns, TailStrategy::ShiftInwards)
                .reorder(xi, yi, xo, yo);
            s.split(x, xo, xi, tile_columns, TailStrategy::GuardWithIf).reorder(xi, yi, xo, yo);
        };
        schedule_stage(out.specialize(boundary == kBoundaryFill));
        schedule_stage(out.specialize(boundary == kBoundaryWrap));
        schedule_stage(Stage(out));

        // Both passes: register-blocked vector accumulators, taps inside.
        for (auto [pass, taps] : {std::pair{horizontal, rk}, std::pair{vertical, rj}}) {
            pass.compute_at(output, xo).vectorize(x, V);
            pass.update().split(x, vx, vxi, tile).reorder(vxi, taps, vx, y).vectorize(vxi, V).unroll(vxi);
        }
    }

private:
    Var x{"x"}, y{"y"}, xo{"xo"}, xi{"xi"}, yo{"yo"}, yi{"yi"}, vx{"vx"}, vxi{"vxi"};
    Func horizontal{"horizontal"}, vertical{"vertical"};
    RDom rk, rj;   // row taps (along x), column taps (along y)
};

}  // namespace

HALIDE_REGISTER_GENERATOR(ClassicConv2D, classic_conv2d)
HALIDE_REGISTER_GENERATOR(ClassicConv2DSeparable, classic_conv2d_separable)
