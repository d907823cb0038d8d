// Graph IR -> Halide algorithm. One definition per op, shared by AOT and JIT.
#include "convpipe/lower.h"

#include "convpipe/error.h"
#include "convpipe/layout.h"

namespace convpipe::lower {

using namespace Halide;
using graph::Activation;

const Dims &dims() {
    static const Dims d;
    return d;
}

namespace {

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): Halide has no erf.
Expr erf_approx(Expr v) {
    Expr a = abs(v);
    Expr t = 1.0f / (1.0f + 0.3275911f * a);
    Expr poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    Expr e = 1.0f - poly * exp(-a * a);
    return select(v < 0, -e, e);
}

Expr sigmoid(Expr v) { return 1.0f / (1.0f + exp(-v)); }

}  // namespace

Expr activate(Activation act, float alpha, Expr v) {
    switch (act) {
    case Activation::Linear: return v;
    case Activation::Relu: return max(v, 0.0f);
    case Activation::Sigmoid: return sigmoid(v);
    case Activation::Tanh: return tanh(v);
    case Activation::Relu6: return clamp(v, 0.0f, 6.0f);
    case Activation::LeakyRelu: return select(v >= 0, v, alpha * v);
    case Activation::Elu: return select(v > 0, v, exp(v) - 1.0f);
    case Activation::Selu: {
        const float scale = 1.0507009873554805f, a = 1.6732632423543772f;
        return scale * select(v > 0, v, a * (exp(v) - 1.0f));
    }
    case Activation::Gelu: return 0.5f * v * (1.0f + erf_approx(v * 0.70710678118654752f));
    case Activation::Swish: return v * sigmoid(v);
    // Stable form: max(v,0) + log(1 + exp(-|v|)) never overflows.
    case Activation::Softplus: return max(v, 0.0f) + log(1.0f + exp(-abs(v)));
    case Activation::Softsign: return v / (1.0f + abs(v));
    case Activation::HardSigmoid: return clamp(v + 3.0f, 0.0f, 6.0f) / 6.0f;
    case Activation::Exponential: return exp(v);
    case Activation::Abs: return abs(v);
    }
    throw Error("unknown activation");
}

Buffer<float> weight_buffer(const graph::Weight &w, const std::string &name) {
    if (w.value.empty()) throw Error(name + ": baked weight has no values");
    std::vector<int> sizes(w.shape.rbegin(), w.shape.rend());
    Buffer<float> b(sizes, name);
    std::copy(w.value.data(), w.value.data() + w.value.size(), b.data());
    return b;
}

