#include "reference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>

#include "convpipe/error.h"

namespace convpipe::reference {
namespace {

// Output size and padding before, for one spatial axis, by TensorFlow's rules.
struct Axis {
    int64_t out = 0;
    int64_t pad_before = 0;
};

Axis axis(int64_t in, int kernel, int stride, int dilation, graph::Padding padding) {
    const int64_t extent = int64_t(kernel - 1) * dilation + 1;
    Axis a;
    if (padding == graph::Padding::Valid) {
        a.out = in >= extent ? (in - extent) / stride + 1 : 0;
    } else {
        a.out = (in + stride - 1) / stride;  // ceil(in / stride)
        const int64_t total = std::max<int64_t>((a.out - 1) * stride + extent - in, 0);
        a.pad_before = total / 2;              // the smaller half goes before
    }
    return a;
}

// A data input as NHWC, whatever rank it came in.
Tensor as_nhwc(const Tensor &t) {
    if (t.rank() == 4) return t;
    if (t.rank() == 2 || t.rank() == 3) return t.reshaped(t.nhwc_shape());
    throw Error("reference: expected a 2-D, 3-D or 4-D input, got " + shape_to_string(t.shape()));
}

}  // namespace

double activate(graph::Activation a, double x, double alpha) {
    using graph::Activation;
    switch (a) {
        case Activation::Linear: return x;
        case Activation::Relu: return std::max(x, 0.0);
        case Activation::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
        case Activation::Tanh: return std::tanh(x);
        case Activation::Relu6: return std::min(std::max(x, 0.0), 6.0);
        case Activation::LeakyRelu: return x > 0 ? x : alpha * x;
        case Activation::Elu: return x > 0 ? x : std::expm1(x);  // Keras alpha = 1
        case Activation::Selu: {
            // The constants Keras (and TensorFlow) use.
            const double selu_alpha = 1.6732632423543772848170429916717;
            const double selu_scale = 1.0507009873554804934193349852946;
            return selu_scale * (x > 0 ? x : selu_alpha * std::expm1(x));
        }
        case Activation::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));  // exact, not tanh
        case Activation::Swish: return x / (1.0 + std::exp(-x));
        case Activation::Softplus:  // log(1 + e^x), without overflow for large x
            return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
        case Activation::Softsign: return x / (1.0 + std::abs(x));
        case Activation::HardSigmoid: return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;  // Keras 3
        case Activation::Exponential: return std::exp(x);
        case Activation::Abs: return std::abs(x);
    }
    throw Error("reference: unknown activation");
}

Tensor conv2d(const Tensor &input, const graph::Conv2D &conv, const Tensor &kernel, const Tensor *bias) {
    if (input.rank() != 4) throw Error("reference: conv input must be NHWC, got " + shape_to_string(input.shape()));
    const int64_t N = input.dim(0), H = input.dim(1), W = input.dim(2), C = input.dim(3);
    const int64_t F = conv.filters, G = conv.groups;
    const int KH = conv.kernel_h, KW = conv.kernel_w;
    if (G < 1 || C % G != 0 || F % G != 0)
        throw Error("reference: groups " + std::to_string(G) + " must divide input channels " + std::to_string(C) +
                    " and filters " + std::to_string(F));
    const int64_t C_g = C / G;   // input channels per group
    const int64_t F_g = F / G;   // filters per group
    if (kernel.shape() != Shape{KH, KW, C_g, F})
        throw Error("reference: kernel shape " + shape_to_string(kernel.shape()) + ", expected " +
                    shape_to_string({KH, KW, C_g, F}));
    if (bias && bias->shape() != Shape{F})
        throw Error("reference: bias shape " + shape_to_string(bias->shape()) + ", expected [" + std::to_string(F) + "]");

    const Axis ay = axis(H, KH, conv.stride_h, conv.dilation_h, conv.padding);
    const Axis ax = axis(W, KW, conv.stride_w, conv.dilation_w, conv.padding);
    if (ay.out <= 0 || ax.out <= 0)
        throw Error("reference: input " + shape_to_string(input.shape()) + " is too small for the kernel");

    const float *in = input.data();
    const float *k = kernel.data();
    Tensor output({N, ay.out, ax.out, F});
    float *out = output.data();
    for (int64_t n = 0; n < N; ++n)
        for (int64_t oy = 0; oy < ay.out; ++oy)
            for (int64_t ox = 0; ox < ax.out; ++ox)
                for (int64_t f = 0; f < F; ++f) {
                    const int64_t g = f / F_g;  // the group this filter belongs to
                    double acc = bias ? double(bias->data()[f]) : 0.0;
                    for (int ky = 0; ky < KH; ++ky) {
                        const int64_t iy = oy * conv.stride_h - ay.pad_before + int64_t(ky) * conv.dilation_h;
                        if (iy < 0 || iy >= H) continue;  // zero padding
                        for (int kx = 0; kx < KW; ++kx) {
                            const int64_t ix = ox * conv.stride_w - ax.pad_before + int64_t(kx) * conv.dilation_w;
                            if (ix < 0 || ix >= W) continue;
                            for (int64_t c = 0; c < C_g; ++c) {
                                const double x = in[((n * H + iy) * W + ix) * C + g * C_g + c];
                                const double w = k[((int64_t(ky) * KW + kx) * C_g + c) * F + f];
                                acc += x * w;
                            }
                        }
                    }
                    out[((n * ay.out + oy) * ax.out + ox) * F + f] =
                        float(activate(conv.activation, acc, conv.alpha));
                }
    return output;
}

