// Gradient checks of gather, scatter (src and value), scatter_add and index_select in float64, with indices
// smaller than the input, repeated indices where the op is linear in them, negative dims and strided inputs.
#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::passes_gradcheck;
using engine::test::random_leaf;

TEST(GatherGradTest, RepeatedAndPartialIndices) {
    const Tensor x = random_leaf({3, 4, 2}, 1);
    const Tensor i1 = from_vector<int64_t>({0, 3, 3, 1, 2, 2, 0, 0, 1, 3, 1, 1}, {3, 2, 2});  // along dim 1
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return gather(in[0], 1, i1); }, {x}));
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return gather(in[0], -2, i1.to(DType::Int32)); }, {x}));
    const Tensor i0 = from_vector<int64_t>({2, 0, 1, 1, 0, 2}, {3, 1, 2});  // along dim 0, smaller in dim 1
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return gather(in[0], 0, i0); }, {x}));
    const Tensor it = from_vector<int64_t>({1, 0, 0, 1, 1, 1}, {2, 3, 1});
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return gather(in[0].transpose(0, 2), 0, it); }, {x}));
}

TEST(ScatterGradTest, SrcValueAndAdd) {
    const Tensor self = random_leaf({3, 4}, 2);
    const Tensor src = random_leaf({3, 5}, 3);  // larger than the index: the uncovered part gets zero gradient
    // Distinct indices per row, so every scattered position has one writer.
    const Tensor perm = from_vector<int64_t>({2, 0, 3, 1, 3, 0, 0, 1, 2}, {3, 3});
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return scatter(in[0], 1, perm, in[1]); }, {self, src}));
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return scatter(in[0], -1, perm, 0.5); }, {self}));
    // Repeated indices are fine for scatter_add (linear in both inputs).
    const Tensor rep = from_vector<int64_t>({1, 1, 0, 2, 2, 2, 3, 0, 3}, {3, 3});
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return scatter_add(in[0], 1, rep, in[1]); }, {self, src}));
    const Tensor rows = from_vector<int64_t>({2, 0, 1, 2, 0, 0, 1, 1}, {2, 4});
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return scatter_add(in[0], 0, rows, in[1].narrow(1, 0, 4)); }, {self, src}));
    // Segmentation-style mask built from a detached argmax, used as a multiplier.
    const Tensor logits = random_leaf({2, 3, 2, 2}, 4);
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            const Tensor mask = scatter(zeros_like(in[0]), 1, argmax(in[0], 1, true), 1.0);
            return mul(in[0], mask);
        },
        {logits}));
}

TEST(IndexSelectGradTest, RepeatedIndices) {
    const Tensor x = random_leaf({4, 3, 2}, 5);
    for (int64_t dim : {0, 1, 2, -1}) {
        const Tensor idx = from_vector<int64_t>({1, 0, 1}, {3});
        EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return index_select(in[0], dim, idx); }, {x})) << dim;
    }
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) {
            return index_select(in[0].permute({2, 0, 1}), 1, from_vector<int32_t>({3, 3, 0}, {3}));
        },
        {x}));
    EXPECT_TRUE(passes_gradcheck(
        [](const TensorList& in) { return index_select(in[0], 0, scalar_tensor(2, DType::Int64)); }, {x}));
}
