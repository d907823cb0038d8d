#pragma once
// Kernel layouts. A Conv2D kernel arrives in Keras's layout,
// [KH, KW, Cin/groups, F]. The x86 direct-convolution template reads it one
// vector of filters at a time, so it may ask for the kernel packed in blocks
// of `block` filters (block = the vector width):
//   packed[ceil(F/block)][KH][KW][Cin/groups][block]
// The filters one vector holds are adjacent, and the reduction (input
// channel, then kx, then ky) walks each block's memory in order. Filters past
// F are zero. Layers summed over rotated groups (groups of G filters over G
// input channels) read it rotated within its groups as well: entry k of
// filter f holds the weight that input channel f % G of f's group has in
// filter (f % G + k) % G of that group (lower::SumForm::rotates_groups says
// why), packed or not. Baked weights are laid out when the library is
// generated; run-time weights by the runtime, once for weights bound with
// Pipeline::bind.
#include <cstdint>

#include "convpipe/tensor.h"

namespace convpipe::graph {

// The layout a kernel is stored in: its filter block (0: not packed) and
// the groups it is rotated within (0: none).
struct KernelLayout {
    int block = 0;
    int rotated_group = 0;
    bool is_keras() const { return block <= 0 && rotated_group <= 0; }
    bool operator==(const KernelLayout &o) const { return block == o.block && rotated_group == o.rotated_group; }
};

// The packed shape of a Keras kernel shape; block 0 means unpacked (the same
// shape back).
Shape packed_kernel_shape(const Shape &keras_shape, int block);
// The same into `out`, without allocating when it already has room.
void packed_kernel_shape(const Shape &keras_shape, int block, Shape &out);

// Packs `keras` (shape [KH, KW, Cin/groups, F]) into `packed`, which must
// already have packed_kernel_shape(keras.shape(), block).
void pack_kernel(const Tensor &keras, int block, Tensor &packed);
// The same for any layout: rotated within groups (where asked; the input
// channels per group must then be rotated_group, as must the filters per
// group), then packed in blocks (where asked).
void pack_kernel(const Tensor &keras, const KernelLayout &layout, Tensor &packed);

}  // namespace convpipe::graph
