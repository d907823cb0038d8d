#include "convpipe/layout.h"

#include <algorithm>

#include "convpipe/error.h"

namespace convpipe::graph {

Shape packed_kernel_shape(const Shape &k, int block) {
    if (block <= 0) return k;
    if (k.size() != 4) throw Error("a Conv2D kernel has 4 dimensions (KH, KW, Cin, F), got " + shape_to_string(k));
    return {(k[3] + block - 1) / block, k[0], k[1], k[2], block};
}

void pack_kernel(const Tensor &keras, int block, Tensor &packed) {
    const Shape &k = keras.shape();
    if (packed.shape() != packed_kernel_shape(k, block))
        throw Error("pack_kernel: expected a buffer of shape " + shape_to_string(packed_kernel_shape(k, block)) +
                    ", got " + shape_to_string(packed.shape()));
    const int64_t taps = k[0] * k[1] * k[2], filters = k[3];
    const float *src = keras.data();
    float *dst = packed.data();
    for (int64_t j = 0; j * block < filters; j++) {
        const int64_t f0 = j * block, n = std::min<int64_t>(block, filters - f0);
        float *out = dst + j * taps * block;
        for (int64_t t = 0; t < taps; t++) {
            const float *in = src + t * filters + f0;
            std::copy(in, in + n, out + t * block);
            std::fill(out + t * block + n, out + (t + 1) * block, 0.0f);
        }
    }
}

}  // namespace convpipe::graph
