// CrossEntropyLoss and BCEWithLogitsLoss against hand-computed values and their options.
#include "layers/loss.h"

#include <cmath>

#include "common/test_util.h"

namespace engine::nn {
namespace {

using namespace engine::test;

TEST(CrossEntropyLossTest, WeightedMeanIgnoresTheIgnoreIndex) {
    const std::vector<double> logits{1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 0.2, 0.2, 0.2};
    const Tensor x = from_vector(logits, {3, 3});
    const Tensor target = from_vector<int64_t>({1, 2, 7}, {3});
    const Tensor weight = from_vector<double>({0.5, 2.0, 1.5}, {3});
    CrossEntropyLoss loss(CrossEntropyLossOptions().weight(weight).ignore_index(7));
    auto nll = [&](int row, int cls) {
        double denom = 0;
        for (int c = 0; c < 3; ++c) denom += std::exp(logits[row * 3 + c]);
        return -(logits[row * 3 + cls] - std::log(denom));
    };
    const double expected = (2.0 * nll(0, 1) + 1.5 * nll(1, 2)) / (2.0 + 1.5);
    EXPECT_NEAR(loss(x, target).item<double>(), expected, 1e-12);
    CrossEntropyLoss summed(CrossEntropyLossOptions().reduction(Reduction::Sum).ignore_index(7));
    EXPECT_NEAR(summed(x, target).item<double>(), nll(0, 1) + nll(1, 2), 1e-12);
    EXPECT_EQ(CrossEntropyLoss(CrossEntropyLossOptions().reduction(Reduction::None).ignore_index(7))(x, target).shape(),
              (Shape{3}));
}

TEST(CrossEntropyLossTest, SpatialTargetsAndWeightsFollowTheLogits) {
    const Tensor x = random_tensor({2, 4, 3, 5}, 1, DType::Float32);
    Generator gen(2);
    const Tensor target = floor(uniform({2, 3, 5}, 0.0, 4.0, gen, DType::Float64)).to(DType::Int64);
    const Tensor weight = from_vector<double>({1.0, 0.5, 2.0, 1.0}, {4});  // float64 weights, float32 logits
    CrossEntropyLoss loss(CrossEntropyLossOptions().weight(weight));
    EXPECT_TRUE(all_close(loss(x, target), cross_entropy(x, target, weight.to(DType::Float32)), 0, 0));
    EXPECT_ENGINE_ERROR(loss(x, Tensor()), "CrossEntropyLoss: logits and target must be defined");
}

TEST(BCEWithLogitsLossTest, PosWeightAndWeight) {
    const Tensor x = from_vector<double>({0.3, -1.2, 2.0, 0.0}, {2, 2});
    const Tensor y = from_vector<double>({1.0, 0.0, 0.25, 1.0}, {2, 2});
    const Tensor pos = from_vector<double>({2.0, 0.5}, {2});
    const Tensor w = from_vector<double>({1.0, 3.0}, {2});
    BCEWithLogitsLoss loss(BCEWithLogitsLossOptions().pos_weight(pos).weight(w).reduction(Reduction::Sum));
    const std::vector<double> xv{0.3, -1.2, 2.0, 0.0}, yv{1.0, 0.0, 0.25, 1.0};
    double expected = 0;
    for (int i = 0; i < 4; ++i) {
        const double sig = 1.0 / (1.0 + std::exp(-xv[i])), p = i % 2 == 0 ? 2.0 : 0.5, wi = i % 2 == 0 ? 1.0 : 3.0;
        expected += -wi * (p * yv[i] * std::log(sig) + (1 - yv[i]) * std::log(1 - sig));
    }
    EXPECT_NEAR(loss(x, y).item<double>(), expected, 1e-12);
    EXPECT_NEAR(BCEWithLogitsLoss()(x, y).item<double>(), binary_cross_entropy_with_logits(x, y).item<double>(), 0);
}

}  // namespace
}  // namespace engine::nn
