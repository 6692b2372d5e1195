#include <gtest/gtest.h>

#include "common/test_util.h"

using namespace engine;
using engine::test::all_close;

TEST(TensorTest, FactoriesAndMetadata) {
    Tensor t = zeros({2, 3}, DType::Float32);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.strides(), (Strides{3, 1}));
    EXPECT_EQ(t.numel(), 6);
    EXPECT_EQ(t.dtype(), DType::Float32);
    EXPECT_TRUE(t.device().is_cpu());
    EXPECT_TRUE(t.is_contiguous());
    for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.0f);
    EXPECT_EQ(full({2}, 7.5, DType::Float64).to_vector<double>(), (std::vector<double>{7.5, 7.5}));
    EXPECT_EQ(arange(0, 5).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(arange(1, 2, 0.25, DType::Float32).numel(), 4);
    EXPECT_EQ(scalar_tensor(3.0).dim(), 0);
    EXPECT_EQ(scalar_tensor(3.0).item<float>(), 3.0f);
}

TEST(TensorTest, ViewsShareStorage) {
    Tensor t = arange(0, 24, 1, DType::Float32).view({2, 3, 4});
    Tensor p = t.permute({2, 0, 1});
    EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
    EXPECT_EQ(p.strides(), (Strides{1, 12, 4}));
    EXPECT_FALSE(p.is_contiguous());
    EXPECT_EQ(p.storage(), t.storage());
    Tensor n = t.narrow(2, 1, 2);
    EXPECT_EQ(n.offset(), 1);
    EXPECT_EQ(n.to_vector<float>(), (std::vector<float>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}));
    Tensor s = t.select(1, 2);
    EXPECT_EQ(s.shape(), (Shape{2, 4}));
    EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23}));
    Tensor e = from_vector<float>({1, 2, 3}, {3, 1}).expand({3, 4});
    EXPECT_EQ(e.strides(), (Strides{1, 0}));
    EXPECT_EQ(e.contiguous().to_vector<float>(), (std::vector<float>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
    Tensor c = p.contiguous();
    EXPECT_TRUE(c.is_contiguous());
    EXPECT_EQ(c.to_vector<float>()[1], 4.0f);  // p[0][0][1] = t[0][1][0]
    EXPECT_EQ(t.transpose(0, 2).shape(), (Shape{4, 3, 2}));
    EXPECT_EQ(t.unsqueeze(1).shape(), (Shape{2, 1, 3, 4}));
    EXPECT_EQ(t.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
    EXPECT_EQ(t.unsqueeze(1).squeeze(1).shape(), (Shape{2, 3, 4}));
    EXPECT_EQ(t.flatten(1).shape(), (Shape{2, 12}));
    EXPECT_EQ(t.reshape({-1, 4}).shape(), (Shape{6, 4}));
}

TEST(TensorTest, WritesThroughAViewAreVisible) {
    Tensor t = zeros({3, 3});
    t.narrow(0, 1, 1).fill_(2.0);
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 0, 0, 2, 2, 2, 0, 0, 0}));
    t.t().narrow(0, 0, 1).copy_(from_vector<float>({7, 8, 9}, {1, 3}));
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{7, 0, 0, 8, 2, 2, 9, 0, 0}));
}

TEST(TensorTest, ReshapeCopiesWhenAViewIsImpossible) {
    Tensor t = arange(0, 6, 1, DType::Float32).view({2, 3}).t();
    EXPECT_ENGINE_ERROR(t.view({6}), "use reshape");
    Tensor r = t.reshape({6});
    EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(TensorTest, SplitAndChunk) {
    Tensor t = arange(0, 10, 1, DType::Float32);
    auto parts = t.split(4);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[2].to_vector<float>(), (std::vector<float>{8, 9}));
    EXPECT_EQ(t.chunk(3).size(), 3u);
}

TEST(TensorTest, DtypeConversion) {
    Tensor f = from_vector<float>({1.7f, -2.2f, 0.0f}, {3});
    EXPECT_EQ(f.to(DType::Int64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 0}));
    EXPECT_EQ(f.to(DType::Bool).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 1, 0}));
    EXPECT_EQ(f.to(DType::Float64).dtype(), DType::Float64);
}

TEST(TensorTest, ClearErrorsNameTheOpAndShapes) {
    Tensor t = zeros({2, 3});
    EXPECT_ENGINE_ERROR(t.view({4}), "view: shape [4] is invalid for input of size 6");
    EXPECT_ENGINE_ERROR(t.narrow(1, 2, 2), "narrow: range [2, 4) out of bounds for dim 1 of size 3");
    EXPECT_ENGINE_ERROR(t.permute({0, 0}), "permute: dim 0 appears twice");
    EXPECT_ENGINE_ERROR(t.expand({3, 3}), "expand: the size 2 at dim 0 cannot be expanded to 3");
    EXPECT_ENGINE_ERROR(t.data<double>(), "tensor has dtype float32");
    EXPECT_ENGINE_ERROR(t.size(2), "size: dim 2 out of range");
    EXPECT_ENGINE_ERROR(t.item<float>(), "item: tensor of shape [2, 3] has 6 elements");
    EXPECT_ENGINE_ERROR(Tensor().shape(), "undefined");
    EXPECT_ENGINE_ERROR(zeros({2}, DType::Int64).requires_grad_(true), "only float tensors");
}

TEST(TensorTest, PrintsSmallTensorsReadably) {
    const std::string s = from_vector<float>({1.0f, 2.5f, -3.0f, 4.0f}, {2, 2}).str();
    EXPECT_EQ(s, "tensor([[1.0000, 2.5000],\n        [-3.0000, 4.0000]], shape=[2, 2], dtype=float32)");
    EXPECT_EQ(arange(0, 3).str(), "tensor([0, 1, 2], shape=[3], dtype=int64)");
    const std::string big = zeros({2000}).str();
    EXPECT_NE(big.find("..."), std::string::npos);
    EXPECT_LT(big.size(), 200u);
}

TEST(DeviceTest, ParsesAndPrints) {
    EXPECT_EQ(Device::parse("cpu"), Device::cpu());
    EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
    EXPECT_EQ(Device::cuda(0).str(), "cuda:0");
    EXPECT_ENGINE_ERROR(Device::parse("gpu"), "cannot parse 'gpu'");
}
