// Nearest and bilinear resampling against PyTorch's F.interpolate.
#include "common/test_util.h"
#include "golden/golden_util.h"

using namespace engine;
using namespace engine::test;

TEST(InterpolateGoldenTest, MatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("interpolate", "interpolate.")) {
        const InterpMode mode = c.params["mode"] == "nearest" ? InterpMode::Nearest : InterpMode::Bilinear;
        const bool align_corners = c.params["align_corners"];
        const Tensor y = c.params["size"].is_null()
                             ? interpolate_scale(c["x"], c.params["scale"][0], c.params["scale"][1], mode, align_corners)
                             : interpolate(c["x"], c.params["size"][0], c.params["size"][1], mode, align_corners);
        EXPECT_TRUE(all_close(y, c["y"], 1e-6, 1e-5)) << c.name;
    }
}
