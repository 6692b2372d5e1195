// The .npy encoder.
#include "apps/explain/render/npy.h"

#include <cstring>

#include "runtime/error.h"
#include "runtime/safetensors.h"

namespace engine::explain::render {

namespace {

template <class T>
std::string raw_bytes(const Tensor& t) {
    const std::vector<T> v = t.to_vector<T>();
    std::string out(v.size() * sizeof(T), '\0');
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());  // x86: already little-endian
    return out;
}

}  // namespace

std::string encode_npy(const Tensor& t) {
    ENGINE_CHECK(t.defined(), "encode_npy: undefined tensor");
    std::string descr, body;
    switch (t.dtype()) {
        case DType::Float32:
            descr = "<f4";
            body = raw_bytes<float>(t);
            break;
        case DType::Float64:
            descr = "<f8";
            body = raw_bytes<double>(t);
            break;
        case DType::Int64:
            descr = "<i8";
            body = raw_bytes<int64_t>(t);
            break;
        default:
            throw Error(std::string("encode_npy: unsupported dtype ") + dtype_name(t.dtype()));
    }
    std::string shape = "(";
    for (int64_t d = 0; d < t.dim(); ++d)
        shape += std::to_string(t.size(d)) + (t.dim() == 1 ? "," : d + 1 < t.dim() ? ", " : "");
    shape += ")";
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>((header.size() >> 8) & 0xff);
    out += header;
    out += body;
    return out;
}

void write_npy(const std::string& path, const Tensor& t) { safetensors::write_file_atomically(path, encode_npy(t)); }

}  // namespace engine::explain::render
