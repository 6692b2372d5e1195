// Forward hooks and pre-hooks: what they see, replacing outputs and inputs, removal, and the Grad-CAM pattern
// (an inner activation and its gradient from one forward and one backward).
#include "autograd/engine.h"
#include "common/test_util.h"
#include "layers/layers.h"

namespace engine::nn {
namespace {

using namespace engine::test;

// conv -> relu -> pool -> flatten -> linear: a miniature classifier whose tail is easy to re-run by hand.
std::shared_ptr<Sequential> small_net() {
    Generator gen(7);
    auto net = std::make_shared<Sequential>();
    net->emplace_back<Conv2d>(Conv2dOptions(2, 4, 3).padding(1), gen);
    net->emplace_back<ReLU>();
    net->emplace_back<MaxPool2d>(MaxPool2dOptions(2));
    net->emplace_back<Flatten>();
    net->emplace_back<Linear>(4 * 3 * 3, 5, gen);
    return net;
}

Tensor select_class(const Tensor& logits) { return logits.select(1, 3); }

TEST(ModuleHookTest, ForwardHookSeesInputAndOutput) {
    auto net = small_net();
    const Tensor x = random_tensor({2, 2, 6, 6}, 1, DType::Float32);
    Tensor seen_input, seen_output;
    Module* seen_module = nullptr;
    auto handle = net->module("1").register_forward_hook(
        [&](Module& m, const Tensor& in, const Tensor& out) -> std::optional<Tensor> {
            seen_module = &m;
            seen_input = in;
            seen_output = out;
            return std::nullopt;
        });
    const Tensor y = (*net)(x);
    EXPECT_EQ(seen_module, &net->module("1"));
    Module& conv = net->module("0");
    EXPECT_TRUE(all_close(seen_input, conv(x)));
    EXPECT_TRUE(all_close(seen_output, relu(seen_input)));
    EXPECT_TRUE(handle.active());
    EXPECT_EQ(net->module("1").num_forward_hooks(), 1u);
    handle.remove();
    handle.remove();  // idempotent
    EXPECT_FALSE(handle.active());
    seen_output = Tensor();
    (*net)(x);
    EXPECT_FALSE(seen_output.defined());
}

TEST(ModuleHookTest, HookCanReplaceTheOutput) {
    auto net = small_net();
    const Tensor x = random_tensor({1, 2, 6, 6}, 2, DType::Float32);
    const Tensor plain = (*net)(x);
    // Zeroing the conv output makes the classifier return its bias.
    auto handle = net->module("0").register_forward_hook(
        [](Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> { return zeros_like(out); });
    const Tensor& bias = net->module_as<Linear>("4").bias();
    EXPECT_TRUE(all_close((*net)(x), bias.unsqueeze(0)));
    // A second hook sees the first one's replacement.
    Tensor second_saw;
    auto second =
        net->module("0").register_forward_hook([&](Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
            second_saw = out;
            return std::nullopt;
        });
    (*net)(x);
    EXPECT_EQ(sum(abs(second_saw)).item<double>(), 0.0);
    handle.remove();
    second.remove();
    EXPECT_TRUE(all_close((*net)(x), plain, 0, 0));
}

TEST(ModuleHookTest, PreHookCanReplaceTheInput) {
    Linear layer(3, 2);
    const Tensor x = random_tensor({4, 3}, 3, DType::Float32);
    auto handle =
        layer.register_forward_pre_hook([](Module&, const Tensor& in) -> std::optional<Tensor> { return in * 2.0; });
    Tensor hook_input;
    layer.register_forward_hook([&](Module&, const Tensor& in, const Tensor&) -> std::optional<Tensor> {
        hook_input = in;
        return std::nullopt;
    });
    EXPECT_TRUE(all_close(layer(x), linear(x * 2.0, layer.weight(), layer.bias())));
    EXPECT_TRUE(all_close(hook_input, x * 2.0));  // the forward hook gets the input forward() got
    handle.remove();
    EXPECT_TRUE(all_close(layer(x), linear(x, layer.weight(), layer.bias())));
}

TEST(ModuleHookTest, ScopedHookAndSelfRemoval) {
    ReLU relu_layer;
    const Tensor x = random_tensor({3}, 4, DType::Float32);
    int calls = 0;
    {
        ScopedHook scoped(relu_layer.register_forward_hook([&](Module&, const Tensor&, const Tensor&) {
            ++calls;
            return std::optional<Tensor>();
        }));
        relu_layer(x);
        EXPECT_EQ(calls, 1);
    }
    relu_layer(x);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(relu_layer.num_forward_hooks(), 0u);

    // A hook that removes itself while it runs: it fires once.
    ForwardHookHandle self;
    self = relu_layer.register_forward_hook([&](Module&, const Tensor&, const Tensor&) {
        ++calls;
        self.remove();
        return std::optional<Tensor>();
    });
    relu_layer(x);
    relu_layer(x);
    EXPECT_EQ(calls, 2);

    // A handle outliving its module is harmless.
    ForwardHookHandle orphan;
    {
        ReLU temporary;
        orphan = temporary.register_forward_hook(
            [](Module&, const Tensor&, const Tensor&) { return std::optional<Tensor>(); });
    }
    EXPECT_FALSE(orphan.active());
    orphan.remove();
}

// Grad-CAM needs, from one forward and one backward, an inner layer's activation A and dscore/dA. The hook keeps
// the very output the network continues with, so both autograd::grad and a tensor hook on it work.
TEST(ModuleHookTest, GradCamActivationAndGradientInOnePass) {
    auto net = small_net();
    const Tensor x = random_tensor({2, 2, 6, 6}, 5, DType::Float32);
    Tensor activation;
    auto handle =
        net->module("1").register_forward_hook([&](Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
            activation = out;
            return std::nullopt;
        });
    Tensor hooked_grad;
    auto tensor_hook =
        net->module("1").register_forward_hook([&](Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
            out.register_hook([&](const Tensor& g) {
                hooked_grad = g;
                return Tensor();
            });
            return std::nullopt;
        });
    const Tensor score = sum(select_class((*net)(x)));
    const Tensor grad = autograd::grad({score}, {activation}, {}, /*retain_graph=*/true)[0];

    // Reference: re-run the tail of the network from a detached copy of the activation.
    Tensor leaf = activation.detach();
    leaf.requires_grad_(true);
    Tensor tail = leaf;
    for (size_t i = 2; i < net->size(); ++i) tail = (*net)[i](tail);
    sum(select_class(tail)).backward();
    EXPECT_TRUE(all_close(grad, leaf.grad()));

    // The same backward that fills the weights' gradients also reaches the tensor hook.
    score.backward();
    EXPECT_TRUE(all_close(hooked_grad, leaf.grad()));
    EXPECT_TRUE(net->module_as<Conv2d>("0").weight().grad().defined());
    handle.remove();
    tensor_hook.remove();
}

}  // namespace
}  // namespace engine::nn
