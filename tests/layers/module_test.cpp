// nn::Module: registration, dotted paths, traversal order, modes, placement, printing.
#include "common/test_util.h"
#include "layers/layers.h"

namespace engine::nn {
namespace {

using namespace engine::test;

// Two levels of nesting with a parameter, a buffer and children at each: the paths PyTorch would give.
class Inner : public Module {
public:
    Inner() {
        scale_ = register_parameter("scale", ones({3}));
        register_buffer("count", zeros({}, DType::Int64));
        register_buffer("scratch", zeros({2}), /*persistent=*/false);
        conv_ = register_module("conv", std::make_shared<Conv2d>(Conv2dOptions(3, 3, 1)));
    }
    Tensor forward(const Tensor& x) override { return (*conv_)(x)*scale_.view({1, 3, 1, 1}); }
    std::string type_name() const override { return "Inner"; }

private:
    Tensor scale_;
    std::shared_ptr<Conv2d> conv_;
};

class Outer : public Module {
public:
    Outer() {
        first_ = register_module("first", std::make_shared<Inner>());
        body_ = register_module("body", std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
                                            std::make_shared<ReLU>(), std::make_shared<BatchNorm2d>(3)}));
        bias_ = register_parameter("bias", zeros({1}));
    }
    Tensor forward(const Tensor& x) override { return (*body_)((*first_)(x)) + bias_; }
    std::string type_name() const override { return "Outer"; }

private:
    std::shared_ptr<Inner> first_;
    std::shared_ptr<Sequential> body_;
    Tensor bias_;
};

std::vector<std::string> keys(const NamedTensors& named) {
    std::vector<std::string> out;
    for (const auto& entry : named) out.push_back(entry.first);
    return out;
}

TEST(ModuleTest, PathsFollowRegistrationOrder) {
    Outer m;
    // Own tensors first, then children's, as PyTorch's named_parameters().
    EXPECT_EQ(keys(m.named_parameters()),
              (std::vector<std::string>{"bias", "first.scale", "first.conv.weight", "first.conv.bias", "body.1.weight",
                                        "body.1.bias"}));
    EXPECT_EQ(keys(m.named_buffers()), (std::vector<std::string>{"first.count", "first.scratch", "body.1.running_mean",
                                                                 "body.1.running_var", "body.1.num_batches_tracked"}));
    // state_dict: per module its parameters, its persistent buffers, then its children.
    EXPECT_EQ(keys(m.state_dict()),
              (std::vector<std::string>{"bias", "first.scale", "first.count", "first.conv.weight", "first.conv.bias",
                                        "body.1.weight", "body.1.bias", "body.1.running_mean", "body.1.running_var",
                                        "body.1.num_batches_tracked"}));
    std::vector<std::string> modules;
    for (const auto& [path, module] : m.named_modules()) modules.push_back(path + ":" + module->type_name());
    EXPECT_EQ(modules, (std::vector<std::string>{":Outer", "first:Inner", "first.conv:Conv2d", "body:Sequential",
                                                 "body.0:ReLU", "body.1:BatchNorm2d"}));
    EXPECT_EQ(m.module_paths().size(), 5u);
    EXPECT_EQ(m.named_parameters(false).size(), 1u);
    EXPECT_EQ(m.num_parameters(), 1 + 3 + 9 + 3 + 3 + 3);
}

TEST(ModuleTest, FindsModulesAndTensorsByPath) {
    Outer m;
    EXPECT_EQ(&m.module(""), &m);
    EXPECT_EQ(m.module("first.conv").type_name(), "Conv2d");
    EXPECT_EQ(m.module_as<BatchNorm2d>("body.1").options().num_features(), 3);
    EXPECT_EQ(m.find_module("body.7"), nullptr);
    EXPECT_EQ(m.find_module("first.conv.weight"), nullptr);
    EXPECT_EQ(m.find_module("first..conv"), nullptr);
    EXPECT_ENGINE_ERROR(m.module("body.7"),
                        "Outer has no submodule 'body.7'; valid paths: first, first.conv, body, body.0, body.1");
    EXPECT_ENGINE_ERROR(m.module_as<Conv2d>("body.0"), "'body.0' in Outer is a ReLU");
    EXPECT_TRUE(m.parameter("first.conv.weight").is_same(m.module_as<Conv2d>("first.conv").weight()));
    EXPECT_EQ(m.buffer("body.1.running_var").to_vector<float>(), std::vector<float>(3, 1.0f));
    EXPECT_ENGINE_ERROR(m.parameter("first.conv.bogus"), "no parameter 'first.conv.bogus'; valid names: bias, ");
}

TEST(ModuleTest, RejectsBadRegistrations) {
    Identity m;
    m.register_parameter("w", zeros({2}));
    EXPECT_ENGINE_ERROR(m.register_parameter("w", zeros({2})), "'w' is already a parameter");
    EXPECT_ENGINE_ERROR(m.register_buffer("w", zeros({2})), "'w' is already a parameter");
    EXPECT_ENGINE_ERROR(m.register_module("w", std::make_shared<ReLU>()), "'w' is already a parameter");
    EXPECT_ENGINE_ERROR(m.register_parameter("a.b", zeros({2})), "invalid parameter name 'a.b'");
    EXPECT_ENGINE_ERROR(m.register_parameter("", zeros({2})), "invalid parameter name ''");
    EXPECT_ENGINE_ERROR(m.register_parameter("i", zeros({2}, DType::Int64)), "parameter 'i' must be floating");
    EXPECT_ENGINE_ERROR(m.register_module("null", std::shared_ptr<ReLU>()), "submodule 'null' is null");
    EXPECT_TRUE(m.parameter("w").requires_grad());
}

