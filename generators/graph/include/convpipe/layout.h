#pragma once
// Kernel layouts. A Conv2D kernel arrives in Keras's layout,
// [KH, KW, Cin/groups, F]. The x86 direct-convolution template reads it one
// vector of filters at a time, so it may ask for the kernel packed in blocks
// of `block` filters (block = the vector width):
//   packed[ceil(F/block)][KH][KW][Cin/groups][block]
// The filters one vector holds are adjacent, and the reduction (input
// channel, then kx, then ky) walks each block's memory in order. Filters past
// F are zero. Baked weights are packed when the library is generated; run-time
// weights by the runtime, once for weights bound with Pipeline::bind.
#include <cstdint>

#include "convpipe/tensor.h"

namespace convpipe::graph {

// The packed shape of a Keras kernel shape; block 0 means unpacked (the same
// shape back).
Shape packed_kernel_shape(const Shape &keras_shape, int block);
// The same into `out`, without allocating when it already has room.
void packed_kernel_shape(const Shape &keras_shape, int block, Shape &out);

// Packs `keras` (shape [KH, KW, Cin/groups, F]) into `packed`, which must
// already have packed_kernel_shape(keras.shape(), block).
void pack_kernel(const Tensor &keras, int block, Tensor &packed);

}  // namespace convpipe::graph
