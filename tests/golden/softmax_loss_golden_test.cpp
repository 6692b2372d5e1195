// Softmax, log-softmax, cross-entropy and BCE-with-logits against PyTorch's.
#include "common/test_util.h"
#include "golden/golden_util.h"

using namespace engine;
using namespace engine::test;

namespace {
Reduction reduction_of(const nlohmann::json& p) {
    const std::string r = p["reduction"];
    return r == "mean" ? Reduction::Mean : (r == "sum" ? Reduction::Sum : Reduction::None);
}
}  // namespace

TEST(SoftmaxLossGoldenTest, SoftmaxAndLogSoftmaxMatchPyTorch) {
    for (const GoldenCase& c : golden_cases("softmax_loss", "softmax.")) {
        const int64_t dim = c.params["dim"];
        EXPECT_TRUE(all_close(softmax(c["x"], dim), c["y"], 1e-7, 1e-5)) << c.name;
        EXPECT_TRUE(all_close(log_softmax(c["x"], dim), c["log_y"], 1e-5, 1e-5)) << c.name;
    }
}

TEST(SoftmaxLossGoldenTest, CrossEntropyMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("softmax_loss", "cross_entropy.")) {
        const Tensor weight = c.has("weight") ? c["weight"] : Tensor();
        const Tensor loss =
            cross_entropy(c["logits"], c["target"], weight, c.params["ignore_index"], reduction_of(c.params));
        EXPECT_TRUE(all_close(loss, c["loss"], 1e-5, 1e-5)) << c.name;
    }
}

TEST(SoftmaxLossGoldenTest, BceWithLogitsMatchesPyTorch) {
    for (const GoldenCase& c : golden_cases("softmax_loss", "bce_with_logits.")) {
        const Tensor loss = binary_cross_entropy_with_logits(c["x"], c["target"], c["weight"], c["pos_weight"],
                                                             reduction_of(c.params));
        EXPECT_TRUE(all_close(loss, c["loss"], 1e-5, 1e-5)) << c.name;
    }
}
