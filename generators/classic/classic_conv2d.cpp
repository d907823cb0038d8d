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
// The caller also cuts the output in two parts, each with its own compiled
// code (GeneratorParam part):
//   interior  pixels whose whole window lies inside the image: plain loads,
//             no edge tests, no boundary rule (offset and output position
//             must keep every read in bounds, and the output must be at
//             least kMinInteriorWidth wide);
//   edges     the thin bands around it, any size: the boundary rule applies.
//
// Kernel variants (the caller picks one per call):
//   classic_conv2d kernel_size=any       any size, register-blocked
//   classic_conv2d kernel_size=2x2/3x3   taps unrolled, vectorised across x
//   classic_conv2d_separable             rank-1 kernels (box blurs, ...) given
//                                        as a column and a row of taps
#include <Halide.h>

#include <vector>

namespace {

using namespace Halide;

// Values of the `boundary` input; runtime/src/classic.cpp uses the same.
constexpr int kBoundaryFill = 0;
constexpr int kBoundaryWrap = 1;
// anything else: symmetric

// The narrowest output an interior function accepts (the widest tile, 256
// columns of the separable variant); runtime/src/classic.cpp uses the same.
constexpr int kMinInteriorWidth = 256;

enum class KernelSize { Any, K2x2, K3x3 };
enum class Part { Interior, Edges };

const std::map<std::string, Part> kParts = {{"interior", Part::Interior}, {"edges", Part::Edges}};

// The image extended to all of Z^2 by the run-time boundary rule. Each
// schedule specialises on `boundary`, so each loop nest sees one rule, and
// the likely() inside Halide's boundary conditions lets loop partitioning give
// the middle of each band a loop with no edge tests.
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

// Applies `schedule_stage` to f once per boundary rule (fill, wrap, and the
// rest: symm), so each specialisation's loop nest carries exactly one rule.
template <typename F>
void for_each_boundary(Func f, const Expr &boundary, F schedule_stage) {
    schedule_stage(f.specialize(boundary == kBoundaryFill));
    schedule_stage(f.specialize(boundary == kBoundaryWrap));
    schedule_stage(Stage(f));
}

// A sum as a balanced tree: short dependency chains for the FMA units.
Expr tree_sum(std::vector<Expr> terms) {
    while (terms.size() > 1) {
        std::vector<Expr> next;
        for (size_t i = 0; i + 1 < terms.size(); i += 2) next.push_back(terms[i] + terms[i + 1]);
        if (terms.size() % 2) next.push_back(terms.back());
        terms = std::move(next);
    }
    return terms.at(0);
}

// Splits output rows into tasks for the thread pool. GuardWithIf: the row
// count is arbitrary and outer-loop guards cost nothing.
constexpr int kRowsPerTask = 16;

class ClassicConv2D : public Generator<ClassicConv2D> {
public:
    GeneratorParam<KernelSize> kernel_size{"kernel_size", KernelSize::Any,
                                           {{"any", KernelSize::Any}, {"2x2", KernelSize::K2x2}, {"3x3", KernelSize::K3x3}}};
    GeneratorParam<Part> part{"part", Part::Interior, kParts};

    Input<Buffer<float, 2>> image{"image"};      // (x, y): dim 0 is the row
    Input<Buffer<float, 2>> kernel{"kernel"};    // (k, j), already in convolution orientation
    Input<int32_t> offset_x{"offset_x"};
    Input<int32_t> offset_y{"offset_y"};
    Input<int32_t> boundary{"boundary"};         // edges only
    Input<float> fillvalue{"fillvalue"};         // edges only
    Output<Buffer<float, 2>> output{"output"};

