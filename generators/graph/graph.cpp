// Graph IR queries: lookups, call signature, shape inference, costs.
#include "convpipe/graph.h"

#include <algorithm>
#include <sstream>
#include <vector>

#include "convpipe/error.h"

namespace convpipe::graph {

const char *activation_name(Activation a) {
    switch (a) {
    case Activation::Linear: return "linear";
    case Activation::Relu: return "relu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::Relu6: return "relu6";
    case Activation::LeakyRelu: return "leaky_relu";
    case Activation::Elu: return "elu";
    case Activation::Selu: return "selu";
    case Activation::Gelu: return "gelu";
    case Activation::Swish: return "swish";
    case Activation::Softplus: return "softplus";
    case Activation::Softsign: return "softsign";
    case Activation::HardSigmoid: return "hard_sigmoid";
    case Activation::Exponential: return "exponential";
    case Activation::Abs: return "abs";
    }
    return "?";
}

std::optional<Activation> activation_from_name(const std::string &name) {
    for (int i = 0; i <= static_cast<int>(Activation::Abs); i++) {
        auto a = static_cast<Activation>(i);
        if (name == activation_name(a)) return a;
    }
    if (name == "silu") return Activation::Swish;
    return std::nullopt;
}

const char *op_name(OpKind kind) {
    switch (kind) {
    case OpKind::Conv2D: return "Conv2D";
    case OpKind::ChannelMean: return "ChannelMean";
    case OpKind::MinMaxNormalization: return "MinMaxNormalization";
    case OpKind::Add: return "Add";
    case OpKind::Activation: return "Activation";
    }
    return "?";
}

int64_t SpatialWindow::output_size(int64_t in) const {
    if (padding == Padding::Same) return (in + stride - 1) / stride;
    int64_t span = in - extent();
    return span < 0 ? 0 : span / stride + 1;
}

int64_t SpatialWindow::pad_before(int64_t in) const {
    if (padding == Padding::Valid) return 0;
    int64_t out = output_size(in);
    int64_t total = (out - 1) * stride + extent() - in;
    return total > 0 ? total / 2 : 0;
}

int64_t SpatialWindow::pixels_read(int64_t outputs) const {
    if (outputs <= 0) return 0;
    // Contiguous taps that overlap or abut from one output to the next.
    if (dilation == 1 && stride <= kernel) return input_span(outputs);
    if (dilation == 1) return outputs * kernel;
    std::vector<bool> read(static_cast<size_t>(input_span(outputs)), false);
    for (int64_t o = 0; o < outputs; o++)
        for (int i = 0; i < kernel; i++) read[static_cast<size_t>(o * stride + int64_t(i) * dilation)] = true;
    return std::count(read.begin(), read.end(), true);
}

bool needs_zero_padding(const Conv2D &c) {
    return c.padding == Padding::Same && (window_h(c).extent() > 1 || window_w(c).extent() > 1);
}

const Layer *Graph::find_layer(const std::string &n) const {
    for (const Layer &l : layers)
        if (l.name == n) return &l;
    return nullptr;
}

const Value &Graph::value(const std::string &n) const {
    for (const Value &v : inputs)
        if (v.name == n) return v;
    if (const Layer *l = find_layer(n)) return l->output;
    throw Error(name + ": no input or layer named '" + n + "'");
}

std::vector<Value> Graph::call_inputs() const {
    std::vector<Value> all = inputs;
    for (const Layer &l : layers) {
        if (l.kind != OpKind::Conv2D) continue;
        if (l.conv.kernel.at_run_time()) all.push_back({l.name + ".kernel", l.conv.kernel.shape});
        if (l.conv.use_bias && l.conv.bias.at_run_time()) all.push_back({l.name + ".bias", l.conv.bias.shape});
    }
    return all;
}

std::vector<Value> Graph::output_values() const {
    std::vector<Value> out;
    for (const std::string &o : outputs) out.push_back(value(o));
    return out;
}

SpatialWindow window_h(const Conv2D &c) { return {c.kernel_h, c.stride_h, c.dilation_h, c.padding}; }
SpatialWindow window_w(const Conv2D &c) { return {c.kernel_w, c.stride_w, c.dilation_w, c.padding}; }

namespace {

// Concrete shapes of every value, in graph order, for concrete call inputs.
std::vector<std::pair<std::string, Shape>> concrete_shapes(const Graph &g, const std::vector<Shape> &given) {
    std::vector<Value> call = g.call_inputs();
    if (given.size() != call.size()) {
        std::ostringstream msg;
        msg << g.name << ": expected " << call.size() << " input" << (call.size() == 1 ? "" : "s") << " (";
        for (size_t i = 0; i < call.size(); i++) msg << (i ? ", " : "") << call[i].name;
        msg << "), got " << given.size();
        throw Error(msg.str());
    }
    std::vector<std::pair<std::string, Shape>> known;
    for (size_t i = 0; i < call.size(); i++) {
        const Shape &want = call[i].shape;
        const Shape &got = given[i];
        bool ok = want.size() == got.size();
        for (size_t d = 0; ok && d < want.size(); d++) ok = want[d] < 0 ? got[d] > 0 : got[d] == want[d];
        if (!ok) {
            std::string what = i < g.inputs.size() ? "NHWC " : "";
            throw Error(g.name + ": input '" + call[i].name + "' must have " + what + "shape " +
                        shape_to_string(want) + " (-1: any size), got " + shape_to_string(got));
        }
        known.emplace_back(call[i].name, got);
    }
    auto lookup = [&](const std::string &n) -> const Shape & {
        for (auto &k : known)
            if (k.first == n) return k.second;
        throw Error(g.name + ": no value named '" + n + "'");
    };
    for (const Layer &l : g.layers) {
        const Shape &in = lookup(l.inputs.at(0));
        if (l.kind == OpKind::ChannelMean) {
            known.emplace_back(l.name, Shape{in[0], in[1], in[2], 1});
            continue;
        }
        if (l.kind == OpKind::Add) {
            for (size_t i = 1; i < l.inputs.size(); i++)
                if (lookup(l.inputs[i]) != in)
                    throw Error(g.name + ": layer '" + l.name + "' adds '" + l.inputs[0] + "' of shape " +
                                shape_to_string(in) + " and '" + l.inputs[i] + "' of shape " +
                                shape_to_string(lookup(l.inputs[i])) + "; Add needs equal shapes");
        }
        if (l.kind != OpKind::Conv2D) {
            known.emplace_back(l.name, in);
            continue;
        }
        const Conv2D &c = l.conv;
        int64_t h = window_h(c).output_size(in[1]);
        int64_t w = window_w(c).output_size(in[2]);
        if (h <= 0 || w <= 0) {
            std::ostringstream msg;
            msg << g.name << ": layer '" << l.name << "' needs at least " << window_h(c).extent() << "x"
                << window_w(c).extent() << " pixels for its 'valid' " << c.kernel_h << "x" << c.kernel_w
                << " window, got " << in[1] << "x" << in[2] << " (input shape " << shape_to_string(in) << ")";
            throw Error(msg.str());
        }
        known.emplace_back(l.name, Shape{in[0], h, w, c.filters});
    }
    return known;
}

}  // namespace

std::vector<Shape> Graph::infer_output_shapes(const std::vector<Shape> &given) const {
    auto known = concrete_shapes(*this, given);
    std::vector<Shape> out;
    for (const std::string &o : outputs)
        for (auto &k : known)
            if (k.first == o) out.push_back(k.second);
    return out;
}

double Graph::flops(const std::vector<Shape> &given) const {
    auto known = concrete_shapes(*this, given);
    double total = 0;
    for (const Layer &l : layers)
        for (auto &k : known)
            if (k.first == l.name && l.kind == OpKind::Conv2D) {
                const Conv2D &c = l.conv;
                double outputs = double(shape_elements(k.second));
                double macs = double(c.kernel_h) * c.kernel_w * (l.in_channels / c.groups);
                total += outputs * 2 * macs;
            }
    return total;
}

int64_t Graph::parameter_count() const {
    int64_t n = 0;
    for (const Layer &l : layers) {
        if (l.kind != OpKind::Conv2D) continue;
        n += shape_elements(l.conv.kernel.shape);
        if (l.conv.use_bias) n += l.conv.filters;
    }
    return n;
}

std::string argument_identifier(const std::string &n) {
    std::string out;
    for (char ch : n) out += ch == '.' ? std::string("__") : std::string(1, ch);
    return out;
}

}  // namespace convpipe::graph
