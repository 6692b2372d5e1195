// Gradient checks of nll_loss, cross_entropy (including spatial (N, C, H, W) logits) and
// binary_cross_entropy_with_logits (w.r.t. logits and target) in float64, with class weights, ignore_index,
// pos_weight and every reduction.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;
using engine::test::random_tensor;

namespace {

const std::vector<Reduction> kReductions = {Reduction::None, Reduction::Mean, Reduction::Sum};

}  // namespace

TEST(NllLossGradTest, WeightsIgnoreIndexReductions) {
    const Tensor lp = random_leaf({5, 4}, 1, -3.0, 0.0);
    const Tensor target = from_vector<int64_t>({3, -100, 0, 3, 1}, {5});
    const Tensor weight = from_vector<double>({0.5, 2.0, 1.0, 3.0}, {4});
    for (Reduction r : kReductions) {
        for (const Tensor& w : {Tensor(), weight}) {
            EXPECT_TRUE(
                passes_gradcheck([&](const TensorList& in) { return nll_loss(in[0], target, w, -100, r); }, {lp}));
        }
        // ignore_index may name a real class.
        const Tensor t3 = from_vector<int64_t>({3, 2, 0, 3, 1}, {5});
        EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return nll_loss(in[0], t3, weight, 3, r); }, {lp}));
    }
    const Tensor spatial = random_leaf({2, 3, 2, 3}, 2, -3.0, 0.0);
    const Tensor st = from_vector<int64_t>({0, 2, 1, -100, 2, 2, 1, 0, 0, 1, -100, 2}, {2, 2, 3});
    for (Reduction r : kReductions) {
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) { return nll_loss(in[0], st, weight.narrow(0, 0, 3), -100, r); }, {spatial}));
    }
    const Tensor single = random_leaf({4}, 3, -3.0, 0.0);
    EXPECT_TRUE(passes_gradcheck([](const TensorList& in) { return nll_loss(in[0], scalar_tensor(2, DType::Int64)); },
                                 {single}));
}

TEST(CrossEntropyGradTest, FlatAndSpatial) {
    const Tensor logits = random_leaf({4, 5}, 4, -2.0, 2.0);
    const Tensor target = from_vector<int64_t>({4, 0, -100, 2}, {4});
    const Tensor weight = random_tensor({5}, 5, DType::Float64, 0.2, 2.0);
    for (Reduction r : kReductions) {
        for (const Tensor& w : {Tensor(), weight}) {
            EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return cross_entropy(in[0], target, w, -100, r); },
                                         {logits}));
        }
    }
    // Segmentation logits (N, C, H, W) with an ignored pixel, and a strided view of them.
    const Tensor seg = random_leaf({2, 3, 3, 2}, 6, -2.0, 2.0);
    const Tensor seg_target = from_vector<int64_t>({0, 1, 2, 2, -100, 0, 1, 1, 0, 2, 2, 1}, {2, 3, 2});
    for (Reduction r : kReductions) {
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) { return cross_entropy(in[0], seg_target, weight.narrow(0, 1, 3), -100, r); },
            {seg}));
    }
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return cross_entropy(in[0].transpose(2, 3), seg_target.transpose(1, 2)); }, {seg}));
    const Tensor one = random_leaf({6}, 7);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) { return cross_entropy(in[0], scalar_tensor(5, DType::Int64)); }, {one}));
}

TEST(BceWithLogitsGradTest, LogitsAndTarget) {
    const Tensor x = random_leaf({4, 3}, 8, -4.0, 4.0);
    const Tensor t = random_leaf({4, 3}, 9, 0.0, 1.0);
    const Tensor w = random_tensor({4, 1}, 10, DType::Float64, 0.2, 2.0);
    const Tensor pw = random_tensor({3}, 11, DType::Float64, 0.5, 3.0);
    for (Reduction r : kReductions) {
        for (int variant = 0; variant < 4; ++variant) {
            const Tensor wv = variant & 1 ? w : Tensor(), pv = variant & 2 ? pw : Tensor();
            EXPECT_TRUE(passes_gradcheck(
                [&](const TensorList& in) { return binary_cross_entropy_with_logits(in[0], in[1], wv, pv, r); },
                {x, t}))
                << "variant " << variant << " reduction " << static_cast<int>(r);
        }
    }
    // Broadcast and strided logits.
    const Tensor col = random_leaf({4, 1}, 12, -3.0, 3.0);
    const Tensor target = random_tensor({3, 4}, 13, DType::Float64, 0.0, 1.0);
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return binary_cross_entropy_with_logits(in[0].expand({4, 3}).t(), target);
        },
        {col}));
}