    void generate() {
        Func source = part == Part::Interior ? Func(image)
                                             : extended(image, image.width(), image.height(), boundary, fillvalue);
        const int taps = fixed_taps();
        if (taps > 0) {
            // Fixed size: the sum is written out tap by tap; the kernel
            // values are loop invariant and stay in registers.
            kernel.dim(0).set_bounds(0, taps);
            kernel.dim(1).set_bounds(0, taps);
            std::vector<Expr> terms;
            for (int j = 0; j < taps; j++)
                for (int k = 0; k < taps; k++) terms.push_back(kernel(k, j) * source(x + offset_x - k, y + offset_y - j));
            output(x, y) = tree_sum(terms);
        } else {
            // Edges stage the rows a task reads, extended past the image
            // once, so the kernel loop reads plain memory with no edge tests.
            if (part == Part::Edges) {
                padded(x, y) = source(x, y);
                source = padded;
            }
            r = RDom(0, kernel.width(), 0, kernel.height(), "r");
            accumulator(x, y) = 0.0f;
            accumulator(x, y) += kernel(r.x, r.y) * source(x + offset_x - r.x, y + offset_y - r.y);
            output(x, y) = accumulator(x, y);
        }
    }

    void schedule() {
        const int V = get_target().natural_vector_size<float>();
        const bool interior = part == Part::Interior;
        if (fixed_taps() > 0) {
            // Two vectors per iteration hide FMA latency; narrower outputs
            // (thin edge bands) take the scalar loop.
            const int width = 2 * V;
            auto rows = [&](Stage s) {
                s.split(y, yo, yi, kRowsPerTask, TailStrategy::GuardWithIf).parallel(yo);
                s.specialize(output.width() >= width).vectorize(x, width);
            };
            if (interior) rows(output);
            else for_each_boundary(output, boundary, rows);
            return;
        }
        // Register blocking: kBlocks vector accumulators per tile, the kernel
        // loop inside, each tap broadcast once per tile.
        const int tile = kBlocks * V;
        auto tiles = [&](Stage s) {
            s.split(y, yo, yi, kRowsPerTask, TailStrategy::GuardWithIf).parallel(yo);
            if (interior) {
                // At least kMinInteriorWidth columns: whole tiles, the last
                // one shifted left, never reading past the interior.
                s.split(x, xo, xi, tile, TailStrategy::ShiftInwards).vectorize(xi, V);
            } else {
                s.specialize(output.width() >= tile)
                    .split(x, xo, xi, tile, TailStrategy::ShiftInwards)
                    .vectorize(xi, V);
                // Narrow bands store one value at a time: masked vector
                // stores are microcoded and slow on AMD cores.
                s.split(x, xo, xi, tile, TailStrategy::GuardWithIf);
            }
        };
        if (interior) {
            tiles(output);
            accumulator.compute_at(output, xo).vectorize(x, V).unroll(x);
        } else {
            for_each_boundary(output, boundary, tiles);
            for_each_boundary(padded, boundary, [&](Stage s) { s.vectorize(x, V); });
            padded.compute_at(output, yo);
            // Always a whole tile, even for the last, narrower one: the
            // accumulators are then a fixed set of registers.
            accumulator.compute_at(output, xo).bound_extent(x, tile).vectorize(x, V).unroll(x);
        }
        accumulator.update().reorder(x, r.x, r.y, y).vectorize(x, V).unroll(x);
    }

private:
    // 8 accumulators leave AVX2's 16 registers room for a broadcast tap.
    static constexpr int kBlocks = 8;
    Var x{"x"}, y{"y"}, xo{"xo"}, xi{"xi"}, yo{"yo"}, yi{"yi"};
    Func padded{"padded"}, accumulator{"accumulator"};
    RDom r;   // the kernel's taps, for kernel_size=any

    int fixed_taps() const {
        switch (kernel_size) {
        case KernelSize::K2x2: return 2;
        case KernelSize::K3x3: return 3;
        default: return 0;
        }
    }
};

// A rank-1 kernel column_taps (x) row_taps: a horizontal pass over the
// image, then a vertical pass over its result: KH+KW multiply-adds per pixel
// instead of KH*KW (20 instead of 100 for the notebook's 10x10 box blur).
class ClassicConv2DSeparable : public Generator<ClassicConv2DSeparable> {
public:
    GeneratorParam<Part> part{"part", Part::Interior, kParts};

    Input<Buffer<float, 2>> image{"image"};
    Input<Buffer<float, 1>> column_taps{"column_taps"};   // KH taps, along y
    Input<Buffer<float, 1>> row_taps{"row_taps"};         // KW taps, along x
    Input<int32_t> offset_x{"offset_x"};
    Input<int32_t> offset_y{"offset_y"};
    Input<int32_t> boundary{"boundary"};                  // edges only
    Input<float> fillvalue{"fillvalue"};                  // edges only
    Output<Buffer<float, 2>> output{"output"};

