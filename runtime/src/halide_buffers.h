#pragma once
// Internal: Tensors as halide_buffer_t (dimensions reversed: NHWC row-major
// is (c, x, y, n) innermost first), and the sink that collects Halide's
// error text for one call.
#include <HalideRuntime.h>

#include <mutex>
#include <string>
#include <vector>

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

class BufferSet {
public:
    BufferSet(const std::vector<const Tensor *> &tensors, const std::vector<Shape> &shapes) {
        for (size_t i = 0; i < tensors.size(); i++) add(const_cast<float *>(tensors[i]->data()), shapes[i]);
        finish();
    }
    explicit BufferSet(std::vector<Tensor> &tensors) {
        for (Tensor &t : tensors) add(t.data(), t.shape());
        finish();
    }
    halide_buffer_t **pointers() { return pointers_.data(); }
    const std::vector<halide_buffer_t *> &buffers() const { return pointers_; }

private:
    void add(float *data, const Shape &shape) {
        halide_buffer_t b{};
        b.host = reinterpret_cast<uint8_t *>(data);
        b.type = halide_type_t(halide_type_float, 32, 1);
        b.dimensions = static_cast<int32_t>(shape.size());
        std::vector<halide_dimension_t> dims(shape.size());
        int64_t stride = 1;
        for (size_t i = 0; i < shape.size(); i++) {
            size_t axis = shape.size() - 1 - i;
            dims[i] = halide_dimension_t(0, static_cast<int32_t>(shape[axis]), static_cast<int32_t>(stride));
            stride *= shape[axis];
        }
        buffers_.push_back(b);
        dims_.push_back(std::move(dims));
    }
    void finish() {
        for (size_t i = 0; i < buffers_.size(); i++) buffers_[i].dim = dims_[i].data();
        for (halide_buffer_t &b : buffers_) pointers_.push_back(&b);
    }
    std::vector<halide_buffer_t> buffers_;
    std::vector<std::vector<halide_dimension_t>> dims_;
    std::vector<halide_buffer_t *> pointers_;
};

}  // namespace convpipe::detail
