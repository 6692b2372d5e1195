#include "runtime/dtype.h"

namespace engine {

size_t dtype_size(DType dtype) {
    switch (dtype) {
        case DType::Float32: return 4;
        case DType::Float64: return 8;
        case DType::Int64: return 8;
        case DType::Int32: return 4;
        case DType::UInt8: return 1;
        case DType::Bool: return 1;
        case DType::BFloat16: return 2;
        case DType::Float16: return 2;
    }
    throw Error("dtype_size: unknown dtype");
}

const char* dtype_name(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "float32";
        case DType::Float64: return "float64";
        case DType::Int64: return "int64";
        case DType::Int32: return "int32";
        case DType::UInt8: return "uint8";
        case DType::Bool: return "bool";
        case DType::BFloat16: return "bfloat16";
        case DType::Float16: return "float16";
    }
    return "unknown";
}

static int promotion_rank(DType d) {
    switch (d) {
        case DType::Bool: return 0;
        case DType::UInt8: return 1;
        case DType::Int32: return 2;
        case DType::Int64: return 3;
        case DType::BFloat16: return 4;
        case DType::Float16: return 4;
        case DType::Float32: return 5;
        case DType::Float64: return 6;
    }
    return 0;
}

DType promote_types(DType a, DType b) {
    if (is_half(a) && is_half(b) && a != b) return DType::Float32;
    return promotion_rank(a) >= promotion_rank(b) ? a : b;
}

}  // namespace engine
