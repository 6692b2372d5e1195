// Convolution forward results against PyTorch's (F.conv2d, F.conv_transpose2d).
#include "common/test_util.h"
#include "golden/golden_util.h"

using namespace engine;
using namespace engine::test;

namespace {
Conv2dParams conv_params(const nlohmann::json& p) {
    Conv2dParams c;
    c.stride_h = p["stride"][0], c.stride_w = p["stride"][1];
    c.pad_h = p["padding"][0], c.pad_w = p["padding"][1];
    c.dilation_h = p["dilation"][0], c.dilation_w = p["dilation"][1];
    c.groups = p["groups"];
    return c;
}
}  // namespace

TEST(ConvGoldenTest, Conv2dMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("conv", "conv2d.")) {
        const Tensor bias = c.has("b") ? c["b"] : Tensor();
        const Tensor y = conv2d(c["x"], c["w"], bias, conv_params(c.params));
        const double tol = golden_tolerance(y);
        EXPECT_TRUE(all_close(y, c["y"], tol, tol)) << c.name;
    }
}

TEST(ConvGoldenTest, ConvTranspose2dMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("conv", "conv_transpose2d.")) {
        const Tensor bias = c.has("b") ? c["b"] : Tensor();
        const Tensor y = conv_transpose2d(c["x"], c["w"], bias, conv_params(c.params), c.params["output_padding"][0],
                                          c.params["output_padding"][1]);
        const double tol = golden_tolerance(y);
        EXPECT_TRUE(all_close(y, c["y"], tol, tol)) << c.name;
    }
}
