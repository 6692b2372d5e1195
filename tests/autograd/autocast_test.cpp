// Mixed precision (autograd/autocast.h, layers/grad_scaler.h): which ops run in 16 bits and which in float32
// under autocast, gradients of a small conv net under bfloat16 and float16 autocast against float32 at the
// tolerances those formats allow (and always in float32 on the float32 parameters), and dynamic loss scaling:
// unscaled gradients, skipped steps on Inf/NaN, growth after clean steps.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/autocast.h"
#include "autograd/ops.h"
#include "common/test_util.h"
#include "layers/grad_scaler.h"
#include "layers/optim.h"

namespace engine {
namespace {

using test::all_close;
using test::random_tensor;

// float32 values that bfloat16 (and so float16) holds exactly: the float32 and autocast runs then start from
// the same numbers, and what differs is the 16-bit arithmetic, not the rounding of the inputs (which a net
// with ReLUs and a loss can amplify several times over).
Tensor exact_in_16_bits(const Tensor& t) { return t.to(DType::BFloat16).to(DType::Float32); }

Tensor leaf32(const Shape& shape, uint64_t seed, double scale = 1.0) {
    Tensor t = exact_in_16_bits(mul(random_tensor(shape, seed, DType::Float32), scale));
    t.requires_grad_(true);
    return t;
}

TEST(AutocastTest, ProductsRunIn16BitsAndRangeSensitiveOpsInFloat32) {
    const Tensor x = random_tensor({2, 3, 8, 8}, 1, DType::Float32), w = random_tensor({4, 3, 3, 3}, 2, DType::Float32);
    const Tensor b = random_tensor({4}, 3, DType::Float32);
    EXPECT_EQ(conv2d(x, w, b, Conv2dParams::make(1, 1)).dtype(), DType::Float32);  // off: as given
    for (DType low : {DType::BFloat16, DType::Float16}) {
        SCOPED_TRACE(dtype_name(low));
        AutocastGuard autocast(low);
        ASSERT_EQ(autocast_dtype(), low);
        const Tensor y = conv2d(x, w, b, Conv2dParams::make(1, 1));
        EXPECT_EQ(y.dtype(), low);
        EXPECT_EQ(conv_transpose2d(y, random_tensor({4, 2, 3, 3}, 4, DType::Float32), Tensor(),
                                   Conv2dParams::make(2, 1), 1, 1).dtype(), low);
        EXPECT_EQ(linear(x.reshape({2, 192}), random_tensor({5, 192}, 5, DType::Float32), Tensor()).dtype(), low);
        EXPECT_EQ(matmul(x.reshape({6, 64}), random_tensor({64, 7}, 6, DType::Float32)).dtype(), low);
        EXPECT_EQ(relu(y).dtype(), low);                                 // runs in its input's dtype
        EXPECT_EQ(add(y, random_tensor({4, 1, 1}, 7, DType::Float32)).dtype(), DType::Float32);  // promotes
        EXPECT_EQ(softmax(y, 1).dtype(), DType::Float32);
        EXPECT_EQ(batch_norm(y, Tensor(), Tensor(), Tensor(), Tensor(), true).dtype(), DType::Float32);
        EXPECT_EQ(max_pool2d(y, Pool2dParams{}).dtype(), DType::Float32);
        EXPECT_EQ(interpolate(y, 16, 16, InterpMode::Bilinear).dtype(), DType::Float32);
        const Tensor target = from_vector<int64_t>({0, 3}, {2});
        EXPECT_EQ(cross_entropy(linear(x.reshape({2, 192}), random_tensor({5, 192}, 8, DType::Float32), Tensor()),
                                target).dtype(), DType::Float32);
        {
            AutocastGuard off(std::nullopt);
            EXPECT_EQ(conv2d(x, w, b, Conv2dParams::make(1, 1)).dtype(), DType::Float32);
        }
    }
    EXPECT_FALSE(autocast_dtype().has_value());
    EXPECT_ENGINE_ERROR(AutocastGuard(DType::Float64), "autocast: the dtype must be bfloat16 or float16");
}

// conv -> batch norm -> relu -> conv -> cross-entropy over pixels, gradients of every parameter.
std::vector<Tensor> net_gradients(std::optional<DType> low) {
    const Tensor x = exact_in_16_bits(random_tensor({2, 3, 12, 12}, 11, DType::Float32));
    const Tensor w1 = leaf32({8, 3, 3, 3}, 12, 0.5), b1 = leaf32({8}, 13, 0.1), gamma = leaf32({8}, 14);
    const Tensor w2 = leaf32({4, 8, 3, 3}, 15, 0.3);
    const Tensor target = random_tensor({2, 12, 12}, 16, DType::Float32, 0.0, 4.0).to(DType::Int64);
    {
        AutocastGuard autocast(low);
        Tensor h = conv2d(x, w1, b1, Conv2dParams::make(1, 1));
        h = relu(batch_norm(h, Tensor(), Tensor(), gamma, Tensor(), true));
        const Tensor logits = conv2d(h, w2, Tensor(), Conv2dParams::make(1, 1));
        Tensor loss = cross_entropy(logits, target);
        EXPECT_EQ(loss.dtype(), DType::Float32);
        loss.backward();
    }
    return {w1.grad(), b1.grad(), gamma.grad(), w2.grad()};
}

// The error of each gradient relative to the gradient's own norm, ||got - ref|| / ||ref||, except for the first
// conv's bias: batch norm removes it, so its true gradient is 0 and its error is measured against the net's
// largest gradient norm instead.
TEST(AutocastTest, GradientsReachFloat32ParametersWithinTheFormatsTolerance) {
    const std::vector<Tensor> reference = net_gradients(std::nullopt);
    auto norm = [](const Tensor& t) { return std::sqrt(sum(mul(t, t)).item<double>()); };
    double largest = 0;
    for (const Tensor& g : reference) largest = std::max(largest, norm(g));
    // bfloat16 keeps 8 significant bits (half an ulp: 2e-3), float16 11 (2.4e-4): a few roundings on the way.
    for (auto [low, tolerance] : {std::pair{DType::BFloat16, 1.5e-2}, std::pair{DType::Float16, 2e-3}}) {
        SCOPED_TRACE(dtype_name(low));
        const std::vector<Tensor> got = net_gradients(low);
        for (size_t i = 0; i < got.size(); ++i) {
            SCOPED_TRACE("parameter " + std::to_string(i));
            ASSERT_TRUE(got[i].defined());
            EXPECT_EQ(got[i].dtype(), DType::Float32);  // master weights get float32 gradients
            const double error = norm(sub(got[i], reference[i]));
            const double scale = i == 1 ? largest : norm(reference[i]);
            EXPECT_LT(error, tolerance * scale);
            EXPECT_GT(error, 0.0) << "identical to float32: the 16-bit path did not run";
        }
    }
}

TEST(GradScalerTest, UnscalesStepsSkipsOnInfAndAdaptsTheScale) {
    Tensor p = from_vector<double>({1.0, 2.0}, {2}).to(DType::Float32);
    p.requires_grad_(true);
    optim::SgdOptions options;
    options.lr = 0.1;
    optim::SGD sgd({p}, options);
    optim::GradScalerOptions scaling;
    scaling.init_scale = 1024.0;
    scaling.growth_interval = 2;
    optim::GradScaler scaler(scaling);
    auto run = [&](double factor) {
        sgd.zero_grad();
        scaler.scale(mul(sum(mul(p, p)), factor)).backward();  // d/dp = 2 p factor, times the scale
        return scaler.step(sgd);
    };
    EXPECT_TRUE(run(1.0));
    EXPECT_TRUE(all_close(p.grad(), from_vector<double>({2.0, 4.0}, {2}).to(DType::Float32), 0, 1e-6));  // unscaled
    EXPECT_TRUE(all_close(p.detach(), from_vector<double>({0.8, 1.6}, {2}).to(DType::Float32), 0, 1e-6));
    EXPECT_EQ(scaler.current_scale(), 1024.0);
    EXPECT_TRUE(run(1.0));
    EXPECT_EQ(scaler.current_scale(), 2048.0);  // two clean steps in a row: grows
    const Tensor before = p.detach().clone();
    EXPECT_FALSE(run(INFINITY));                // an infinite gradient: no step, the scale backs off
    EXPECT_TRUE(all_close(p.detach(), before, 0, 0));
    EXPECT_EQ(scaler.current_scale(), 1024.0);
    EXPECT_EQ(scaler.skipped_steps(), 1);
    EXPECT_EQ(scaler.clean_steps(), 0);
    scaling.init_scale = 0.0;
    EXPECT_ENGINE_ERROR(optim::GradScaler{scaling}, "init_scale must be positive");
}

}  // namespace
}  // namespace engine