TEST(ModuleTest, TrainAndEvalAreRecursive) {
    Outer m;
    EXPECT_TRUE(m.is_training());
    m.eval();
    for (const auto& [path, module] : m.named_modules()) EXPECT_FALSE(module->is_training()) << path;
    m.module("body").train();
    EXPECT_FALSE(m.is_training());
    EXPECT_TRUE(m.module("body.1").is_training());
    m.train();
    for (const auto& [path, module] : m.named_modules()) EXPECT_TRUE(module->is_training()) << path;
}

TEST(ModuleTest, ZeroGradAndFreezing) {
    Outer m;
    sum(m(random_tensor({2, 3, 4, 4}, 1, DType::Float32))).backward();
    for (const Tensor& p : m.parameters()) EXPECT_TRUE(p.grad().defined());
    m.zero_grad();
    for (const Tensor& p : m.parameters()) EXPECT_FALSE(p.grad().defined());
    m.module("first").requires_grad_(false);
    EXPECT_EQ(m.num_parameters(true), 1 + 3 + 3);
    sum(m(random_tensor({2, 3, 4, 4}, 2, DType::Float32))).backward();
    EXPECT_FALSE(m.parameter("first.conv.weight").grad().defined());
    EXPECT_TRUE(m.parameter("body.1.weight").grad().defined());
}

TEST(ModuleTest, ToDTypeKeepsTheSameTensors) {
    Outer m;
    const Tensor weight = m.parameter("first.conv.weight");
    const std::vector<double> before = weight.to_vector<double>();
    sum(m(random_tensor({2, 3, 4, 4}, 3, DType::Float32))).backward();
    m.to(DType::Float64);
    // The handle taken before the move sees float64 data with the same values, and its gradient moved too.
    EXPECT_EQ(weight.dtype(), DType::Float64);
    EXPECT_TRUE(weight.requires_grad());
    EXPECT_EQ(weight.grad().dtype(), DType::Float64);
    EXPECT_EQ(weight.to_vector<double>(), before);
    EXPECT_EQ(m.buffer("body.1.num_batches_tracked").dtype(), DType::Int64);  // integer buffers stay
    EXPECT_EQ(m(random_tensor({1, 3, 4, 4}, 4)).dtype(), DType::Float64);
    m.to(Device::cpu());  // already there: nothing changes
    EXPECT_EQ(weight.dtype(), DType::Float64);
    EXPECT_ENGINE_ERROR(m.to(DType::Int64), "only floating dtypes");
}

TEST(ModuleTest, PrintsLikePyTorch) {
    Sequential s{std::make_shared<Conv2d>(Conv2dOptions(1, 6, 5)),
                 std::make_shared<ReLU>(),
                 std::make_shared<MaxPool2d>(MaxPool2dOptions(2).stride(2)),
                 std::make_shared<Linear>(256, 120),
                 std::make_shared<BatchNorm2d>(6),
                 std::make_shared<Dropout>(0.5)};
    EXPECT_EQ(s.str(),
              "Sequential(\n"
              "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
              "  (1): ReLU()\n"
              "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
              "  (3): Linear(in_features=256, out_features=120, bias=True)\n"
              "  (4): BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
              "  (5): Dropout(p=0.5)\n"
              ")");
    EXPECT_EQ(ConvTranspose2d(ConvTranspose2dOptions(8, 4, 3).stride(2).padding(1).output_padding(1).bias(false))
                  .extra_repr(),
              "8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), bias=False");
}

TEST(ContainerTest, SequentialNamesChildrenByIndex) {
    Sequential s;
    auto conv = s.emplace_back<Conv2d>(Conv2dOptions(2, 4, 3).padding(1));
    s.push_back(std::make_shared<ReLU>());
    EXPECT_EQ(s.size(), 2u);
    EXPECT_EQ(&s[0], conv.get());
    EXPECT_EQ(keys(s.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
    EXPECT_ENGINE_ERROR(s[2], "index 2 out of range for 2 modules");
    EXPECT_ENGINE_ERROR(s.push_back(nullptr), "cannot append a null module");
    const Tensor x = random_tensor({1, 2, 5, 5}, 5, DType::Float32);
    EXPECT_TRUE(all_close(s(x), relu(conv2d(x, conv->weight(), conv->bias(), Conv2dParams::make(1, 1)))));
    ModuleList list{std::make_shared<ReLU>(), std::make_shared<Identity>()};
    EXPECT_EQ(list.module_paths(), (std::vector<std::string>{"0", "1"}));
    EXPECT_ENGINE_ERROR(list(x), "ModuleList has no forward()");
}

}  // namespace
}  // namespace engine::nn
