#pragma once
// A dense float32 tensor, row-major (C order). Pipelines use NHWC; 2-D (HW)
// and 3-D (HWC) tensors are accepted wherever a 4-D one is and read as N=1,
// C=1 as needed.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace convpipe {

using Shape = std::vector<int64_t>;

std::string shape_to_string(const Shape &shape);  // "[1, 278, 493, 1]"
int64_t shape_elements(const Shape &shape);

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(Shape shape);                      // zero-filled
    Tensor(Shape shape, std::vector<float> values);    // values.size() must match

    const Shape &shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int64_t dim(int i) const;            // negative i counts from the end
    int64_t size() const { return static_cast<int64_t>(values_.size()); }
    bool empty() const { return values_.empty(); }

    float *data() { return values_.data(); }
    const float *data() const { return values_.data(); }
    std::vector<float> &values() { return values_; }
    const std::vector<float> &values() const { return values_; }

    // Element access by full index (one per dimension), bounds-checked.
    float &at(std::initializer_list<int64_t> index);
    float at(std::initializer_list<int64_t> index) const;

    // Same values, new shape with the same element count.
    Tensor reshaped(Shape shape) const;
    // Makes this tensor the given shape, reusing its storage when it can.
    void resize(const Shape &shape);
    // The NHWC view of a 2-D, 3-D or 4-D tensor: [H,W] -> [1,H,W,1],
    // [H,W,C] -> [1,H,W,C].
    Shape nhwc_shape() const;

private:
    int64_t offset(std::initializer_list<int64_t> index) const;
    Shape shape_;
    std::vector<float> values_;
};

}  // namespace convpipe
