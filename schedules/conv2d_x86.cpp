// conv2d_direct_x86: direct convolution with register blocking.
//
// Loop nest ("vectorize": "c"), per output row y of image n (parallel):
//   for co block of V*block_c channels:        (V = floats per vector)
//     for xo tile of block_x columns:
//       acc[block_x][block_c] = bias                      (registers)
//       for ky, kx, ci: acc[x][v] += in(ci, x+kx, y+ky) * W(v, ci, kx, ky)
//       store activation(acc)
// AVX2 has 16 vector registers: block_c=2, block_x=5 uses 10 accumulators,
// 2 weight vectors and a broadcast. AVX-512 has 32: block_c=4, block_x=6
// uses 24 + 4 + 1.
#include "convpipe/error.h"
#include "convpipe/schedule.h"

namespace convpipe::schedule {

using namespace Halide;

nlohmann::json Conv2DParams::to_json() const {
    return {{"template", "conv2d_direct_x86"},
            {"vectorize", vectorize},
            {"block_c", block_c},
            {"block_x", block_x},
            {"parallel", parallel}};
}

void Conv2DParams::update_from(const nlohmann::json &j, const std::string &where) {
    if (!j.is_object()) throw SpecError(where + ": expected an object of schedule parameters");
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string &k = it.key();
        const nlohmann::json &v = it.value();
        auto positive = [&](int &out) {
            if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 64)
                throw SpecError(where + "." + k + ": expected an integer from 1 to 64, got " + v.dump());
            out = v.get<int>();
        };
        if (k == "template") {
            if (v != "conv2d_direct_x86")
                throw SpecError(where + ".template: unknown template " + v.dump() + " (known: conv2d_direct_x86)");
        } else if (k == "vectorize") {
            if (v != "c" && v != "x") throw SpecError(where + ".vectorize: expected \"c\" or \"x\", got " + v.dump());
            vectorize = v.get<std::string>();
        } else if (k == "block_c") {
            positive(block_c);
        } else if (k == "block_x") {
            positive(block_x);
        } else if (k == "parallel") {
            if (!v.is_boolean()) throw SpecError(where + ".parallel: expected true or false, got " + v.dump());
            parallel = v.get<bool>();
        } else {
            throw SpecError(where + ": unknown schedule parameter '" + k +
                            "' (known: template, vectorize, block_c, block_x, parallel)");
        }
    }
}

Conv2DParams conv2d_heuristic(const graph::Layer &layer, const Target &target) {
    const int V = target.natural_vector_size<float>();
    const int registers = target.has_feature(Target::AVX512) ? 32 : 16;
    const int64_t F = layer.conv.filters;
    Conv2DParams p;
    if (F >= V) {
        p.vectorize = "c";
        p.block_c = static_cast<int>(std::min<int64_t>(registers == 32 ? 4 : 2, F / V));
        // Leave room for block_c weight vectors and one broadcast.
        int accumulators = registers - p.block_c - 1 - (registers == 32 ? 3 : 1);
        p.block_x = std::max(1, std::min(8, accumulators / p.block_c));
    } else {
        p.vectorize = "x";
        p.block_c = 1;
        p.block_x = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(4, (registers - 4) / F)));
    }
    return p;
}

void apply_conv2d(lower::LayerStage &s, Func store, bool is_output, const Conv2DParams &p, const Target &target) {
    const lower::Dims &d = lower::dims();
    const int V = target.natural_vector_size<float>();
    const int64_t F = s.layer->conv.filters;
    const int64_t C = s.layer->in_channels;
    Var co("co"), ci("ci"), xo("xo"), xi("xi"), yn("yn");
    RVar rc = s.r.x, rkx = s.r.y, rky = s.r.z;

    // The padded input is materialised once: a cheap pass next to the
    // convolution, and it makes every read in the inner loop unconditional.
    s.padded.compute_root();
    if (C >= V)
        s.padded.vectorize(d.c, V, C % V ? TailStrategy::GuardWithIf : TailStrategy::Auto);
    else
        s.padded.vectorize(d.x, V);
    s.padded.fuse(d.y, d.n, yn);
    if (p.parallel) s.padded.parallel(yn);

    if (!is_output) store.compute_root();

    if (p.vectorize == "c" && F >= V) {
        const int cb = V * std::max(1, std::min<int>(p.block_c, static_cast<int>(F / V)));
        const int bx = p.block_x;
        auto tile = [&](Stage st, int x_factor) {
            st.split(d.c, co, ci, cb, TailStrategy::ShiftInwards)
                .split(d.x, xo, xi, x_factor, TailStrategy::ShiftInwards)
                .reorder(ci, xi, xo, co, d.y, d.n)
                .vectorize(ci, V)
                .unroll(ci)
                .unroll(xi)
                .fuse(d.y, d.n, yn);
            if (p.parallel) st.parallel(yn);
        };
        if (is_output && bx > 1) {
            // Output buffers cannot grow: narrow images take the 1-column tile.
            tile(store.specialize(store.output_buffer().dim(1).extent() >= bx), bx);
            tile(store, 1);
        } else {
            tile(store, bx);
        }
        s.conv.compute_at(store, xo).vectorize(d.c, V).unroll(d.c).unroll(d.x);
        s.conv.update()
            .reorder(d.c, d.x, rc, rkx, rky, d.y, d.n)
            .vectorize(d.c, V)
            .unroll(d.c)
            .unroll(d.x);
    } else {
        // Fewer filters than a vector holds: vectorize across output columns,
        // every channel of the tile unrolled.
        const int xw = V * p.block_x;
        auto tile = [&](Stage st, int x_factor, bool vec) {
            st.split(d.x, xo, xi, x_factor, TailStrategy::ShiftInwards).reorder(d.c, xi, xo, d.y, d.n);
            if (vec) st.vectorize(xi, V).unroll(d.c);
            st.fuse(d.y, d.n, yn);
            if (p.parallel) st.parallel(yn);
        };
        store.bound(d.c, 0, static_cast<int>(F));
        if (is_output) {
            tile(store.specialize(store.output_buffer().dim(1).extent() >= xw), xw, true);
            tile(store, 1, false);
        } else {
            tile(store, xw, true);
        }
        s.conv.compute_at(store, xo).reorder(d.x, d.c).vectorize(d.x, V).unroll(d.c);
        s.conv.update().reorder(d.x, d.c, rc, rkx, rky, d.y, d.n).vectorize(d.x, V).unroll(d.c);
    }
}

}  // namespace convpipe::schedule