Tensor simple_layer(const graph::Layer &layer, const std::vector<const Tensor *> &ins) {
    const Tensor &in = *ins.at(0);
    const int64_t N = in.dim(0), H = in.dim(1), W = in.dim(2), C = in.dim(3);
    switch (layer.kind) {
    case graph::OpKind::Activation: {
        Tensor out(in.shape());
        for (int64_t i = 0; i < in.size(); ++i) out.data()[i] = float(activate(layer.activation, in.data()[i], layer.alpha));
        return out;
    }
    case graph::OpKind::Add: {
        Tensor out(in.shape());
        for (int64_t i = 0; i < in.size(); ++i) {
            double sum = 0;
            for (const Tensor *t : ins) {
                if (t->shape() != in.shape()) throw Error("reference: Add of different shapes");
                sum += t->data()[i];
            }
            out.data()[i] = float(sum);
        }
        return out;
    }
    case graph::OpKind::ChannelMean: {
        Tensor out({N, H, W, 1});
        for (int64_t p = 0; p < N * H * W; ++p) {
            double sum = 0;
            for (int64_t c = 0; c < C; ++c) sum += in.data()[p * C + c];
            out.data()[p] = float(sum / double(C));
        }
        return out;
    }
    case graph::OpKind::MinMaxNormalization: {
        Tensor out(in.shape());
        const int64_t per_image = H * W * C;
        for (int64_t n = 0; n < N; ++n) {
            const float *src = in.data() + n * per_image;
            double lo = *std::min_element(src, src + per_image), hi = *std::max_element(src, src + per_image);
            for (int64_t i = 0; i < per_image; ++i)
                out.data()[n * per_image + i] = hi > lo ? float((src[i] - lo) / (hi - lo)) : 0.0f;
        }
        return out;
    }
    case graph::OpKind::Conv2D: break;
    }
    throw Error("reference: " + layer.name + " is not a simple layer");
}

std::vector<Tensor> run(const graph::Graph &g, const std::vector<Tensor> &call_inputs) {
    const std::vector<graph::Value> expected = g.call_inputs();
    if (call_inputs.size() != expected.size())
        throw Error("reference: " + g.name + " takes " + std::to_string(expected.size()) + " inputs, got " +
                    std::to_string(call_inputs.size()));

    // Every named value: data inputs, run-time weights, then layer outputs.
    std::map<std::string, Tensor> values;
    for (size_t i = 0; i < expected.size(); ++i) values[expected[i].name] = call_inputs[i];
    for (const graph::Value &in : g.inputs) values[in.name] = as_nhwc(values.at(in.name));

    auto weight = [&](const graph::Layer &layer, const graph::Weight &w, const char *which) -> const Tensor & {
        if (w.at_run_time()) return values.at(layer.name + "." + which);
        if (w.value.empty()) throw Error("reference: " + layer.name + "." + which + " is baked but has no values");
        return w.value;
    };

    std::string previous = g.inputs.empty() ? std::string() : g.inputs.front().name;
    for (const graph::Layer &layer : g.layers) {
        // A layer without "inputs" reads the one before it (the parser
        // normally fills this in; the fallback keeps hand-built graphs short).
        const std::string &source = layer.inputs.empty() ? previous : layer.inputs.front();
        auto it = values.find(source);
        if (it == values.end()) throw Error("reference: layer " + layer.name + " reads unknown value '" + source + "'");
        if (layer.kind == graph::OpKind::Conv2D) {
            const Tensor &kernel = weight(layer, layer.conv.kernel, "kernel");
            const Tensor *bias = layer.conv.use_bias ? &weight(layer, layer.conv.bias, "bias") : nullptr;
            values[layer.name] = conv2d(it->second, layer.conv, kernel, bias);
        } else {
            std::vector<const Tensor *> ins;
            for (const std::string &n : layer.inputs) ins.push_back(&values.at(n));
            if (ins.empty()) ins.push_back(&it->second);
            values[layer.name] = simple_layer(layer, ins);
        }
        previous = layer.name;
    }

    std::vector<std::string> outputs = g.outputs;
    if (outputs.empty() && !g.layers.empty()) outputs.push_back(g.layers.back().name);
    std::vector<Tensor> result;
    for (const std::string &name : outputs) {
        auto it = values.find(name);
        if (it == values.end()) throw Error("reference: unknown output '" + name + "'");
        result.push_back(it->second);
    }
    return result;
}

Tensor random_tensor(Shape shape, uint32_t seed, float lo, float hi) {
    std::mt19937 gen(seed);
    Tensor t(std::move(shape));
    for (float &v : t.values()) {
        v = float(lo + (double(hi) - lo) * (double(gen()) / 4294967296.0));
        if (v >= hi) v = std::nextafter(hi, lo);  // rounding to float can land on hi
    }
    return t;
}

}  // namespace convpipe::reference
