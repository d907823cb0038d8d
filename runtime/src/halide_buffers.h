#pragma once
// Internal: Tensors as halide_buffer_t (dimensions reversed: NHWC row-major
// is (c, x, y, n) innermost first), and the sink that collects Halide's
// error text for one call.
#include <HalideRuntime.h>

#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "convpipe/error.h"
#include "convpipe/tensor.h"

namespace convpipe::detail {

class ErrorSink {
public:
    void append(const char *msg) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::string m = msg ? msg : "";
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        if (!text_.empty()) text_ += "; ";
        text_ += m;
    }
    std::string text() const { return text_.empty() ? "no message" : text_; }

private:
    std::mutex mutex_;
    std::string text_;
};

// A fixed-capacity set of buffers: building one allocates nothing, and
// initialises only the slots it fills (zeroing all 64 buffers' 8 dimensions,
// 8 KB, cost 15% of a tiny layer's call).
class BufferSet {
public:
    static constexpr size_t kMaxBuffers = 64, kMaxRank = 8;

    BufferSet(const std::vector<const Tensor *> &tensors, const std::vector<Shape> &shapes) {
        for (size_t i = 0; i < tensors.size(); i++) add(const_cast<float *>(tensors[i]->data()), shapes[i]);
    }
    explicit BufferSet(std::vector<Tensor> &tensors) {
        for (Tensor &t : tensors) add(t.data(), t.shape());
    }
    halide_buffer_t **pointers() { return pointers_; }
    size_t size() const { return count_; }
    halide_buffer_t *operator[](size_t i) { return pointers_[i]; }

private:
    void add(float *data, const Shape &shape) {
        if (count_ == kMaxBuffers || shape.size() > kMaxRank)
            throw Error("a pipeline call is limited to 64 buffers of up to 8 dimensions");
        halide_buffer_t &b = *new (&buffers_[count_]) halide_buffer_t{};
        b.host = reinterpret_cast<uint8_t *>(data);
        b.type = halide_type_t(halide_type_float, 32, 1);
        b.dimensions = static_cast<int32_t>(shape.size());
        b.dim = reinterpret_cast<halide_dimension_t *>(&dims_[count_]);
        int64_t stride = 1;
        for (size_t i = 0; i < shape.size(); i++) {
            size_t axis = shape.size() - 1 - i;
            new (&b.dim[i]) halide_dimension_t(0, static_cast<int32_t>(shape[axis]), static_cast<int32_t>(stride));
            stride *= shape[axis];
        }
        pointers_[count_++] = &b;
    }
    // Raw storage, constructed slot by slot in add().
    template <typename T, size_t N>
    struct alignas(T) Slots {
        unsigned char bytes[sizeof(T) * N];
    };
    Slots<halide_buffer_t, 1> buffers_[kMaxBuffers];
    Slots<halide_dimension_t, kMaxRank> dims_[kMaxBuffers];
    halide_buffer_t *pointers_[kMaxBuffers] = {};
    size_t count_ = 0;
};

// Referenced from Pipeline so that halide_hooks.cpp is always linked in.
void link_halide_hooks();
// How many intermediate buffers Halide has had to take from the system
// (rather than from the cache of freed ones): for tests.
uint64_t halide_fresh_allocations();
// From now on, fill every buffer handed to Halide with these bits (0: stop),
// so that a pipeline which reads memory it never wrote reads them: for tests.
void fill_halide_buffers(uint32_t bits);

}  // namespace convpipe::detail
