// The safetensors reader (whole files, or the header alone) and the atomic writer.
#include "runtime/safetensors.h"
#include "runtime/allocator.h"
#include "runtime/json.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace engine::safetensors {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference loader's cap

[[noreturn]] void fail(const std::string& source, const std::string& reason) {
    throw Error("safetensors: " + source + ": " + reason);
}

const char* dtype_code(DType dtype) {
    switch (dtype) {
        case DType::Float32: return "F32";
        case DType::Float64: return "F64";
        case DType::Int64: return "I64";
        case DType::Int32: return "I32";
        case DType::UInt8: return "U8";
        case DType::Bool: return "BOOL";
        case DType::BFloat16: return "BF16";
        case DType::Float16: return "F16";
    }
    return "?";
}

bool parse_dtype(const std::string& code, DType* out) {
    static const std::pair<const char*, DType> table[] = {{"F32", DType::Float32}, {"F64", DType::Float64},
                                                          {"I64", DType::Int64},   {"I32", DType::Int32},
                                                          {"U8", DType::UInt8},    {"BOOL", DType::Bool},
                                                          {"BF16", DType::BFloat16}, {"F16", DType::Float16}};
    for (const auto& [name, dtype] : table) {
        if (code == name) {
            *out = dtype;
            return true;
        }
    }
    return false;
}

TensorEntry parse_entry(const std::string& source, const std::string& name, const nlohmann::json& value) {
    if (!value.is_object()) fail(source, "entry '" + name + "' is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!value.contains(key)) fail(source, "entry '" + name + "' lacks \"" + key + "\"");
    TensorEntry e;
    e.name = name;
    if (!value["dtype"].is_string() || !parse_dtype(value["dtype"].get<std::string>(), &e.dtype)) {
        fail(source, "entry '" + name + "' has an unsupported dtype " + dump_json(value["dtype"]));
    }
    const auto& shape = value["shape"];
    if (!shape.is_array() || shape.size() > 16) fail(source, "entry '" + name + "' has an invalid shape");
    uint64_t count = 1;
    for (const auto& d : shape) {
        if (!d.is_number_unsigned()) fail(source, "entry '" + name + "' has a negative or non-integer dimension");
        const uint64_t size = d.get<uint64_t>();
        if (size > (1ull << 40) || __builtin_mul_overflow(count, size, &count))
            fail(source, "entry '" + name + "' has a huge shape " + dump_json(shape));
        e.shape.push_back(static_cast<int64_t>(size));
    }
    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
        fail(source, "entry '" + name + "' has invalid data_offsets " + dump_json(offsets));
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(dtype_size(e.dtype)), &bytes) || e.end < e.begin ||
        e.end - e.begin != bytes) {
        fail(source, "entry '" + name + "': data_offsets " + dump_json(offsets) + " do not span " +
                         std::to_string(bytes) + " bytes for shape " + dump_json(shape) + " of " +
                         dtype_code(e.dtype));
    }
    return e;
}

// The JSON header's length from a file's first 8 bytes (`first8` is read only when the file has them), checked
// against the cap and the file's size.
uint64_t header_length(const char* first8, uint64_t file_bytes, const std::string& source) {
    if (file_bytes < 8) fail(source, "file too short (" + std::to_string(file_bytes) + " bytes)");
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(first8[i]);
    if (header_len > kMaxHeaderBytes) fail(source, "header length " + std::to_string(header_len) + " exceeds the cap");
    if (header_len > file_bytes - 8)
        fail(source, "header length " + std::to_string(header_len) + " exceeds the file (" +
                         std::to_string(file_bytes) + " bytes): truncated?");
    return header_len;
}

