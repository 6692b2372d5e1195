#include "runtime/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace engine::idx {
namespace {

constexpr uint64_t kMaxPayload = 1ull << 32;  // 4 GiB: far above any IDX data set

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
    throw Error("idx: " + path + ": " + reason);
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes; false at a clean or premature end of stream.
bool read_exact(gzFile file, void* out, size_t n) {
    char* dst = static_cast<char*>(out);
    while (n > 0) {
        const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
        const int got = gzread(file, dst, chunk);
        if (got <= 0) return false;
        dst += got;
        n -= static_cast<size_t>(got);
    }
    return true;
}

}  // namespace

Tensor read_bytes(const std::string& path) {
    // gzread inflates gzip streams and passes raw files through unchanged.
    std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
    if (!file) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
    unsigned char magic[4];
    if (!read_exact(file.get(), magic, 4)) fail(path, "file too short for an IDX header");
    if (magic[0] != 0 || magic[1] != 0) fail(path, "bad magic number (not an IDX file)");
    if (magic[2] != 0x08)
        fail(path, "unsupported element type 0x" + std::to_string(magic[2]) + " (only unsigned bytes, 0x08)");
    const int ndim = magic[3];
    if (ndim < 1 || ndim > 4) fail(path, "unsupported number of dimensions " + std::to_string(ndim));
    Shape shape;
    uint64_t count = 1;
    for (int d = 0; d < ndim; ++d) {
        unsigned char be[4];
        if (!read_exact(file.get(), be, 4)) fail(path, "truncated header");
        const uint64_t size = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
        if (__builtin_mul_overflow(count, size, &count) || count > kMaxPayload)
            fail(path, "dimensions too large");
        shape.push_back(static_cast<int64_t>(size));
    }
    // The payload is read in chunks before the tensor is allocated: a header that declares gigabytes in a file of
    // a few bytes fails at the file's end instead of allocating what it claims first (found by .ci/fuzz).
    std::vector<unsigned char> payload;
    while (payload.size() < count) {
        const size_t at = payload.size(), chunk = static_cast<size_t>(std::min<uint64_t>(count - at, 1u << 20));
        payload.resize(at + chunk);
        if (!read_exact(file.get(), payload.data() + at, chunk))
            fail(path, "truncated data: expected " + std::to_string(count) + " bytes for shape " + shape_str(shape));
    }
    Tensor out = empty(shape, DType::UInt8);
    if (count > 0) std::memcpy(out.raw_data(), payload.data(), count);
    char extra;
    if (gzread(file.get(), &extra, 1) > 0) fail(path, "trailing bytes after " + std::to_string(count) + " data bytes");
    int zerr = Z_OK;
    gzerror(file.get(), &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) fail(path, "corrupt gzip stream");
    return out;
}

Tensor read_images(const std::string& path) {
    Tensor t = read_bytes(path);
    ENGINE_CHECK(t.dim() == 3, "idx: ", path, ": expected an images file (N, rows, cols), got dims ",
                 shape_str(t.shape()));
    return t;
}

Tensor read_labels(const std::string& path) {
    Tensor t = read_bytes(path);
    ENGINE_CHECK(t.dim() == 1, "idx: ", path, ": expected a labels file (N), got dims ", shape_str(t.shape()));
    Tensor labels = empty(t.shape(), DType::Int64);
    const uint8_t* src = t.data<uint8_t>();
    int64_t* dst = labels.data<int64_t>();
    for (int64_t i = 0; i < t.numel(); ++i) dst[i] = src[i];
    return labels;
}

}  // namespace engine::idx
