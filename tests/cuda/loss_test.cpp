// CUDA nll_loss and bce_with_logits against the CPU backend: class weights, ignore_index, every reduction,
// spatial targets, int32 targets, the out-of-range error, and gradchecks (cross_entropy, bce_with_logits)
// through the device.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

// Targets in [0, classes) with every `ignore_every`-th set to ignore_index (-100).
Tensor targets(const Shape& shape, int64_t classes, uint64_t seed, int64_t ignore_every = 0) {
    Tensor t = random_tensor(shape, seed, DType::Float64, 0.0, static_cast<double>(classes)).to(DType::Int64);
    if (ignore_every > 0) {
        Tensor flat = t.view({-1});
        for (int64_t i = 0; i < flat.numel(); i += ignore_every) flat.narrow(0, i, 1).fill_(-100);
    }
    return t;
}

const Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

}  // namespace

TEST(CudaNllLossTest, ForwardAndBackwardMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    struct Case {
        Shape lp_shape, target_shape;
    };
    // (N, C) and spatial (N, C, d1, d2) layouts; 5000 targets span two reduction blocks.
    const Case cases[] = {{{1, 3}, {1}}, {{7, 5}, {7}}, {{257, 10}, {257}}, {{2, 4, 3, 5}, {2, 3, 5}},
                          {{5000, 3}, {5000}}};
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const Case& c : cases) {
            const int64_t classes = c.lp_shape[1];
            const Tensor lp = random_tensor(c.lp_shape, 1, dt, -4.0, 0.0);
            const Tensor w = random_tensor({classes}, 2, dt, 0.5, 2.0);
            for (int64_t ignore_every : {0, 3}) {
                const Tensor t = targets(c.target_shape, classes, 3, ignore_every);
                for (const Tensor& weight : {Tensor(), w}) {
                    for (Reduction r : kReductions) {
                        const auto [loss, total] = cpu_backend().nll_loss_forward(lp, t, weight, -100, r);
                        const auto [dloss, dtotal] = gpu().nll_loss_forward(
                            to_cuda(lp), to_cuda(t), weight.defined() ? to_cuda(weight) : Tensor(), -100, r);
                        EXPECT_TRUE(matches_cpu(dloss, loss, 1e-7, 1e-6)) << shape_str(c.lp_shape);
                        EXPECT_TRUE(matches_cpu(dtotal, total, 1e-7, 1e-6));
                        const Tensor g = r == Reduction::None ? random_tensor(t.shape(), 4, dt) : full({}, 0.7, dt);
                        const Tensor gx = cpu_backend().nll_loss_backward(g, c.lp_shape, t, weight, -100, r, total);
                        const Tensor dgx = gpu().nll_loss_backward(to_cuda(g), c.lp_shape, to_cuda(t),
                                                                   weight.defined() ? to_cuda(weight) : Tensor(),
                                                                   -100, r, dtotal);
                        EXPECT_TRUE(matches_cpu(dgx, gx, 1e-7, 1e-6)) << shape_str(c.lp_shape);
                    }
                }
            }
        }
    }
}

TEST(CudaNllLossTest, Int32TargetsStridedInputsAndAllIgnored) {
    REQUIRE_CUDA_DEVICE();
    const Tensor lp = random_tensor({6, 9}, 5, DType::Float64, -3.0, 0.0);
    const Tensor t = targets({9}, 6, 6).to(DType::Int32);
    // log_probs as the transpose of a (6, 9) tensor: (9, 6) with strides (1, 9).
    const auto [loss, total] = cpu_backend().nll_loss_forward(lp.t(), t, Tensor(), 2, Reduction::Mean);
    const auto [dloss, dtotal] = gpu().nll_loss_forward(to_cuda(lp).t(), to_cuda(t), Tensor(), 2, Reduction::Mean);
    EXPECT_TRUE(matches_cpu(dloss, loss, 0, 1e-12));
    EXPECT_TRUE(matches_cpu(dtotal, total, 0, 0));
    // Every target ignored: the mean is 0/0 = nan, as in PyTorch.
    const Tensor ignored = full({4}, -100, DType::Int64);
    const auto [nan_loss, zero] = gpu().nll_loss_forward(to_cuda(lp.narrow(0, 0, 4)), to_cuda(ignored), Tensor(),
                                                         -100, Reduction::Mean);
    EXPECT_TRUE(std::isnan(nan_loss.item<double>()));
    EXPECT_EQ(zero.item<double>(), 0.0);
}

