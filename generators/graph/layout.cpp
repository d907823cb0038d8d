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
    if (G > 0) {
        if (k.size() != 4 || k[2] != G || k[3] % G != 0)
            throw Error("pack_kernel: a kernel rotated within groups of " + std::to_string(G) + " needs " +
                        std::to_string(G) + " input channels per group and whole groups of filters, got shape " +
                        shape_to_string(k));
        if (block <= 0 && p != k)
            throw Error("pack_kernel: expected a buffer of shape " + shape_to_string(k) + ", got " + shape_to_string(p));
    }
    // Rotated: entry r of filter f at window tap t.
    const float *src = keras.data();
    const int64_t F = k.size() == 4 ? k[3] : 0;
    auto at = [&](int64_t t, int64_t r, int64_t f) { return src[(t * G + f % G) * F + f / G * G + (f % G + r) % G]; };
    if (block <= 0 && G > 0) {
        float *dst = packed.data();
        for (int64_t t = 0; t < k[0] * k[1]; t++)
            for (int64_t r = 0; r < G; r++)
                for (int64_t f = 0; f < F; f++) dst[(t * G + r) * F + f] = at(t, r, f);
        return;
    }
    if (block <= 0 || k.size() != 4 || p.size() != 5 || p[0] != (k[3] + block - 1) / block || p[1] != k[0] ||
        p[2] != k[1] || p[3] != k[2] || p[4] != block)
        throw Error("pack_kernel: expected a buffer of shape " + shape_to_string(packed_kernel_shape(k, block)) +
                    ", got " + shape_to_string(p));
    const int64_t taps = k[0] * k[1] * k[2], filters = k[3];
    float *dst = packed.data();
    for (int64_t j = 0; j * block < filters; j++) {
        const int64_t f0 = j * block, n = std::min<int64_t>(block, filters - f0);
        float *out = dst + j * taps * block;
        for (int64_t t = 0; t < taps; t++) {
            if (G > 0) {
                for (int64_t i = 0; i < n; i++) out[t * block + i] = at(t / G, t % G, f0 + i);
            } else {
                const float *in = src + t * filters + f0;
                std::copy(in, in + n, out + t * block);
            }
            std::fill(out + t * block + n, out + (t + 1) * block, 0.0f);
        }
    }
}

}  // namespace convpipe::graph
