// The values PyTorch's optimizers and LR schedulers produced (tests/data/models/torch_reference.json, written by
// models/export_torch.py), for the tests that compare the engine's against them.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace engine::test {

inline nlohmann::json torch_reference() {
    std::ifstream in(std::string(ENGINE_TEST_DATA_DIR) + "/models/torch_reference.json");
    EXPECT_TRUE(in.good());
    return nlohmann::json::parse(in);
}

}  // namespace engine::test
