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
// why), packed or not. Layers whose groups' filters are padded to whole
// vectors (lower::SumForm::pads_groups) read it with each of its `groups`
// groups stored as group_filters filters, the group's own first and zeros
// after, packed or not:
//   filter g * group_filters + j = Keras's filter g * (F / groups) + j
// Baked weights are laid out when the library is generated; run-time
// weights by the runtime, once for weights bound with Pipeline::bind.
#include <cstdint>

#include "convpipe/tensor.h"

namespace convpipe::graph {

// The layout a kernel is stored in: its filter block (0: not packed), the
// groups it is rotated within (0: none), and the groups its filters are
// padded in with the filters each then holds (0: not padded).
struct KernelLayout {
    int block = 0;
    int rotated_group = 0;
    int groups = 0;
    int group_filters = 0;
    bool pads_groups() const { return groups > 0 && group_filters > 0; }
    bool is_keras() const { return block <= 0 && rotated_group <= 0 && !pads_groups(); }
    bool operator==(const KernelLayout &o) const {
        return block == o.block && rotated_group == o.rotated_group && groups == o.groups &&
               group_filters == o.group_filters;
    }
};

// The stored shape of a Keras kernel shape: [KH, KW, Cin/groups, F] with
// the filters padded per group where the layout says so, then packed in
// blocks where it does. Keras's layout gives the same shape back.
Shape packed_kernel_shape(const Shape &keras_shape, const KernelLayout &layout);
// The same into `out`, without allocating when it already has room.
void packed_kernel_shape(const Shape &keras_shape, const KernelLayout &layout, Shape &out);

// Lays `keras` (shape [KH, KW, Cin/groups, F]) out into `packed`, which must
// already have packed_kernel_shape(keras.shape(), layout): rotated within
// groups (where asked; the input channels per group must then be
// rotated_group, as must the filters per group) or padded per group (where
// asked; the filters must split into `groups` groups of at most
// group_filters), then packed in blocks (where asked).
void pack_kernel(const Tensor &keras, const KernelLayout &layout, Tensor &packed);

}  // namespace convpipe::graph
