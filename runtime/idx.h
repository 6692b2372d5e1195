// IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed. Untrusted input: the magic number, the element
// type, the dimensions and the exact payload size are all checked, and the first problem is named.
#pragma once

#include <string>

#include "runtime/tensor.h"

namespace engine::idx {

// Any unsigned-byte IDX array, as a uint8 tensor with the file's dimensions.
Tensor read_bytes(const std::string& path);
// An images file (N, rows, cols) as uint8; a labels file (N) as int64.
Tensor read_images(const std::string& path);
Tensor read_labels(const std::string& path);

}  // namespace engine::idx
