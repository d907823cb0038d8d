#pragma once
// Reading and writing tensors: NumPy .npy files and PNG/JPEG images.
#include <string>

#include "convpipe/tensor.h"

namespace convpipe {

// .npy: float32, float64 or uint8 (values kept as they are, stored as float32),
// any rank, C order (Fortran order is transposed on load). Throws Error.
Tensor load_npy(const std::string &path);
// Writes float32, C order.
void save_npy(const Tensor &tensor, const std::string &path);

enum class Color {
    Keep,  // as stored: gray -> [H,W,1], RGB -> [H,W,3], alpha dropped
    Gray,  // mean of the colour channels -> [H,W,1]
    RGB,   // [H,W,3]; gray is repeated
};

// PNG or JPEG (by content, not by extension) to [H,W,C] with values in [0,1].
Tensor load_image(const std::string &path, Color color = Color::Keep);

enum class Scale {
    Clamp,   // values taken as [0,1], clamped
    MinMax,  // the tensor's min maps to 0, its max to 1 (a constant maps to 0)
};

// Writes [H,W], [H,W,C] or [1,H,W,C] with C in {1,3,4} as 8-bit PNG, or JPEG
// when the path ends in .jpg/.jpeg. Throws Error.
void save_image(const Tensor &tensor, const std::string &path, Scale scale = Scale::Clamp);

// Chooses by extension: .npy -> load_npy, .png/.jpg/.jpeg -> load_image.
Tensor load_tensor(const std::string &path);
void save_tensor(const Tensor &tensor, const std::string &path, Scale scale = Scale::MinMax);

}  // namespace convpipe
