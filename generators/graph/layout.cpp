#include "convpipe/layout.h"

#include <algorithm>

#include "convpipe/error.h"

namespace convpipe::graph {

void packed_kernel_shape(const Shape &k, int block, Shape &out) {
    if (block <= 0) {
        out = k;
        return;
    }
    if (k.size() != 4) throw Error("a Conv2D kernel has 4 dimensions (KH, KW, Cin, F), got " + shape_to_string(k));
    out.resize(5);
    out[0] = (k[3] + block - 1) / block;
    out[1] = k[0];
    out[2] = k[1];
    out[3] = k[2];
    out[4] = block;
}

Shape packed_kernel_shape(const Shape &k, int block) {
    Shape out;
    packed_kernel_shape(k, block, out);
    return out;
}

void pack_kernel(const Tensor &keras, int block, Tensor &packed) { pack_kernel(keras, KernelLayout{block, 0}, packed); }

void pack_kernel(const Tensor &keras, const KernelLayout &layout, Tensor &packed) {
    const int block = layout.block, G = layout.rotated_group;
    const Shape &k = keras.shape(), &p = packed.shape();
    if (G > 0 && (k.size() != 4 || k[2] != G || k[3] % G != 0))
        throw Error("pack_kernel: a kernel rotated within groups of " + std::to_string(G) + " needs " +
                    std::to_string(G) + " input channels per group and whole groups of filters, got shape " +
                    shape_to_string(k));
    const bool fits = k.size() == 4 && (block <= 0 ? G > 0 && p == k
                                                   : p.size() == 5 && p[0] == (k[3] + block - 1) / block &&
                                                         p[1] == k[0] && p[2] == k[1] && p[3] == k[2] && p[4] == block);
    if (!fits)
        throw Error("pack_kernel: expected a buffer of shape " + shape_to_string(packed_kernel_shape(k, block)) +
                    ", got " + shape_to_string(p));
    // Row rc (window tap and input channel, Keras's order) of filter f as
    // stored: Keras's, or entry rc % G of tap rc / G rotated within groups.
    const int64_t rows = k[0] * k[1] * k[2], filters = k[3];
    const float *src = keras.data();
    auto at = [&](int64_t rc, int64_t f) {
        if (G <= 0) return src[rc * filters + f];
        const int64_t lane = f % G;
        return src[(rc - rc % G + lane) * filters + f - lane + (lane + rc % G) % G];
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
            for (int64_t i = 0; i < n; i++) out[rc * block + i] = at(rc, f0 + i);
            std::fill(out + rc * block + n, out + (rc + 1) * block, 0.0f);
        }
    }
}

}  // namespace convpipe::graph
