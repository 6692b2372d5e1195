// The readers of untrusted files, each as a fuzz target: one input in, no crash, no sanitizer report, and any
// error one engine::Error line. libFuzzer drives them (.ci/fuzz, tests/fuzz/libfuzzer/entry.cpp); the
// fuzz_tests binary replays their seed corpora and every input that once crashed (tests/fuzz/corpus/NAME).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace engine::fuzz {

struct Target {
    const char* name;  // also the corpus folder's name
    void (*run)(const uint8_t* data, size_t size);
};

// image: PNG/JPEG/BMP decoding with its structural checks; idx: IDX files, raw or gzip; safetensors: the
// safetensors parser and the checkpoint metadata behind it; model_config: ModelConfig JSON.
const std::vector<Target>& targets();
const Target* find_target(const char* name);

}  // namespace engine::fuzz
