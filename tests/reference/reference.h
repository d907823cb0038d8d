#pragma once
// The reference implementation: plain loops and double accumulation, written
// to be obviously right rather than fast. Tests only; it is the oracle every
// compiled pipeline (any schedule, any target) is compared against, and it is
// itself pinned to Keras by the golden data in tests/golden.
#include <cstdint>
#include <vector>

#include "convpipe/graph.h"
#include "convpipe/tensor.h"

namespace convpipe::reference {

// Runs the whole graph. call_inputs follow g.call_inputs(): the data inputs
// (NHWC; 2-D HW and 3-D HWC are read as N=1), then each run-time weight in
// layer order, kernel before bias, in Keras layouts. Baked weights come from
// the graph. Returns one tensor per g.outputs, in order. Throws convpipe::Error
// when the inputs do not fit the graph.
std::vector<Tensor> run(const graph::Graph &g, const std::vector<Tensor> &call_inputs);

// One Conv2D layer with Keras/TensorFlow semantics (padding, strides,
// dilation, groups, bias, activation). input is NHWC, kernel
// (KH, KW, C_in/groups, filters), bias (filters,) or nullptr when the layer
// has none.
Tensor conv2d(const Tensor &input, const graph::Conv2D &conv, const Tensor &kernel, const Tensor *bias);

// Activation, Add, ChannelMean and MinMaxNormalization layers (NHWC inputs).
Tensor simple_layer(const graph::Layer &layer, const std::vector<const Tensor *> &inputs);

// Keras 3's activation functions; alpha is leaky_relu's negative slope.
double activate(graph::Activation a, double x, double alpha = 0.2);

// Uniform values in [lo, hi) from std::mt19937(seed), the same on every
// platform (no std::uniform_real_distribution, whose output varies).
Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace convpipe::reference
