// Every op of the backend op table names a suite of this binary (tests/cuda/<family>_test.cpp) that runs it on
// the device against the CPU backend. Needs no device: it reads the test registry (tests/common/backend_ops.h).
#include "common/backend_ops.h"

#include <gtest/gtest.h>

namespace engine::test {
namespace {

TEST(BackendOpTable, EveryOpHasItsCudaSuite) {
    const std::string missing = missing_suites(&BackendOpEntry::cuda_suite, "tests/cuda", "_test.cpp");
    EXPECT_TRUE(missing.empty()) << "ops of kernels/backend_ops.def without their CUDA suite:" << missing;
}

}  // namespace
}  // namespace engine::test