    void generate() {
        Func source = image;
        if (part == Part::Edges) {
            padded(x, y) = extended(image, image.width(), image.height(), boundary, fillvalue)(x, y);
            source = padded;
        }
        rk = RDom(0, row_taps.width(), "rk");
        horizontal_sum(x, y) = 0.0f;
        horizontal_sum(x, y) += row_taps(rk) * source(x + offset_x - rk, y);
        horizontal(x, y) = horizontal_sum(x, y);
        rj = RDom(0, column_taps.width(), "rj");
        vertical_sum(x, y) = 0.0f;
        vertical_sum(x, y) += column_taps(rj) * horizontal(x, y + offset_y - rj);
        output(x, y) = vertical_sum(x, y);
    }

    void schedule() {
        const int V = get_target().natural_vector_size<float>();
        const int tile = kBlocks * V;
        if (part == Part::Interior) {
            // Strips of whole rows. The horizontal pass slides down each
            // strip one row at a time into a circular buffer of about KH
            // rows, so it runs once per image row (plus KH-1 per strip) and
            // reads the image as long sequential rows, which the prefetchers
            // follow. At least kMinInteriorWidth columns: whole tiles, the
            // last one shifted left, never reading past the interior.
            Func(output)
                .split(y, yo, yi, kStripRows, TailStrategy::GuardWithIf)
                .split(x, vx, vxi, tile, TailStrategy::ShiftInwards)
                .reorder(vxi, vx, yi, yo)
                .vectorize(vxi, V)
                .parallel(yo);
            horizontal.store_at(output, yo).compute_at(output, yi);
        } else {
            // Edge bands: tiles of kTileColumns x kTileRows outputs, whose
            // extended input and horizontal pass (plus KH-1 rows and KW-1
            // columns of halo) stay in L2 while the vertical pass reads them.
            auto tiles = [&](Stage s, bool wide) {
                const TailStrategy tail = wide ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
                s.split(y, yo, yi, kTileRows, TailStrategy::GuardWithIf)
                    .split(x, xo, xi, kTileColumns, tail)
                    .split(xi, vx, vxi, tile, tail)
                    .reorder(vxi, vx, yi, xo, yo)
                    .parallel(yo);
                // Narrow bands store one value at a time: masked vector
                // stores are microcoded and slow on AMD cores.
                if (wide) s.vectorize(vxi, V);
            };
            for_each_boundary(output, boundary, [&](Stage s) {
                tiles(s.specialize(output.width() >= kTileColumns), true);
                tiles(s, false);
            });
            for_each_boundary(padded, boundary, [&](Stage s) { s.vectorize(x, V); });
            padded.compute_at(output, xo);
            horizontal.compute_at(output, xo);
        }
        horizontal.split(x, vx, vxi, tile).vectorize(vxi, V).unroll(vxi);
        // Both passes: a tile of vector accumulators in registers, taps inside.
        horizontal_sum.compute_at(horizontal, vx).bound_extent(x, tile).vectorize(x, V).unroll(x);
        horizontal_sum.update().reorder(x, rk, y).vectorize(x, V).unroll(x);
        vertical_sum.compute_at(output, vx).bound_extent(x, tile).vectorize(x, V).unroll(x);
        vertical_sum.update().reorder(x, rj, y).vectorize(x, V).unroll(x);
    }

private:
    static constexpr int kBlocks = 8;
    static constexpr int kTileColumns = kMinInteriorWidth;
    static constexpr int kTileRows = 64;
    static constexpr int kStripRows = 128;
    Var x{"x"}, y{"y"}, xo{"xo"}, xi{"xi"}, yo{"yo"}, yi{"yi"}, vx{"vx"}, vxi{"vxi"};
    Func padded{"padded"}, horizontal_sum{"horizontal_sum"}, horizontal{"horizontal"}, vertical_sum{"vertical_sum"};
    RDom rk, rj;   // row taps (along x), column taps (along y)
};

}  // namespace

HALIDE_REGISTER_GENERATOR(ClassicConv2D, classic_conv2d)
HALIDE_REGISTER_GENERATOR(ClassicConv2DSeparable, classic_conv2d_separable)
