// The fuzz targets (see fuzz_targets.h). A finding is a crash, a sanitizer report or an abort() here: a
// decoded result that contradicts itself, or an error message spanning several lines.
#include "fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "models/checkpoint.h"
#include "models/data/image.h"
#include "models/model.h"
#include "runtime/error.h"
#include "runtime/idx.h"
#include "runtime/safetensors.h"

namespace engine::fuzz {
namespace {

std::string as_string(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

void expect_one_line(const Error& e) {
    if (std::strchr(e.what(), '\n') != nullptr) {
        std::fprintf(stderr, "fuzz: a multi-line error: %s\n", e.what());
        std::abort();
    }
}

// The IDX reader opens a path (gzopen): the input goes through a file of this process's own.
std::string scratch_file(const std::string& bytes) {
    static const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                                    "/engine_fuzz_" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) std::abort();
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return path;
}

void image(const uint8_t* data, size_t size) {
    try {
        const data::Image decoded = data::decode_image(as_string(data, size), "fuzz", static_cast<int64_t>(size % 5));
        if (decoded.pixels.size() != static_cast<size_t>(decoded.height * decoded.width * decoded.channels))
            std::abort();
    } catch (const Error& e) {
        expect_one_line(e);
    }
}

void idx(const uint8_t* data, size_t size) {
    const std::string path = scratch_file(as_string(data, size));
    try {
        const Tensor t = idx::read_bytes(path);
        int64_t elements = 1;
        for (int64_t d : t.shape()) elements *= d;
        if (elements != t.numel()) std::abort();
    } catch (const Error& e) {
        expect_one_line(e);
    }
    try {
        idx::read_labels(path);
    } catch (const Error& e) {
        expect_one_line(e);
    }
}

void safetensors_file(const uint8_t* data, size_t size) {
    try {
        const safetensors::Contents contents = safetensors::parse(as_string(data, size), "fuzz");
        for (const auto& [name, t] : contents.tensors)
            if (t.numel() > 0) (void)checkpoint::nonfinite_tensors({{name, t}});
        const auto config = contents.metadata.find("model_config");
        if (config != contents.metadata.end()) (void)models::ModelConfig::from_json(config->second);
    } catch (const Error& e) {
        expect_one_line(e);
    }
}

void model_config(const uint8_t* data, size_t size) {
    try {
        const models::ModelConfig config = models::ModelConfig::from_json(as_string(data, size));
        // What is accepted round-trips, and its size is known before anything is built.
        if (models::ModelConfig::from_json(config.to_json()) != config) std::abort();
        if (!(models::parameter_count(config) > 0)) std::abort();
    } catch (const Error& e) {
        expect_one_line(e);
    }
}

}  // namespace

const std::vector<Target>& targets() {
    static const std::vector<Target> all{
        {"image", image}, {"idx", idx}, {"safetensors", safetensors_file}, {"model_config", model_config}};
    return all;
}

const Target* find_target(const char* name) {
    for (const Target& t : targets())
        if (std::strcmp(t.name, name) == 0) return &t;
    return nullptr;
}

}  // namespace engine::fuzz