namespace {

LayerStage lower_conv(const graph::Layer &layer, const InputBinding &in, const InputBinding *kernel_in,
                     const InputBinding *bias_in, const graph::KernelLayout &layout, const SumForm &form) {
    const bool flat = form.flat_positions;
    const Dims &d = dims();
    const graph::Conv2D &p = layer.conv;
    LayerStage s;
    s.layer = &layer;
    const std::string &name = layer.name;

    Expr in_w = in.extent[1], in_h = in.extent[2];
    const graph::SpatialWindow wh = graph::window_h(p), ww = graph::window_w(p);
    Expr pad_top = 0, pad_left = 0;
    if (p.padding == graph::Padding::Same) {
        s.out_height = (in_h + p.stride_h - 1) / p.stride_h;
        s.out_width = (in_w + p.stride_w - 1) / p.stride_w;
        // TensorFlow: the smaller half of the total padding goes before.
        pad_top = max((s.out_height - 1) * p.stride_h + int(wh.extent()) - in_h, 0) / 2;
        pad_left = max((s.out_width - 1) * p.stride_w + int(ww.extent()) - in_w, 0) / 2;
    } else {
        s.out_height = (in_h - int(wh.extent())) / p.stride_h + 1;
        s.out_width = (in_w - int(ww.extent())) / p.stride_w + 1;
    }

    // Zeros outside the image; reads are clamped so that a schedule may
    // compute a tile that overruns the edge without touching foreign memory.
    // The image's values are marked likely, and the column and row tests
    // kept apart: a schedule that reads the input in place lets Halide split
    // its loops into edges and an interior that reads plain memory.
    // Schedules that copy the padded input turn that splitting off for the
    // copy, except along rows of stems. The row test is written y == clamp(y)
    // because on square images the simplifier merges x < W && y < W into
    // max(x, y) < W, and Halide then split the stems' row copy at x = y,
    // gathering the columns before it (3x3/2 on 300x300x3, 1 thread: 0.46
    // ms vs 0.52).
    // Windows one column wide read no padding left or right of the image
    // ('same' adds no columns there, whatever the size and stride): where
    // the sum form says so (SumForm::clamps_columns), the column test is
    // left out, and columns past the image, computed but never stored,
    // read clamped.
    if (form.clamps_columns && ww.extent() > 1)
        throw Error(name + ": columns read clamped need a window one column wide");
    Expr xc = clamp(d.x, 0, in_w - 1), yc = clamp(d.y, 0, in_h - 1);
    s.padded = Func(name + "_padded");
    if (graph::needs_zero_padding(p)) {
        Expr value = select(d.y == yc, likely(in.func(d.c, xc, yc, d.n)), 0.0f);
        if (!form.clamps_columns) value = select(d.x >= 0 && d.x < in_w, value, 0.0f);
        s.padded(d.c, d.x, d.y, d.n) = value;
    } else {
        s.padded(d.c, d.x, d.y, d.n) = in.func(d.c, xc, yc, d.n);
    }

    const int64_t cin_group = layer.in_channels / p.groups;
    const int64_t f_group = p.filters / p.groups;
    const bool rotated = form.rotates_groups;
    if (rotated && (p.groups == 1 || cin_group != f_group || flat || layout.rotated_group != cin_group))
        throw Error(name + ": sums over rotated groups need groups of as many filters as input channels, a "
                           "kernel rotated within them, and positions in rows");
    const int G = static_cast<int>(cin_group);
    const bool padded_groups = form.pads_groups;
    if (padded_groups && (p.groups == 1 || rotated || flat || !layout.pads_groups() || layout.groups != p.groups ||
                          layout.group_filters < f_group))
        throw Error(name + ": padded groups need a grouped layer, a kernel padded in its groups, and positions "
                           "in rows");
    // Filters per group as the sum runs over them.
    const int Fg = padded_groups ? layout.group_filters : static_cast<int>(f_group);
    s.group_filters = padded_groups ? Fg : 0;

    // The kernel as kernel(f, ci, kx, ky), whatever its storage: a run-time
    // input or a baked buffer, in Keras's layout or another (laid out here,
    // at generation time, when baked). Summed over rotated groups it is
    // kernel(c, k, kx, ky), as its layout stores it.
    const int kernel_block = layout.block;
    s.kernel_block = kernel_block;
    Func stored;
    if (kernel_in) {
        stored = kernel_in->func;
    } else if (!layout.is_keras()) {
        Tensor packed(graph::packed_kernel_shape(p.kernel.shape, layout));
        graph::pack_kernel(p.kernel.value, layout, packed);
        stored = Func(name + "_kernel_packed");
        stored(_) = weight_buffer(graph::Weight{packed.shape(), true, packed}, name + "_kernel_data")(_);
    } else {
        stored = Func(name + "_kernel_stored");
        stored(_) = weight_buffer(p.kernel, name + "_kernel_data")(_);
    }
    s.kernel = Func(name + "_kernel");
    if (kernel_block > 0) {
        Var f("f"), c("ci"), kx("kx"), ky("ky");
        s.kernel(f, c, kx, ky) = stored(f % kernel_block, c, kx, ky, f / kernel_block);
    } else {
        s.kernel(_) = stored(_);
    }
    if (p.use_bias) {
        if (bias_in) s.bias = bias_in->func;
        else {
            s.bias = Func(name + "_bias");
            s.bias(_) = weight_buffer(p.bias, name + "_bias_data")(_);
        }
        // A filter count that is not a multiple of the kernel's block: the
        // packed kernel holds zero filters up to the next whole block, and
        // the bias reads zeros there too, so that register blocks may
        // compute whole blocks (their extra channels are never stored).
        // (Padded groups add the bias to the group's own filters only.)
        if (kernel_block > 0 && p.filters % kernel_block != 0 && !padded_groups) {
            Func stored_bias = s.bias;
            const int F = static_cast<int>(p.filters);
            s.bias = Func(name + "_bias_padded");
            s.bias(d.c) = select(d.c < F, stored_bias(clamp(d.c, 0, F - 1)), 0.0f);
        }
    }

    // Summed over rotated groups, the group's channels are a pure dimension
    // (k), and r.x is one step.
    s.r = RDom(0, rotated ? 1 : int(cin_group), 0, p.kernel_w, 0, p.kernel_h, name + "_r");
    Expr ci = s.r.x;
    if (p.groups > 1) ci = (d.c / Fg) * int(cin_group) + s.r.x;
    // Flat positions: the output column and row of position pos.
    const int64_t width = layer.output.shape[2];
    if (flat && width <= 0) throw Error(name + ": flat positions need an output width the spec fixes");
    s.flat_width = flat ? static_cast<int>(width) : 0;
    Expr x = flat ? d.pos % s.flat_width : Expr(d.x);
    Expr y = flat ? d.pos / s.flat_width : Expr(d.y);
    Expr xi = x * p.stride_w + s.r.y * p.dilation_w - pad_left;
    Expr yi = y * p.stride_h + s.r.z * p.dilation_h - pad_top;
    // Window rows over the zero padding add nothing: skipped where the
    // schedule's blocks let Halide trim the window's row loop for them.
    if (form.skips_padding_rows) s.r.where(yi >= 0 && yi < in_h);
    // The columns likewise where blocks span whole rows, or where a row's
    // few blocks are unrolled (unrolls_column_blocks). Each of a block's
    // unrolled positions has its own test there, marked likely: Halide's
    // loop partitioning then peels the window's first and last columns,
    // each computed without the positions that would read the padding,
    // and the columns between run with no test.
    if (form.skips_padding_columns) s.r.where(likely(xi >= 0 && xi < in_w));

    s.conv = Func(name + "_conv");
    s.out = Func(name);
    if (rotated) {
        // Lane c (input channel j = c % G of group g) sums, in sum k, its
        // products with filter (j + k) % G of g, so every lane of a vector
        // multiplies its own input lane: dense loads, where the plain form
        // has each filter's lanes read the group's channel, a gather of G
        // channels. Filter j' of g then adds sum k of lane (j' - k) % G: G
        // vectors rotated within groups, once per output.
        s.conv(d.c, d.k, d.x, d.y, d.n) = select(d.k == 0, p.use_bias ? s.bias(d.c) : Expr(0.0f), 0.0f);
        s.conv(d.c, d.k, d.x, d.y, d.n) += s.kernel(d.c, d.k, s.r.y, s.r.z) * s.padded(d.c, xi, yi, d.n);
        s.rotated_sums = Func(name + "_rotated_sums");
        s.rotated_sums(d.c, d.k, d.x, d.y, d.n) = s.conv(d.c / G * G + (d.c % G + G - d.k) % G, d.k, d.x, d.y, d.n);
        Expr sum = s.rotated_sums(d.c, 0, d.x, d.y, d.n);
        for (int k = 1; k < G; k++) sum += s.rotated_sums(d.c, k, d.x, d.y, d.n);
        s.out(d.c, d.x, d.y, d.n) = activate(p.activation, p.alpha, sum);
        return s;
    }
    std::vector<Var> at = flat ? std::vector<Var>{d.c, d.pos, d.n} : std::vector<Var>{d.c, d.x, d.y, d.n};
    std::vector<Expr> at_expr(at.begin(), at.end());
    s.conv(at) = p.use_bias && !padded_groups ? s.bias(d.c) : Expr(0.0f);
    s.conv(at_expr) += s.kernel(d.c, s.r.x, s.r.y, s.r.z) * s.padded(ci, xi, yi, d.n);
    if (padded_groups) {
        // Output channel c is filter c % f of its group, f filters per
        // group, which the sum holds at c / f * Fg + c % f.
        const int f = static_cast<int>(f_group);
        Expr sum = s.conv(d.c / f * Fg + d.c % f, d.x, d.y, d.n);
        if (p.use_bias) sum = s.bias(d.c) + sum;
        s.out(d.c, d.x, d.y, d.n) = activate(p.activation, p.alpha, sum);
        return s;
    }

    Expr sum = flat ? s.conv(d.c, d.x + s.flat_width * d.y, d.n) : s.conv(d.c, d.x, d.y, d.n);
    s.out(d.c, d.x, d.y, d.n) = activate(p.activation, p.alpha, sum);
    return s;
}

}  // namespace