TEST(CudaNllLossTest, OutOfRangeTargetNamesTheFirstBadPosition) {
    REQUIRE_CUDA_DEVICE();
    const Tensor lp = random_tensor({2, 3, 4}, 7, DType::Float32, -2.0, 0.0);
    Tensor t = targets({2, 4}, 3, 8);
    t.narrow(0, 1, 1).narrow(1, 2, 1).fill_(5);
    t.narrow(0, 1, 1).narrow(1, 3, 1).fill_(-7);
    const std::string expected = error_message([&] { cpu_backend().nll_loss_forward(lp, t, Tensor(), -100, Reduction::Mean); });
    ASSERT_FALSE(expected.empty());
    const std::string actual =
        error_message([&] { gpu().nll_loss_forward(to_cuda(lp), to_cuda(t), Tensor(), -100, Reduction::Mean); });
    EXPECT_EQ(actual, expected);
    EXPECT_NE(actual.find("target 5 at position [1, 2]"), std::string::npos) << actual;
    const std::string backward = error_message([&] {
        gpu().nll_loss_backward(full({}, 1.0, DType::Float32, cuda_device()), lp.shape(), to_cuda(t), Tensor(), -100,
                                Reduction::Sum, full({}, 1.0, DType::Float32, cuda_device()));
    });
    EXPECT_EQ(backward, expected);
}

TEST(CudaBceWithLogitsTest, ForwardAndBackwardMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const Shape& shape : {Shape{1}, Shape{7, 5}, Shape{33, 31}, Shape{4099}}) {
            const int64_t last = shape.back();
            const Tensor x = random_tensor(shape, 9, dt, -30.0, 30.0);  // saturating logits included
            const Tensor t = random_tensor(shape, 10, dt, 0.0, 1.0);
            const Tensor w = random_tensor(shape, 11, dt, 0.5, 1.5);
            const Tensor pw = random_tensor({last}, 12, dt, 0.5, 3.0);
            for (const Tensor& weight : {Tensor(), w}) {
                for (const Tensor& pos_weight : {Tensor(), pw}) {
                    const Tensor dw = weight.defined() ? to_cuda(weight) : Tensor();
                    const Tensor dpw = pos_weight.defined() ? to_cuda(pos_weight) : Tensor();
                    for (Reduction r : kReductions) {
                        EXPECT_TRUE(matches_cpu(gpu().bce_with_logits_forward(to_cuda(x), to_cuda(t), dw, dpw, r),
                                                cpu_backend().bce_with_logits_forward(x, t, weight, pos_weight, r),
                                                1e-7, 1e-5))
                            << shape_str(shape) << " " << dtype_name(dt);
                        const Tensor g = r == Reduction::None ? random_tensor(shape, 13, dt) : full({}, 1.3, dt);
                        EXPECT_TRUE(matches_cpu(
                            gpu().bce_with_logits_backward(to_cuda(g), to_cuda(x), to_cuda(t), dw, dpw, r),
                            cpu_backend().bce_with_logits_backward(g, x, t, weight, pos_weight, r), 1e-7, 1e-5));
                    }
                }
            }
        }
    }
    // A transposed input and a weight broadcast along rows.
    const Tensor x = random_tensor({6, 8}, 14), t = random_tensor({8, 6}, 15, DType::Float64, 0.0, 1.0);
    const Tensor w = random_tensor({1, 6}, 16, DType::Float64, 0.5, 1.5);
    EXPECT_TRUE(matches_cpu(
        gpu().bce_with_logits_forward(to_cuda(x).t(), to_cuda(t), to_cuda(w), Tensor(), Reduction::None),
        cpu_backend().bce_with_logits_forward(x.t(), t, w, Tensor(), Reduction::None), 0, 1e-13));
}

TEST(CudaLossGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    const Tensor t = from_vector<int64_t>({2, -100, 0, 4, 1}, {5});
    const Tensor w = random_tensor({5}, 17, DType::Float64, 0.5, 2.0);
    for (Reduction r : kReductions) {
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) {
                return cross_entropy(in[0].to(dev), t.to(dev), w.to(dev), -100, r).to(Device::cpu());
            },
            {random_leaf({5, 5}, 18)}));
    }
    const Tensor spatial_t = from_vector<int64_t>({0, 2, 1, 1, 2, 0}, {2, 3});
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return cross_entropy(in[0].to(dev), spatial_t.to(dev)).to(Device::cpu()); },
        {random_leaf({2, 3, 3}, 19)}));
    const Tensor weight = random_tensor({4, 3}, 20, DType::Float64, 0.5, 1.5);
    const Tensor pw = random_tensor({3}, 21, DType::Float64, 0.5, 2.0);
    // Differentiable with respect to the logits and the target.
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return binary_cross_entropy_with_logits(in[0].to(dev), in[1].to(dev), weight.to(dev), pw.to(dev))
                .to(Device::cpu());
        },
        {random_leaf({4, 3}, 22, -3.0, 3.0), random_leaf({4, 3}, 23, 0.1, 0.9)}));
}
