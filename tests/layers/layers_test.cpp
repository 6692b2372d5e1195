// The layers: parameter names and shapes, PyTorch's default initialisation, forward against the ops or a
// hand computation, train/eval behaviour of BatchNorm2d and Dropout, and input validation.
#include "layers/layers.h"

#include <cmath>

#include "common/test_util.h"

namespace engine::nn {
namespace {

using namespace engine::test;

std::vector<std::string> keys(const NamedTensors& named) {
    std::vector<std::string> out;
    for (const auto& entry : named) out.push_back(entry.first);
    return out;
}

// Every value within [-bound, bound], and the extremes near the bound (a uniform draw, not a smaller spread).
void expect_uniform_within(const Tensor& t, double bound) {
    const std::vector<double> v = t.to_vector<double>();
    double lo = 0, hi = 0;
    for (double x : v) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    EXPECT_LE(hi, bound);
    EXPECT_GE(lo, -bound);
    EXPECT_GT(hi, 0.8 * bound);
    EXPECT_LT(lo, -0.8 * bound);
}

TEST(Conv2dTest, ParametersInitialisationAndForward) {
    Generator gen(1);
    Conv2d conv(Conv2dOptions(4, 6, {3, 5}).stride(2).padding({1, 2}).dilation(1).groups(2), gen);
    EXPECT_EQ(keys(conv.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
    EXPECT_EQ(conv.weight().shape(), (Shape{6, 2, 3, 5}));
    EXPECT_EQ(conv.bias().shape(), (Shape{6}));
    const double bound = 1.0 / std::sqrt(2.0 * 3 * 5);  // fan_in = in/groups * kh * kw
    expect_uniform_within(conv.weight(), bound);
    for (double b : conv.bias().to_vector<double>()) EXPECT_LE(std::abs(b), bound);
    const Tensor x = random_tensor({2, 4, 7, 9}, 2, DType::Float32);
    const Conv2dParams p{2, 2, 1, 2, 1, 1, 2};
    EXPECT_TRUE(all_close(conv(x), conv2d(x, conv.weight(), conv.bias(), p), 0, 0));
    EXPECT_ENGINE_ERROR(conv(random_tensor({2, 3, 7, 9}, 3, DType::Float32)),
                        "Conv2d(4, 6, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), groups=2): expected an "
                        "input of shape (N, 4, H, W), got [2, 3, 7, 9]");
    Conv2d no_bias(Conv2dOptions(1, 2, 3).bias(false));
    EXPECT_EQ(keys(no_bias.named_parameters()), std::vector<std::string>{"weight"});
    EXPECT_FALSE(no_bias.bias().defined());
    EXPECT_ENGINE_ERROR(Conv2d(Conv2dOptions(3, 4, 3).groups(2)), "groups 2 must divide in_channels 3");
}

TEST(Conv2dTest, SameGeneratorSeedGivesTheSameWeights) {
    Generator a(5), b(5);
    Conv2d x(Conv2dOptions(3, 8, 3), a), y(Conv2dOptions(3, 8, 3), b);
    EXPECT_TRUE(all_close(x.weight(), y.weight(), 0, 0));
    EXPECT_TRUE(all_close(x.bias(), y.bias(), 0, 0));
}

TEST(ConvTranspose2dTest, WeightLayoutAndOutputSize) {
    Generator gen(3);
    ConvTranspose2d up(ConvTranspose2dOptions(8, 4, 3).stride(2).padding(1).output_padding(1), gen);
    EXPECT_EQ(up.weight().shape(), (Shape{8, 4, 3, 3}));           // (in, out/groups, kh, kw) as PyTorch
    expect_uniform_within(up.weight(), 1.0 / std::sqrt(4.0 * 9));  // PyTorch's fan_in is size(1) * kh * kw
    const Tensor x = random_tensor({1, 8, 5, 6}, 4, DType::Float32);
    const Tensor y = up(x);
    EXPECT_EQ(y.shape(), (Shape{1, 4, 10, 12}));  // (in - 1) * 2 - 2 + 3 + 1
    EXPECT_TRUE(all_close(y, conv_transpose2d(x, up.weight(), up.bias(), Conv2dParams::make(2, 1), 1, 1), 0, 0));
    ConvTranspose2d grouped(ConvTranspose2dOptions(4, 6, 2).groups(2).bias(false));
    EXPECT_EQ(grouped.weight().shape(), (Shape{4, 3, 2, 2}));
    EXPECT_ENGINE_ERROR(ConvTranspose2d(ConvTranspose2dOptions(4, 4, 3).stride(2).output_padding(2)),
                        "output_padding (2, 2) must be smaller than either stride (2, 2) or dilation (1, 1)");
}

// Per-channel batch statistics in double: mean, biased and unbiased variance.
struct ChannelStats {
    std::vector<double> mean, var, unbiased;
};

ChannelStats channel_stats(const Tensor& x) {
    const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
    const std::vector<double> v = x.to_vector<double>();
    ChannelStats s{std::vector<double>(c), std::vector<double>(c), std::vector<double>(c)};
    for (int64_t ch = 0; ch < c; ++ch) {
        double total = 0, squares = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < hw; ++k) total += v[(i * c + ch) * hw + k];
        const double count = static_cast<double>(n * hw), mean = total / count;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t k = 0; k < hw; ++k) squares += std::pow(v[(i * c + ch) * hw + k] - mean, 2);
        s.mean[ch] = mean;
        s.var[ch] = squares / count;
        s.unbiased[ch] = squares / (count - 1);
    }
    return s;
}

TEST(BatchNorm2dTest, TrainUsesBatchStatisticsAndUpdatesRunningOnes) {
    BatchNorm2d bn(BatchNorm2dOptions(3).momentum(0.2));
    EXPECT_EQ(keys(bn.state_dict()),
              (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
    EXPECT_EQ(bn.weight().to_vector<float>(), std::vector<float>(3, 1.0f));
    EXPECT_EQ(bn.bias().to_vector<float>(), std::vector<float>(3, 0.0f));
    EXPECT_EQ(bn.num_batches_tracked().dtype(), DType::Int64);
    EXPECT_EQ(bn.num_batches_tracked().dim(), 0);
    const Tensor x = random_tensor({2, 3, 4, 5}, 6, DType::Float64, -1.0, 3.0);
    bn.to(DType::Float64);
    const ChannelStats s = channel_stats(x);
    const Tensor y = bn(x);
    const std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
    for (size_t i = 0; i < xv.size(); ++i) {
        const int64_t ch = static_cast<int64_t>(i / 20) % 3;
        ASSERT_NEAR(yv[i], (xv[i] - s.mean[ch]) / std::sqrt(s.var[ch] + 1e-5), 1e-10);
    }
    const std::vector<double> rm = bn.running_mean().to_vector<double>(), rv = bn.running_var().to_vector<double>();
    for (int ch = 0; ch < 3; ++ch) {
        EXPECT_NEAR(rm[ch], 0.2 * s.mean[ch], 1e-12);
        EXPECT_NEAR(rv[ch], 0.8 + 0.2 * s.unbiased[ch], 1e-12);
    }
    EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 1);

    // Eval: the running statistics normalise, and nothing is updated.
    bn.eval();
    const std::vector<double> ye = bn(x).to_vector<double>();
    for (size_t i = 0; i < xv.size(); ++i) {
        const int64_t ch = static_cast<int64_t>(i / 20) % 3;
        ASSERT_NEAR(ye[i], (xv[i] - rm[ch]) / std::sqrt(rv[ch] + 1e-5), 1e-10);
    }
    EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 1);
    EXPECT_EQ(bn.running_mean().to_vector<double>(), rm);
}

TEST(BatchNorm2dTest, CumulativeAverageWithoutMomentum) {
    BatchNorm2d bn(BatchNorm2dOptions(2).momentum(std::nullopt));
    bn.to(DType::Float64);
    const Tensor a = random_tensor({2, 2, 3, 3}, 7), b = random_tensor({2, 2, 3, 3}, 8, DType::Float64, 0.0, 4.0);
    bn(a);
    bn(b);
    const ChannelStats sa = channel_stats(a), sb = channel_stats(b);
    const std::vector<double> rm = bn.running_mean().to_vector<double>();
    for (int ch = 0; ch < 2; ++ch) EXPECT_NEAR(rm[ch], (sa.mean[ch] + sb.mean[ch]) / 2, 1e-12);
    EXPECT_EQ(bn.num_batches_tracked().item<int64_t>(), 2);
    EXPECT_EQ(bn.extra_repr(), "2, eps=1e-05, momentum=None, affine=True, track_running_stats=True");
}

TEST(BatchNorm2dTest, WithoutAffineOrRunningStats) {
    BatchNorm2d bn(BatchNorm2dOptions(2).affine(false).track_running_stats(false));
    EXPECT_TRUE(bn.state_dict().empty());
    bn.eval();  // no running statistics: batch statistics even in eval mode
    const Tensor x = random_tensor({3, 2, 2, 2}, 9, DType::Float32);
    const Tensor y = bn(x);
    EXPECT_TRUE(all_close(mean(y, {0, 2, 3}), zeros({2}), 1e-6, 0));
    EXPECT_ENGINE_ERROR(bn(random_tensor({3, 2, 4}, 1, DType::Float32)),
                        "BatchNorm2d(2): expected an input of shape (N, 2, H, W), got [3, 2, 4]");
}

TEST(PoolTest, ForwardMatchesTheOpsWithPyTorchDefaults) {
    const Tensor x = random_tensor({2, 3, 9, 8}, 10, DType::Float32);
    MaxPool2d max2(MaxPool2dOptions(2));
    Pool2dParams p;  // kernel 2, stride = kernel
    EXPECT_TRUE(all_close(max2(x), max_pool2d(x, p), 0, 0));
    EXPECT_EQ(max2(x).shape(), (Shape{2, 3, 4, 4}));
    MaxPool2d max3(MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
    EXPECT_EQ(max3(x).shape(), (Shape{2, 3, 5, 5}));
    AvgPool2d avg(AvgPool2dOptions({3, 2}).stride(1).padding(1).count_include_pad(false));
    Pool2dParams q;
    q.kernel_h = 3, q.kernel_w = 2, q.stride_h = 1, q.stride_w = 1, q.pad_h = 1, q.pad_w = 1;
    q.count_include_pad = false;
    EXPECT_TRUE(all_close(avg(x), avg_pool2d(x, q), 0, 0));
    AdaptiveAvgPool2d adaptive({2, 3});
    EXPECT_TRUE(all_close(adaptive(x), adaptive_avg_pool2d(x, 2, 3), 0, 0));
    EXPECT_ENGINE_ERROR(MaxPool2d(MaxPool2dOptions(2).padding(2)), "padding (2, 2) should be at most half");
}

TEST(LinearTest, ParametersAndForward) {
    Generator gen(11);
    Linear fc(LinearOptions(20, 7), gen);
    EXPECT_EQ(fc.weight().shape(), (Shape{7, 20}));
    expect_uniform_within(fc.weight(), 1.0 / std::sqrt(20.0));
    const Tensor x = random_tensor({5, 20}, 12, DType::Float32);
    EXPECT_TRUE(all_close(fc(x), linear(x, fc.weight(), fc.bias()), 0, 0));
    EXPECT_ENGINE_ERROR(fc(random_tensor({5, 19}, 13, DType::Float32)),
                        "expected an input whose last dim is 20, got [5, 19]");
    Linear plain(LinearOptions(3, 2).bias(false));
    EXPECT_EQ(plain.state_dict().size(), 1u);
}

TEST(DropoutTest, DropsOnlyInTraining) {
    Generator gen(14);
    Dropout drop(0.25, gen);
    const Tensor x = ones({4000});
    const std::vector<double> y = drop(x).to_vector<double>();
    int64_t zeros_seen = 0;
    for (double v : y) {
        if (v == 0.0)
            ++zeros_seen;
        else
            ASSERT_NEAR(v, 1.0 / 0.75, 1e-6);
    }
    EXPECT_NEAR(static_cast<double>(zeros_seen) / 4000.0, 0.25, 0.03);
    drop.eval();
    EXPECT_TRUE(all_close(drop(x), x, 0, 0));
    EXPECT_ENGINE_ERROR(Dropout(1.5), "probability has to be between 0 and 1, but got 1.5");
}

TEST(ActivationTest, ReluFlattenSoftmaxIdentity) {
    const Tensor x = random_tensor({2, 3, 4}, 15, DType::Float32);
    EXPECT_TRUE(all_close(ReLU()(x), relu(x), 0, 0));
    EXPECT_EQ(Flatten()(x).shape(), (Shape{2, 12}));
    EXPECT_EQ(Flatten(0, 1)(x).shape(), (Shape{6, 4}));
    EXPECT_TRUE(all_close(Softmax(1)(x), softmax(x, 1), 0, 0));
    EXPECT_TRUE(Identity()(x).is_same(x));
}

}  // namespace
}  // namespace engine::nn

namespace engine::nn {
namespace {

TEST(InitTest, SkipInitGuardDrawsNothing) {
    Generator gen(21);
    const uint64_t offset = gen.offset();
    {
        init::SkipInitGuard skip;
        EXPECT_TRUE(init::SkipInitGuard::active());
        Conv2d conv(Conv2dOptions(3, 4, 3), gen);
        Linear fc(5, 2, gen);
        BatchNorm2d bn(4);  // buffers and affine parameters are set by the layer itself, not by init
        EXPECT_EQ(bn.running_var().to_vector<float>(), std::vector<float>(4, 1.0f));
        EXPECT_EQ(bn.weight().to_vector<float>(), std::vector<float>(4, 1.0f));
    }
    EXPECT_FALSE(init::SkipInitGuard::active());
    EXPECT_EQ(gen.offset(), offset);
    Conv2d conv(Conv2dOptions(3, 4, 3), gen);
    EXPECT_GT(gen.offset(), offset);
}

TEST(InitTest, KaimingAndFans) {
    Tensor w = empty({64, 32, 3, 3});
    EXPECT_EQ(init::fan_in_and_fan_out(w), (std::pair<int64_t, int64_t>{32 * 9, 64 * 9}));
    Generator gen(22);
    init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, gen);
    const double expected_std = std::sqrt(2.0 / (64 * 9));
    EXPECT_NEAR(std(w).item<double>(), expected_std, 0.03 * expected_std);
    EXPECT_NEAR(mean(w).item<double>(), 0.0, 0.03 * expected_std);
    init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, gen);
    expect_uniform_within(w, std::sqrt(6.0 / (32 * 9)));
    EXPECT_ENGINE_ERROR(init::fan_in_and_fan_out(empty({3})), "needs a tensor with at least 2 dims");
}

}  // namespace
}  // namespace engine::nn
