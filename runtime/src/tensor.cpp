#include "convpipe/tensor.h"

#include <limits>
#include <sstream>
#include <utility>

#include "convpipe/error.h"

namespace convpipe {

std::string shape_to_string(const Shape &shape) {
    std::ostringstream out;
    out << '[';
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) out << ", ";
        out << shape[i];
    }
    out << ']';
    return out.str();
}

int64_t shape_elements(const Shape &shape) {
    int64_t count = 1;  // a 0-d tensor holds one value
    for (int64_t d : shape) {
        if (d < 0) {
            throw Error("invalid tensor shape " + shape_to_string(shape) +
                        ": dimensions must not be negative");
        }
        if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) {
            throw Error("invalid tensor shape " + shape_to_string(shape) +
                        ": element count overflows 64 bits");
        }
        count *= d;
    }
    return count;
}

// Rejects shapes whose element count cannot be held in a std::vector<float>.
static size_t checked_elements(const Shape &shape) {
    int64_t n = shape_elements(shape);
    Values probe;
    if (static_cast<uint64_t>(n) > probe.max_size()) {
        throw Error("invalid tensor shape " + shape_to_string(shape) + ": too many elements (" +
                    std::to_string(n) + ")");
    }
    return static_cast<size_t>(n);
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
    values_.assign(checked_elements(shape_), 0.0f);
}

Tensor::Tensor(Shape shape, std::vector<float> values)
    : shape_(std::move(shape)), values_(values.begin(), values.end()) {
    size_t n = checked_elements(shape_);
    if (values_.size() != n) {
        throw Error("tensor of shape " + shape_to_string(shape_) + " needs " + std::to_string(n) +
                    " values, got " + std::to_string(values_.size()));
    }
}

int64_t Tensor::dim(int i) const {
    int r = rank();
    int j = i < 0 ? i + r : i;
    if (j < 0 || j >= r) {
        throw Error("dimension " + std::to_string(i) + " out of range for tensor of shape " +
                    shape_to_string(shape_));
    }
    return shape_[static_cast<size_t>(j)];
}

int64_t Tensor::offset(std::initializer_list<int64_t> index) const {
    if (index.size() != shape_.size()) {
        throw Error("index has " + std::to_string(index.size()) + " components, tensor of shape " +
                    shape_to_string(shape_) + " needs " + std::to_string(shape_.size()));
    }
    int64_t flat = 0;
    size_t axis = 0;
    for (int64_t i : index) {
        int64_t d = shape_[axis];
        if (i < 0 || i >= d) {
            Shape idx(index);
            throw Error("index " + shape_to_string(idx) + " out of bounds for tensor of shape " +
                        shape_to_string(shape_));
        }
        flat = flat * d + i;
        ++axis;
    }
    // Guards against values() having been resized behind the tensor's back.
    if (flat >= size()) {
        throw Error("tensor of shape " + shape_to_string(shape_) + " holds only " +
                    std::to_string(size()) + " values");
    }
    return flat;
}

float &Tensor::at(std::initializer_list<int64_t> index) {
    return values_[static_cast<size_t>(offset(index))];
}

float Tensor::at(std::initializer_list<int64_t> index) const {
    return values_[static_cast<size_t>(offset(index))];
}

Tensor Tensor::reshaped(Shape shape) const {
    size_t n = checked_elements(shape);
    if (n != values_.size()) {
        throw Error("cannot reshape tensor of shape " + shape_to_string(shape_) + " (" +
                    std::to_string(values_.size()) + " values) to " + shape_to_string(shape) +
                    " (" + std::to_string(n) + " values)");
    }
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
}

void Tensor::resize(const Shape &shape) {
    size_t n = checked_elements(shape);
    // std::vector::resize keeps the allocation when shrinking or when the
    // capacity already suffices, so repeated runs do not reallocate.
    values_.resize(n);
    shape_ = shape;
}

Shape Tensor::nhwc_shape() const {
    switch (rank()) {
    case 2: return {1, shape_[0], shape_[1], 1};
    case 3: return {1, shape_[0], shape_[1], shape_[2]};
    case 4: return shape_;
    default:
        throw Error("expected a 2-D [H,W], 3-D [H,W,C] or 4-D [N,H,W,C] tensor, got shape " +
                    shape_to_string(shape_));
    }
}

}  // namespace convpipe
