// Every model's state_dict keys, shapes, parameter count and module paths equal the ones PyTorch gives for the
// same configuration (tests/data/models/model_names.json, written by models/export_torch.py from the notebook's
// UNet, the tutorial's LeNet, torchvision's VGGs and our FCN32s definition); forward output shapes; ModelConfig.
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "models/models.h"

namespace engine::models {
namespace {

using namespace engine::test;
using nlohmann::json;

json names_fixture() {
    std::ifstream in(std::string(ENGINE_TEST_DATA_DIR) + "/models/model_names.json");
    EXPECT_TRUE(in.good());
    return json::parse(in);
}

TEST(ModelNamesTest, StateDictsMatchPyTorch) {
    const json entries = names_fixture();
    ASSERT_GE(entries.size(), 12u);
    for (const json& entry : entries) {
        const std::string config = entry.at("config").dump();
        nn::init::SkipInitGuard names_only;  // 150M parameters over all entries: no need to draw them
        auto model = make_model(ModelConfig::from_json(config));
        const nn::NamedTensors state = model->state_dict();
        const json& expected = entry.at("state_dict");
        ASSERT_EQ(state.size(), expected.size()) << config;
        for (size_t i = 0; i < state.size(); ++i) {
            EXPECT_EQ(state[i].first, expected[i][0].get<std::string>()) << config;
            EXPECT_EQ(state[i].second.shape(), expected[i][1].get<Shape>()) << config << " " << state[i].first;
        }
        EXPECT_EQ(model->num_parameters(), entry.at("num_parameters").get<int64_t>()) << config;
        // The count make_model checks against memory before building, from the config alone.
        EXPECT_EQ(parameter_count(ModelConfig::from_json(config)), static_cast<double>(model->num_parameters()))
            << config;
        EXPECT_EQ(model->module_paths(), entry.at("modules").get<std::vector<std::string>>()) << config;
    }
}

// VGG's features draw 9-15M normal values; shapes do not need them.
std::shared_ptr<Model> make_model_fast(const std::string& name, const ModelConfig& config) {
    nn::init::SkipInitGuard skip;
    return make_model(name, config);
}

std::shared_ptr<Model> constant_weights(std::shared_ptr<Model> model) {
    for (Tensor p : model->parameters())
        if (p.dim() > 1) nn::init::constant_(p, 0.01);
    return model;
}

TEST(ModelShapeTest, ForwardOutputShapes) {
    Generator gen(1);
    NoGradGuard no_grad;
    ModelConfig unet_config;
    unet_config.width = 4;
    unet_config.num_classes = 5;
    auto unet = make_model("unet", unet_config, gen);
    EXPECT_EQ((*unet)(random_tensor({1, 3, 64, 64}, 2, DType::Float32)).shape(), (Shape{1, 5, 64, 64}));
    EXPECT_EQ((*unet)(random_tensor({2, 3, 32, 48}, 3, DType::Float32)).shape(), (Shape{2, 5, 32, 48}));
    EXPECT_ENGINE_ERROR((*unet)(random_tensor({1, 3, 40, 40}, 4, DType::Float32)),
                        "UNet: expected an input of shape (N, 3, H, W) with H and W positive multiples of 16, got "
                        "[1, 3, 40, 40]");

    auto lenet = make_model("lenet", {}, gen);
    EXPECT_EQ((*lenet)(random_tensor({3, 1, 28, 28}, 5, DType::Float32)).shape(), (Shape{3, 10}));
    EXPECT_ENGINE_ERROR((*lenet)(random_tensor({1, 1, 32, 32}, 6, DType::Float32)),
                        "LeNet: expected an input of shape (N, 1, 28, 28), got [1, 1, 32, 32]");

    ModelConfig small_vgg;
    small_vgg.num_classes = 10, small_vgg.pool_size = 1, small_vgg.classifier_width = 32;
    auto vgg = constant_weights(make_model_fast("vgg11_bn", small_vgg));
    vgg->eval();
    EXPECT_EQ((*vgg)(random_tensor({2, 3, 32, 32}, 7, DType::Float32)).shape(), (Shape{2, 10}));

    ModelConfig fcn_config;
    fcn_config.num_classes = 4, fcn_config.head_width = 16;
    auto fcn = constant_weights(make_model_fast("fcn32s", fcn_config));
    fcn->eval();
    EXPECT_EQ((*fcn)(random_tensor({1, 3, 64, 64}, 8, DType::Float32)).shape(), (Shape{1, 4, 64, 64}));
    EXPECT_EQ((*fcn)(random_tensor({1, 3, 48, 40}, 9, DType::Float32)).shape(), (Shape{1, 4, 48, 40}));
    EXPECT_ENGINE_ERROR((*fcn)(random_tensor({1, 3, 16, 64}, 10, DType::Float32)), "with H, W >= 32");
}

// FCN's upscore starts as bilinear upsampling: away from the borders it equals interpolate(align_corners=false).
TEST(FCN32sTest, UpscoreIsBilinearUpsampling) {
    ModelConfig config;
    config.num_classes = 3, config.head_width = 8;
    std::unique_ptr<FCN32s> built;
    {
        nn::init::SkipInitGuard skip;  // only upscore is used, and its bilinear weights are set regardless
        built = std::make_unique<FCN32s>(config);
    }
    FCN32s& fcn = *built;
    auto& upscore = fcn.module_as<nn::ConvTranspose2d>("upscore");
    EXPECT_FALSE(upscore.bias().defined());
    const Tensor x = random_tensor({1, 3, 4, 4}, 11, DType::Float32);
    const Tensor up = upscore(x), reference = interpolate(x, 128, 128, InterpMode::Bilinear, false);
    EXPECT_TRUE(
        all_close(up.narrow(2, 16, 96).narrow(3, 16, 96), reference.narrow(2, 16, 96).narrow(3, 16, 96), 1e-5, 1e-5));
    const std::vector<float> w = bilinear_upsampling_weight(2, 4).to_vector<float>();
    // k 4: factor 2, center 1.5, taps (0.25, 0.75, 0.75, 0.25); off-diagonal channel pairs are zero.
    EXPECT_FLOAT_EQ(w[0], 0.0625f);
    EXPECT_FLOAT_EQ(w[5], 0.5625f);
    EXPECT_FLOAT_EQ(w[16], 0.0f);
}

TEST(ModelConfigTest, JsonRoundTripAndDefaults) {
    for (const std::string& name : models::model_names()) {
        ModelConfig c;
        c.name = name;
        const ModelConfig back = ModelConfig::from_json(c.to_json());
        EXPECT_EQ(back, c) << name;
        EXPECT_EQ(back.to_json(), c.to_json()) << name;
    }
    const ModelConfig unet = ModelConfig::from_json(R"({"name": "unet", "width": 16, "in_channels": 1})");
    EXPECT_EQ(unet.to_json(), R"({"in_channels":1,"name":"unet","num_classes":10,"width":16})");
    const ModelConfig vgg = ModelConfig::from_json(R"({"name": "vgg16_bn"})");
    EXPECT_EQ(vgg.num_classes, 1000);
    EXPECT_EQ(vgg.pool_size, 7);
    EXPECT_EQ(vgg.classifier_width, 4096);
    EXPECT_EQ(vgg.dropout, 0.5);
    EXPECT_EQ(ModelConfig::from_json(R"({"name": "lenet"})").in_channels, 1);
    EXPECT_EQ(ModelConfig::from_json(R"({"name": "fcn32s"})").num_classes, 21);
}

TEST(ModelConfigTest, ErrorsNameTheProblem) {
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "resnet50"})"),
                        "unknown model 'resnet50' (known: unet, lenet, vgg11, vgg13, vgg16, vgg19, vgg11_bn");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "unet", "widht": 16})"), "unknown key 'widht'");
    // Names and keys from the file are quoted with control characters escaped: the message stays one line
    // (found by .ci/fuzz).
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "f\n32s"})"), "unknown model 'f\\n32s' (known:");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "unet", "a\u0001b": 1})"), "unknown key 'a\\x01b'");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "unet", "width": -4})"),
                        "'width' must be a positive integer, got -4");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "unet", "width": 2.5})"), "'width' must be a positive");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "lenet", "width": 16})"), "'width' does not apply to lenet");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"name": "vgg11", "dropout": 1.5})"), "'dropout' must be in [0, 1]");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json("{\"name\": "), "not valid JSON");
    EXPECT_ENGINE_ERROR(ModelConfig::from_json(R"({"width": 4})"), "no model name");
    EXPECT_ENGINE_ERROR(make_model("unet", ModelConfig::from_json(R"({"name": "lenet"})")),
                        "asked for 'unet' with a config of 'lenet'");
    // Sizes that cannot fit are refused from the config, before the constructor allocates anything.
    EXPECT_ENGINE_ERROR(make_model(ModelConfig::from_json(R"({"name": "lenet", "num_classes": 100000000000})")),
                        "8.5e+12 parameters");
    EXPECT_ENGINE_ERROR(make_model(ModelConfig::from_json(R"({"name": "fcn32s", "num_classes": 100000})")),
                        "more than this machine's");
    ModelConfig wrong;
    wrong.name = "lenet";
    EXPECT_ENGINE_ERROR(UNet(wrong), "UNet: cannot be built from a config of model 'lenet'");
}

}  // namespace
}  // namespace engine::models
