// Small helpers shared by the dataset and loader sources (not part of the public data API).
#pragma once

#include <cstring>

#include "runtime/tensor.h"

namespace engine::data::detail {

// An int64 scalar tensor (shape []): a class target.
inline Tensor class_scalar(int64_t id) {
    Tensor t = empty({}, DType::Int64);
    *t.data<int64_t>() = id;
    return t;
}

// A contiguous CPU copy made with memcpy: no autograd, no backend kernel (loader threads must not open
// OpenMP teams of their own).
inline Tensor copy_of(const Tensor& t) {
    const Tensor src = t.is_contiguous() ? t : t.contiguous();
    Tensor out = empty(src.shape(), src.dtype());
    if (src.numel() > 0)
        std::memcpy(out.raw_data(), src.raw_data(), static_cast<size_t>(src.numel()) * dtype_size(src.dtype()));
    return out;
}

}  // namespace engine::data::detail
