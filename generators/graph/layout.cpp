#include "convpipe/layout.h"

#include <algorithm>

#include "convpipe/error.h"

namespace convpipe::graph {

void packed_kernel_shape(const Shape &k, const KernelLayout &layout, Shape &out) {
    if (layout.block <= 0 && !layout.pads_groups()) {
        out = k;
        return;
    }
    if (k.size() != 4) throw Error("a Conv2D kernel has 4 dimensions (KH, KW, Cin, F), got " + shape_to_string(k));
    const int64_t filters = layout.pads_groups() ? int64_t(layout.groups) * layout.group_filters : k[3];
    if (layout.block <= 0) {
        out = k;
        out[3] = filters;
        return;
    }
    out.resize(5);
    out[0] = (filters + layout.block - 1) / layout.block;
    out[1] = k[0];
    out[2] = k[1];
    out[3] = k[2];
    out[4] = layout.block;
}

Shape packed_kernel_shape(const Shape &k, const KernelLayout &layout) {
    Shape out;
    packed_kernel_shape(k, layout, out);
    return out;
}

void pack_kernel(const Tensor &keras, const KernelLayout &layout, Tensor &packed) {
    const int block = layout.block, G = layout.rotated_group;
    const bool pads = layout.pads_groups();
    const Shape &k = keras.shape(), &p = packed.shape();
    if (G > 0 && (k.size() != 4 || k[2] != G || k[3] % G != 0 || pads))
        throw Error("pack_kernel: a kernel rotated within groups of " + std::to_string(G) + " needs " +
                    std::to_string(G) + " input channels per group and whole groups of filters, got shape " +
                    shape_to_string(k) + (pads ? " (and its groups padded)" : ""));
    if (pads && (k.size() != 4 || k[3] % layout.groups != 0 || k[3] / layout.groups > layout.group_filters))
        throw Error("pack_kernel: a kernel padded to " + std::to_string(layout.group_filters) +
                    " filters in each of " + std::to_string(layout.groups) +
                    " groups needs as many groups of at most that many filters, got shape " + shape_to_string(k));
    const int64_t filters = pads ? int64_t(layout.groups) * layout.group_filters : k.size() == 4 ? k[3] : 0;
    const bool fits = k.size() == 4 && (block <= 0 ? !layout.is_keras() && p.size() == 4 && p[0] == k[0] &&
                                                         p[1] == k[1] && p[2] == k[2] && p[3] == filters
                                                   : p.size() == 5 && p[0] == (filters + block - 1) / block &&
                                                         p[1] == k[0] && p[2] == k[1] && p[3] == k[2] && p[4] == block);
    if (!fits)
        throw Error("pack_kernel: expected a buffer of shape " + shape_to_string(packed_kernel_shape(k, layout)) +
                    ", got " + shape_to_string(p));
    // Row rc (window tap and input channel, Keras's order) of stored filter
    // f: Keras's; entry rc % G of tap rc / G rotated within groups; or, in
    // padded groups, the group's own filter or a zero past them.
    const int64_t rows = k[0] * k[1] * k[2], keras_filters = k[3];
    const int64_t per_group = pads ? keras_filters / layout.groups : 0;
    const float *src = keras.data();
    auto at = [&](int64_t rc, int64_t f) {
        if (pads) {
            const int64_t j = f % layout.group_filters;
            return j < per_group ? src[rc * keras_filters + f / layout.group_filters * per_group + j] : 0.0f;
        }
        if (G <= 0) return src[rc * keras_filters + f];
        const int64_t lane = f % G;
        return src[(rc - rc % G + lane) * keras_filters + f - lane + (lane + rc % G) % G];
    };
    float *dst = packed.data();
    if (block <= 0) {
        for (int64_t rc = 0; rc < rows; rc++)
            for (int64_t f = 0; f < filters; f++) dst[rc * filters + f] = at(rc, f);
        return;
    }
    for (int64_t j = 0; j * block < filters; j++) {
        const int64_t f0 = j * block, n = std::min<int64_t>(block, filters - f0);
        float *out = dst + j * rows * block;
        for (int64_t rc = 0; rc < rows; rc++) {
            // Blocks only (the layout of most kernels, packed on every call
            // where they are not bound): a contiguous run of Keras's row.
            if (G <= 0 && !pads) {
                const float *row = src + rc * keras_filters + f0;
                std::copy(row, row + n, out + rc * block);
            } else {
                for (int64_t i = 0; i < n; i++) out[rc * block + i] = at(rc, f0 + i);
            }
            std::fill(out + rc * block + n, out + (rc + 1) * block, 0.0f);
        }
    }
}

}  // namespace convpipe::graph
