// Model-level behaviour: train/eval switching of BatchNorm and Dropout, torchvision's VGG initialisation, and
// Grad-CAM through a hook on an inner UNet layer.
#include "autograd/engine.h"
#include "common/test_util.h"
#include "models/models.h"

namespace engine::models {
namespace {

using namespace engine::test;

TEST(TrainEvalTest, UNetBatchNormUsesBatchStatisticsOnlyInTraining) {
    Generator gen(1);
    UNet unet(ModelConfig::from_json(R"({"name":"unet","width":2,"num_classes":2})"), gen);
    const Tensor a = random_tensor({1, 3, 32, 32}, 2, DType::Float32);
    const Tensor b = random_tensor({1, 3, 32, 32}, 3, DType::Float32);
    const Tensor both = cat({a, b}, 0);
    NoGradGuard no_grad;
    unet.eval();
    // Eval: each image's output does not depend on the rest of the batch, and nothing is updated.
    const Tensor running = unet.buffer("middle.5.running_mean").clone();
    EXPECT_TRUE(all_close(unet(both).narrow(0, 0, 1), unet(a), 1e-5, 1e-5));
    EXPECT_TRUE(all_close(unet.buffer("middle.5.running_mean"), running, 0, 0));
    EXPECT_EQ(unet.buffer("middle.5.num_batches_tracked").item<int64_t>(), 0);
    unet.train();
    EXPECT_FALSE(all_close(unet(both).narrow(0, 0, 1), unet(a), 1e-3, 1e-3));
    EXPECT_EQ(unet.buffer("middle.5.num_batches_tracked").item<int64_t>(), 2);
    EXPECT_FALSE(all_close(unet.buffer("middle.5.running_mean"), running, 1e-6, 0));
}

TEST(TrainEvalTest, VggDropoutOnlyInTraining) {
    std::shared_ptr<Model> vgg;
    {
        nn::init::SkipInitGuard skip;  // the features' 9M normal draws are not what this test is about
        vgg = make_model("vgg11", ModelConfig::from_json(R"({"name":"vgg11","pool_size":1,"classifier_width":64,
                                                             "num_classes":4})"));
    }
    Generator gen(4);
    for (Tensor p : vgg->parameters()) nn::init::uniform_(p, -0.05, 0.05, gen);
    const Tensor x = random_tensor({2, 3, 32, 32}, 5, DType::Float32, 0.0, 1.0);
    NoGradGuard no_grad;
    vgg->train();
    EXPECT_FALSE(all_close((*vgg)(x), (*vgg)(x), 1e-7, 1e-6));
    vgg->eval();
    EXPECT_TRUE(all_close((*vgg)(x), (*vgg)(x), 0, 0));
}

TEST(VggInitTest, TorchvisionInitialisation) {
    Generator gen(6);
    VGG vgg(ModelConfig::from_json(R"({"name":"vgg11_bn","pool_size":1,"classifier_width":256})"), gen);
    const Tensor conv = vgg.parameter("features.4.weight");  // Conv2d(64, 128, 3): fan_out 128 * 9
    EXPECT_NEAR(std(conv).item<double>(), std::sqrt(2.0 / (128 * 9)), 0.02 * std::sqrt(2.0 / (128 * 9)));
    EXPECT_EQ(max(abs(vgg.parameter("features.4.bias"))).item<double>(), 0.0);
    EXPECT_EQ(vgg.parameter("features.5.weight").to_vector<float>(), std::vector<float>(128, 1.0f));  // BatchNorm
    EXPECT_NEAR(std(vgg.parameter("classifier.3.weight")).item<double>(), 0.01, 0.0005);
    EXPECT_EQ(max(abs(vgg.parameter("classifier.6.bias"))).item<double>(), 0.0);
}

// Grad-CAM at the UNet's middle block: the hook keeps the activation the decoder consumes, autograd::grad gives
// dscore/dA in the same pass, and the weights are the spatial means of that gradient.
TEST(ModelHookTest, UNetGradCamAtAnInnerLayer) {
    Generator gen(7);
    UNet unet(ModelConfig::from_json(R"({"name":"unet","width":2,"num_classes":3})"), gen);
    unet.eval();
    unet.requires_grad_(false);  // only activations' gradients are needed
    Tensor activation;
    nn::ScopedHook hook(
        unet.module("middle.3")
            .register_forward_hook([&](nn::Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
                activation = out;
                return std::nullopt;
            }));
    Tensor x = random_tensor({1, 3, 32, 32}, 8, DType::Float32);
    x.requires_grad_(true);  // something in the graph must require grad
    const Tensor logits = unet(x);
    ASSERT_TRUE(activation.defined());
    EXPECT_EQ(activation.shape(), (Shape{1, 32, 2, 2}));
    const Tensor score = sum(logits.select(1, 1));
    const Tensor grad = autograd::grad({score}, {activation})[0];
    EXPECT_EQ(grad.shape(), activation.shape());
    const Tensor weights = mean(grad, {2, 3}, true);
    const Tensor cam = relu(sum(weights * activation, {1}));
    EXPECT_EQ(cam.shape(), (Shape{1, 2, 2}));
    EXPECT_GT(sum(abs(grad)).item<double>(), 0.0);
    EXPECT_FALSE(unet.parameter("middle.3.weight").grad().defined());
}

}  // namespace
}  // namespace engine::models
