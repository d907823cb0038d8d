#pragma once
// A dense float32 tensor, row-major (C order). Pipelines use NHWC; 2-D (HW)
// and 3-D (HWC) tensors are accepted wherever a 4-D one is and read as N=1,
// C=1 as needed.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

namespace convpipe {

using Shape = std::vector<int64_t>;

// An allocator that starts every block on a cache line (64 bytes), so that
// the kernels' 64-byte vector loads and stores never straddle two lines.
// std::allocator gives 16 bytes, and a large block starts 16 bytes past a
// page: there AVX-512 layers read every weight vector and wrote every
// output vector in two halves (3x3 33x33x72->72 with its kernel, input and
// output 16 bytes off a line, 1 thread: 1.18x the time; 32 bytes off: 1.33x).
template <typename T>
struct CacheLineAllocator {
    using value_type = T;
    static constexpr std::align_val_t alignment{64};
    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U> &) {}
    T *allocate(std::size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), alignment)); }
    void deallocate(T *p, std::size_t) { ::operator delete(p, alignment); }
    template <typename U>
    bool operator==(const CacheLineAllocator<U> &) const { return true; }
    template <typename U>
    bool operator!=(const CacheLineAllocator<U> &) const { return false; }
};

// A tensor's values, in cache-line aligned storage.
using Values = std::vector<float, CacheLineAllocator<float>>;

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
    Values &values() { return values_; }
    const Values &values() const { return values_; }

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
    Values values_;
};

}  // namespace convpipe
