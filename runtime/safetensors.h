// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw data.
// Files are untrusted input: load() validates everything the format's own loader validates and names the
// first problem; save() writes atomically, so a crash mid-write leaves the previous file intact.
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

std::string serialize(const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Writes PATH.tmp in the same directory, fsyncs it, renames it over PATH and fsyncs the directory.
void save(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
          const std::map<std::string, std::string>& metadata = {});

// Atomically replaces `path` with `bytes` (the mechanism save() uses; also for JSON reports).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace engine::safetensors
