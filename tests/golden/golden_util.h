// Access to the PyTorch golden fixtures written by tests/golden/make_golden.py.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/safetensors.h"

namespace engine::test {

struct GoldenCase {
    std::string name;
    nlohmann::json params;
    const safetensors::Contents* file;
    const Tensor& operator[](const std::string& role) const { return file->at(name + "." + role); }
    bool has(const std::string& role) const { return file->contains(name + "." + role); }
};

inline const safetensors::Contents& golden_file(const std::string& family) {
    static std::map<std::string, safetensors::Contents> cache;
    auto it = cache.find(family);
    if (it == cache.end())
        it = cache.emplace(family, safetensors::load(std::string(ENGINE_TEST_DATA_DIR) + "/golden/" + family +
                                                     ".safetensors")).first;
    return it->second;
}

// All cases of `family` whose names start with `prefix`.
inline std::vector<GoldenCase> golden_cases(const std::string& family, const std::string& prefix) {
    const safetensors::Contents& file = golden_file(family);
    std::vector<GoldenCase> cases;
    for (const auto& [name, params] : file.metadata)
        if (name.rfind(prefix, 0) == 0) cases.push_back({name, nlohmann::json::parse(params), &file});
    EXPECT_FALSE(cases.empty()) << "no golden cases with prefix " << prefix << " in " << family;
    return cases;
}

// Relative tolerance by dtype: float32 results come from different (but correct) summation orders.
inline double golden_tolerance(const Tensor& t) { return t.dtype() == DType::Float64 ? 1e-10 : 2e-5; }

}  // namespace engine::test