// The JSON header of a file of `file_bytes` bytes, validated: entries, metadata, and data offsets that tile the
// data section (the rest of the file) exactly.
Header parse_header(const char* json, uint64_t header_len, uint64_t file_bytes, const std::string& source) {
    nlohmann::json header;
    try {
        header = parse_json(std::string_view(json, header_len));
    } catch (const nlohmann::json::exception& e) {
        fail(source, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!header.is_object()) fail(source, "header is not a JSON object");

    Header out;
    out.file_bytes = file_bytes;
    for (auto it = header.begin(); it != header.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it.value().is_object()) fail(source, "__metadata__ is not an object");
            for (auto m = it.value().begin(); m != it.value().end(); ++m) {
                if (!m.value().is_string()) fail(source, "__metadata__ value of '" + m.key() + "' is not a string");
                out.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        out.tensors.push_back(parse_entry(source, it.key(), it.value()));
    }
    std::sort(out.tensors.begin(), out.tensors.end(), [](const TensorEntry& a, const TensorEntry& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    const uint64_t data_size = file_bytes - 8 - header_len;
    uint64_t expected_begin = 0;
    for (const TensorEntry& e : out.tensors) {
        if (e.begin != expected_begin)
            fail(source, "entry '" + e.name + "' starts at " + std::to_string(e.begin) + ", expected " +
                             std::to_string(expected_begin) + " (overlapping or missing data)");
        if (e.end > data_size)
            fail(source, "entry '" + e.name + "' ends at " + std::to_string(e.end) + " beyond the data section (" +
                             std::to_string(data_size) + " bytes): truncated?");
        expected_begin = e.end;
    }
    if (expected_begin != data_size)
        fail(source, std::to_string(data_size - expected_begin) + " trailing bytes after the last tensor");
    return out;
}

void sync_directory_of(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

const Tensor& Contents::at(const std::string& name) const {
    for (const auto& [key, tensor] : tensors)
        if (key == name) return tensor;
    std::string names;
    for (size_t i = 0; i < tensors.size() && i < 8; ++i) names += (i ? ", " : "") + tensors[i].first;
    if (tensors.size() > 8) names += ", ...";
    throw Error("safetensors: no tensor named '" + name + "' (the file has: " + names + ")");
}

bool Contents::contains(const std::string& name) const {
    for (const auto& entry : tensors)
        if (entry.first == name) return true;
    return false;
}

Contents parse(const std::string& bytes, const std::string& source) {
    const uint64_t file_bytes = bytes.size();
    const uint64_t header_len = header_length(bytes.data(), file_bytes, source);
    Header header = parse_header(bytes.data() + 8, header_len, file_bytes, source);
    Contents contents;
    contents.metadata = std::move(header.metadata);
    const char* data = bytes.data() + 8 + header_len;
    for (const TensorEntry& e : header.tensors) {
        Tensor t = empty(e.shape, e.dtype);
        if (e.end > e.begin) std::memcpy(t.raw_data(), data + e.begin, e.end - e.begin);
        contents.tensors.emplace_back(e.name, t);
    }
    return contents;
}

Contents load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) fail(path, "read error");
    return parse(bytes, path);
}

Header read_header(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
    const std::streamoff size = in.tellg();
    if (size < 0) fail(path, "read error");
    const uint64_t file_bytes = static_cast<uint64_t>(size);
    in.seekg(0);
    char first8[8] = {};
    if (file_bytes >= 8 && !in.read(first8, 8)) fail(path, "read error");
    const uint64_t header_len = header_length(first8, file_bytes, path);
    std::string json(header_len, '\0');
    if (!in.read(json.data(), static_cast<std::streamsize>(header_len)))
        fail(path, "read error (the file shrank while being read?)");
    return parse_header(json.data(), header_len, file_bytes, path);
}

std::string serialize(const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::string data;
    for (const auto& [name, tensor] : tensors) {
        ENGINE_CHECK(name != "__metadata__" && !header.contains(name), "safetensors: duplicate or reserved name '",
                     name, "'");
        ENGINE_CHECK(tensor.is_contiguous(), "safetensors: tensor '", name, "' of shape ", shape_str(tensor.shape()),
                     " has strides ", shape_str(tensor.strides()), "; save a contiguous copy");
        const size_t nbytes = static_cast<size_t>(tensor.numel()) * dtype_size(tensor.dtype());
        header[name] = {{"dtype", dtype_code(tensor.dtype())},
                        {"shape", tensor.shape()},
                        {"data_offsets", {data.size(), data.size() + nbytes}}};
        const size_t at = data.size();
        data.resize(at + nbytes);
        if (nbytes > 0) copy_bytes(data.data() + at, Device::cpu(), tensor.raw_data(), tensor.device(), nbytes);
    }
    std::string json = dump_json(header);
    json.append((8 - json.size() % 8) % 8, ' ');  // the reference writer pads the header to 8 bytes
    std::string out(8, '\0');
    uint64_t len = json.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
    return out + json + data;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ENGINE_CHECK(fd >= 0, "cannot write ", tmp, ": ", std::strerror(errno));
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string reason = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error("cannot write " + tmp + ": " + reason);
        }
        written += static_cast<size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    const bool closed = ::close(fd) == 0;
    if (!synced || !closed) {
        ::unlink(tmp.c_str());
        throw Error("cannot flush " + tmp + ": " + std::strerror(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error("cannot rename " + tmp + " to " + path + ": " + reason);
    }
    sync_directory_of(path);
}

void save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata) {
    write_file_atomically(path, serialize(tensors, metadata));
}

}  // namespace engine::safetensors
