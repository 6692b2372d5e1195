// Helpers shared by the test binaries: random tensors, comparisons with readable failure messages, and a
// gradcheck assertion.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace engine::test {

// Uniform values in [lo, hi) from a fixed seed (the engine's own Philox stream).
inline Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::Float64, double lo = -1.0,
                            double hi = 1.0) {
    Generator gen(seed);
    return uniform(shape, lo, hi, gen, dtype);
}

// A float64 leaf that requires grad.
inline Tensor random_leaf(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    Tensor t = random_tensor(shape, seed, DType::Float64, lo, hi);
    t.requires_grad_(true);
    return t;
}

// Max |a - b| <= atol + rtol * |b| elementwise, with the first failing element in the message.
inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol = 1e-6,
                                            double rtol = 1e-5) {
    if (actual.shape() != expected.shape()) {
        return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                             << shape_str(expected.shape());
    }
    const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
        const bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
        if (!both_nan && !(std::abs(a[i] - e[i]) <= atol + rtol * std::abs(e[i]))) {
            return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected " << e[i]
                                                 << " (shape " << shape_str(actual.shape()) << ")";
        }
    }
    return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult passes_gradcheck(const std::function<Tensor(const TensorList&)>& f,
                                                   const TensorList& inputs, const GradcheckOptions& options = {}) {
    const GradcheckResult result = gradcheck(f, inputs, options);
    if (result.ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << result.message;
}

// Calls f(multi-index) for every position of shape in row-major order (for naive reference loops).
inline void for_each_position(const Shape& shape, const std::function<void(const std::vector<int64_t>&)>& f) {
    const int64_t n = shape_numel(shape);
    for (int64_t i = 0; i < n; ++i) f(unravel_index(i, shape));
}

// Row-major offset of a multi-index.
inline int64_t flat_index(const std::vector<int64_t>& pos, const Shape& shape) {
    int64_t at = 0;
    for (size_t d = 0; d < shape.size(); ++d) at = at * shape[d] + pos[d];
    return at;
}

// The message of the engine::Error that `f` throws, or "" when it throws none.
template <class F>
std::string error_message(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace engine::test

// EXPECT_ENGINE_ERROR(statement, "substring"): the statement throws an engine::Error whose message contains
// the substring.
#define EXPECT_ENGINE_ERROR(statement, substring)                                                          \
    do {                                                                                                   \
        const std::string engine_msg_ = ::engine::test::error_message([&] { (void)(statement); });         \
        EXPECT_FALSE(engine_msg_.empty()) << #statement " did not throw";                                  \
        EXPECT_NE(engine_msg_.find(substring), std::string::npos)                                          \
            << "message \"" << engine_msg_ << "\" lacks \"" << (substring) << "\"";                        \
    } while (0)
