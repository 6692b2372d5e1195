// Every op of the backend op table that a differentiable op uses names a suite of this binary
// (tests/gradcheck/<family>_grad_test.cpp) whose gradient checks run through it (tests/common/backend_ops.h).
#include "common/backend_ops.h"

#include <gtest/gtest.h>

namespace engine::test {
namespace {

TEST(BackendOpTable, EveryDifferentiableOpHasItsGradcheckSuite) {
    const std::string missing = missing_suites(&BackendOpEntry::gradcheck_suite, "tests/gradcheck", "_grad_test.cpp");
    EXPECT_TRUE(missing.empty()) << "ops of kernels/backend_ops.def without their gradcheck suite:" << missing;
}

}  // namespace
}  // namespace engine::test
