#pragma once
// The graph IR: a pipeline spec parsed, validated and shape-checked. Both the
// compiler (which lowers it to Halide) and the runtime (which checks inputs
// and sizes outputs of linked pipelines) work from this one description.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "convpipe/tensor.h"

namespace convpipe::graph {

enum class Activation {
    Linear, Relu, Sigmoid, Tanh, Relu6, LeakyRelu, Elu, Selu, Gelu, Swish,
    Softplus, Softsign, HardSigmoid, Exponential, Abs,
};
// Keras's name ("relu", "leaky_relu", ...); swish is also accepted as "silu".
const char *activation_name(Activation a);
std::optional<Activation> activation_from_name(const std::string &name);

enum class Padding { Valid, Same };

// Conv2D is the core. The others are Keras's Add and Activation layers, and
// two image steps the seed notebook uses: ChannelMean (grayscale: the mean
// over channels, C -> 1) and MinMaxNormalization (each image mapped to [0,1]
// by its own min and max; a constant image gives 0).
enum class OpKind { Conv2D, ChannelMean, MinMaxNormalization, Add, Activation };
const char *op_name(OpKind kind);

// A weight is baked into the pipeline or is an extra input given at run time
// (input name "<layer>.kernel" / "<layer>.bias"). A graph read back from a
// generated library knows baked weights' shapes but not their values.
struct Weight {
    Shape shape;
    bool baked = false;
    Tensor value;         // baked values, when known
    bool at_run_time() const { return !baked; }
};

struct Conv2D {
    int64_t filters = 0;
    int kernel_h = 0, kernel_w = 0;
    int stride_h = 1, stride_w = 1;
    int dilation_h = 1, dilation_w = 1;
    int64_t groups = 1;
    Padding padding = Padding::Valid;
    bool use_bias = true;
    Activation activation = Activation::Linear;
    float alpha = 0.2f;   // leaky_relu's negative slope (Keras 3 default)
    Weight kernel;        // (KH, KW, C_in/groups, filters)
    Weight bias;          // (filters,), only when use_bias
};

// One value flowing through the graph: NHWC; -1 marks a size decided at run time.
struct Value {
    std::string name;
    Shape shape;          // [N, H, W, C]
};

struct Layer {
    std::string name;
    OpKind kind = OpKind::Conv2D;
    std::vector<std::string> inputs;  // names of graph inputs or earlier layers
    Conv2D conv;                      // Conv2D only
    Activation activation = Activation::Linear;   // Activation layer only
    float alpha = 0.2f;
    Value output;                     // shape inferred at parse time
    Shape input_shape;                // the (first) input's NHWC shape, -1 where decided at run time
    int64_t in_channels = 0;
};

// Sizes of one spatial axis through a conv: TensorFlow's rules.
struct SpatialWindow {
    int kernel = 1, stride = 1, dilation = 1;
    Padding padding = Padding::Valid;
    int64_t output_size(int64_t input_size) const;   // <= 0 when too small
    int64_t pad_before(int64_t input_size) const;    // 'same' only, else 0
    int64_t extent() const { return int64_t(kernel - 1) * dilation + 1; }
    // Input pixels that `outputs` consecutive outputs read.
    int64_t input_span(int64_t outputs) const { return (outputs - 1) * stride + extent(); }
    // Distinct input pixels they read: fewer than the span where the stride
    // or the dilation skips pixels (a 1x1 window at stride 2 reads every
    // other one).
    int64_t pixels_read(int64_t outputs) const;
};

// A conv's windows along rows (h) and columns (w).
SpatialWindow window_h(const Conv2D &conv);
SpatialWindow window_w(const Conv2D &conv);

// Whether a conv can read outside its input ('same' with a window wider than
// one pixel); otherwise its reads are all inside and need no zeros.
bool needs_zero_padding(const Conv2D &conv);

struct Graph {
    std::string name;
    std::string source;                 // where it came from, for messages
    std::vector<Value> inputs;          // data inputs, in order
    std::vector<Layer> layers;          // in order; a layer reads only earlier ones
    std::vector<std::string> outputs;   // layer names

    const Layer *find_layer(const std::string &name) const;
    const Value &value(const std::string &name) const;   // an input or a layer's output

    // Every argument a caller passes, in call order: the data inputs, then
    // each run-time weight in layer order (kernel before bias).
    std::vector<Value> call_inputs() const;
    std::vector<Value> output_values() const;

    // Concrete output shapes for concrete input shapes (one per call input,
    // NHWC). Throws Error naming the input and what was expected when a shape
    // does not fit (wrong channels, too small for a 'valid' window, ...).
    std::vector<Shape> infer_output_shapes(const std::vector<Shape> &call_input_shapes) const;

    // Multiply-adds x 2 for the given input shapes.
    double flops(const std::vector<Shape> &call_input_shapes) const;
    int64_t parameter_count() const;
};

// Parses a spec. base_dir resolves {"npy": ...} weight paths. Throws
// SpecError: "<source>: layers[0].kernel_size: expected 2 positive integers, got [0, 2]".
Graph parse_spec(const std::string &json_text, const std::string &source, const std::string &base_dir);
Graph load_spec(const std::string &path);
// Reads back to_json(graph, false): baked weights become shape-only placeholders.
Graph parse_embedded(const std::string &json_text, const std::string &source);

// The graph as JSON. Without weights it is what a generated library embeds
// so the runtime can check and size its calls; with weights it round-trips.
std::string to_json(const Graph &graph, bool include_weights);

// Halide-safe identifier for a call argument ("conv1.kernel" -> "conv1__kernel").
std::string argument_identifier(const std::string &name);

}  // namespace convpipe::graph