graph::KernelLayout call_input_layout(const graph::Value &v, const KernelLayouts &layouts) {
    const std::string suffix = ".kernel";
    if (v.name.size() > suffix.size() && v.name.compare(v.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        auto it = layouts.find(v.name.substr(0, v.name.size() - suffix.size()));
        if (it != layouts.end()) return it->second;
    }
    return {};
}

Shape storage_shape(const graph::Value &v, const KernelLayouts &layouts) {
    return graph::packed_kernel_shape(v.shape, call_input_layout(v, layouts));
}

InputBinding bind_input(ImageParam in, const Shape &shape) {
    InputBinding b{Func(in), {}};
    int rank = static_cast<int>(shape.size());
    int64_t stride = 1;
    for (int dim = 0; dim < rank; dim++) {
        int64_t size = shape[rank - 1 - dim];
        in.dim(dim).set_min(0);
        if (stride > 0) in.dim(dim).set_stride(static_cast<int>(stride));
        if (size > 0) {
            in.dim(dim).set_extent(static_cast<int>(size));
            b.extent.push_back(static_cast<int>(size));
            stride *= size;
        } else {
            b.extent.push_back(in.dim(dim).extent());
            stride = -1;   // later strides depend on run-time sizes
        }
    }
    return b;
}

void constrain_output(OutputImageParam out, const Shape &shape) {
    // NHWC in Halide's reversed order: c, x, y, n. Sizes fixed by the spec
    // are fixed here too, so Halide sees the exact extents (tiles that fit
    // the image exactly need no shifted last tile).
    for (int dim = 0; dim < 4; dim++) {
        out.dim(dim).set_min(0);
        int64_t size = shape[3 - dim];
        if (size > 0) out.dim(dim).set_extent(static_cast<int>(size));
    }
    out.dim(0).set_stride(1);
    out.dim(1).set_stride(static_cast<int>(shape[3]));
}

namespace {

// The layers other than Conv2D: elementwise or per-image, no windows.
LayerStage lower_simple(const graph::Layer &layer, const std::vector<InputBinding> &ins) {
    const Dims &d = dims();
    LayerStage s;
    s.layer = &layer;
    s.out = Func(layer.name);
    const InputBinding &in = ins.at(0);
    switch (layer.kind) {
    case graph::OpKind::Activation:
        s.out(d.c, d.x, d.y, d.n) = activate(layer.activation, layer.alpha, in.func(d.c, d.x, d.y, d.n));
        break;
    case graph::OpKind::Add: {
        Expr sum = in.func(d.c, d.x, d.y, d.n);
        for (size_t i = 1; i < ins.size(); i++) sum = sum + ins[i].func(d.c, d.x, d.y, d.n);
        s.out(d.c, d.x, d.y, d.n) = sum;
        break;
    }
    case graph::OpKind::ChannelMean: {
        RDom rc(0, static_cast<int>(layer.in_channels), layer.name + "_rc");
        s.out(d.c, d.x, d.y, d.n) = sum(in.func(rc, d.x, d.y, d.n)) / static_cast<float>(layer.in_channels);
        break;
    }
    case graph::OpKind::MinMaxNormalization: {
        RDom r(0, in.extent[0], 0, in.extent[1], 0, in.extent[2], layer.name + "_r");
        Func lo(layer.name + "_min"), hi(layer.name + "_max");
        lo(d.n) = minimum(in.func(r.x, r.y, r.z, d.n));
        hi(d.n) = maximum(in.func(r.x, r.y, r.z, d.n));
        Expr range = hi(d.n) - lo(d.n);
        s.out(d.c, d.x, d.y, d.n) = select(range > 0, (in.func(d.c, d.x, d.y, d.n) - lo(d.n)) / range, 0.0f);
        s.reductions = {lo, hi};
        break;
    }
    case graph::OpKind::Conv2D: break;
    }
    return s;
}

}  // namespace

LoweredGraph lower_graph(const graph::Graph &g, const std::vector<InputBinding> &call_inputs,
                         const KernelLayouts &kernel_layouts, const SumForms &sum_forms) {
    std::vector<graph::Value> call = g.call_inputs();
    if (call.size() != call_inputs.size()) throw Error(g.name + ": lowering got the wrong number of inputs");
    LoweredGraph lg;
    std::map<std::string, const InputBinding *> by_name;
    for (size_t i = 0; i < call.size(); i++) by_name[call[i].name] = &call_inputs[i];
    for (const graph::Value &v : g.inputs) {
        lg.values[v.name] = by_name.at(v.name)->func;
        lg.extents[v.name] = by_name.at(v.name)->extent;
    }
    lg.stages.reserve(g.layers.size());
    for (const graph::Layer &l : g.layers) {
        std::vector<InputBinding> ins;
        for (const std::string &n : l.inputs) ins.push_back({lg.values.at(n), lg.extents.at(n)});
        const InputBinding &in = ins[0];
        if (l.kind == graph::OpKind::Conv2D) {
            auto find = [&](const std::string &n) {
                auto it = by_name.find(n);
                return it == by_name.end() ? nullptr : it->second;
            };
            auto layout = kernel_layouts.find(l.name);
            auto form = sum_forms.find(l.name);
            lg.stages.push_back(lower_conv(l, in, find(l.name + ".kernel"), find(l.name + ".bias"),
                                           layout == kernel_layouts.end() ? graph::KernelLayout{} : layout->second,
                                           form == sum_forms.end() ? SumForm{} : form->second));
            const LayerStage &s = lg.stages.back();
            lg.extents[l.name] = {Expr(int(l.conv.filters)), s.out_width, s.out_height, in.extent[3]};
        } else {
            lg.stages.push_back(lower_simple(l, ins));
            lg.extents[l.name] = in.extent;
            if (l.kind == graph::OpKind::ChannelMean) lg.extents[l.name][0] = Expr(1);
        }
        lg.values[l.name] = lg.stages.back().out;
    }
    return lg;
}

}  // namespace convpipe::lower
