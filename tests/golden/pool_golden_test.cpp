// Pooling forward results (values and indices) against PyTorch's.
#include "common/test_util.h"
#include "golden/golden_util.h"

using namespace engine;
using namespace engine::test;

namespace {
Pool2dParams pool_params(const nlohmann::json& p) {
    Pool2dParams q;
    q.kernel_h = p["kernel"][0], q.kernel_w = p["kernel"][1];
    q.stride_h = p["stride"][0], q.stride_w = p["stride"][1];
    q.pad_h = p["padding"][0], q.pad_w = p["padding"][1];
    if (p.contains("dilation")) q.dilation_h = p["dilation"][0], q.dilation_w = p["dilation"][1];
    q.ceil_mode = p["ceil_mode"];
    if (p.contains("count_include_pad")) q.count_include_pad = p["count_include_pad"];
    return q;
}
}  // namespace

TEST(PoolGoldenTest, MaxPool2dValuesAndIndicesMatchPyTorch) {
    for (const GoldenCase& c : golden_cases("pool", "max_pool2d.")) {
        auto [y, indices] = max_pool2d_with_indices(c["x"], pool_params(c.params));
        EXPECT_TRUE(all_close(y, c["y"], 0, 0)) << c.name;
        EXPECT_EQ(indices.to_vector<int64_t>(), c["indices"].to_vector<int64_t>()) << c.name;
    }
}

TEST(PoolGoldenTest, AvgPool2dMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("pool", "avg_pool2d.")) {
        EXPECT_TRUE(all_close(avg_pool2d(c["x"], pool_params(c.params)), c["y"], 1e-6, 1e-6)) << c.name;
    }
}

TEST(PoolGoldenTest, AdaptiveAvgPool2dMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("pool", "adaptive_avg_pool2d.")) {
        const Tensor y = adaptive_avg_pool2d(c["x"], c.params["output"][0], c.params["output"][1]);
        EXPECT_TRUE(all_close(y, c["y"], 1e-6, 1e-6)) << c.name;
    }
}
