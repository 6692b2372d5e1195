// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw data.
// Files are untrusted input: load() validates everything the format's own loader validates and names the
// first problem; read_header() validates the same way from the header alone (see there); save() writes
// atomically, so a crash mid-write leaves the previous file intact.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/tensor.h"

namespace engine::safetensors {

struct Contents {
    std::vector<std::pair<std::string, Tensor>> tensors;  // in file order
    std::map<std::string, std::string> metadata;

    // The tensor called `name`; throws Error naming the file's tensors when absent.
    const Tensor& at(const std::string& name) const;
    bool contains(const std::string& name) const;
};

// Throws Error("safetensors: <source>: <reason>") on any malformed input.
Contents parse(const std::string& bytes, const std::string& source);
Contents load(const std::string& path);

// One tensor's header entry: its dtype, shape and byte range in the data section.
struct TensorEntry {
    std::string name;
    DType dtype = DType::Float32;
    Shape shape;
    uint64_t begin = 0, end = 0;  // data_offsets
};

struct Header {
    std::vector<TensorEntry> tensors;  // in data order
    std::map<std::string, std::string> metadata;
    uint64_t file_bytes = 0;
};

// Reads only the 8-byte length and the JSON header (not the tensor data) and applies every check of load() with
// the same messages: header length against the cap and the file size, well-formed JSON, valid entries, and data
// offsets that tile the data section exactly, whose size is known from the file size. So a file whose data was
// truncated or extended fails here as in load(); what read_header cannot see is a change to the data bytes that
// keeps the size, which load() cannot detect either (the format has no checksum and every byte is a valid value).
Header read_header(const std::string& path);

// The file's bytes. Tensors must be contiguous (on any device; device memory is copied to the host); a strided
// one is an error naming it (save t.contiguous()).
std::string serialize(const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Writes PATH.tmp in the same directory, fsyncs it, renames it over PATH and fsyncs the directory.
void save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata = {});

// Atomically replaces `path` with `bytes` (the mechanism save() uses; also for JSON reports).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace engine::safetensors
