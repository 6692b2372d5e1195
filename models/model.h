// The model zoo's common ground: Model (a Module that knows its configuration), ModelConfig (round-trips
// through JSON, stored in checkpoint metadata) and make_model(), the factory the apps build models with.
//
//     models::ModelConfig config = models::ModelConfig::from_json(R"({"name": "unet", "width": 16})");
//     std::shared_ptr<models::Model> model = models::make_model(config);   // in_channels 3, num_classes 10
//     models::ModelConfig again = models::ModelConfig::from_json(model->config().to_json());   // == config
//
// Names: "unet", "lenet", "vgg11", "vgg13", "vgg16", "vgg19", the same with "_bn" (BatchNorm after every
// conv), "fcn32s".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/module.h"

namespace engine::models {

// One struct for every model; each model reads the fields it documents and ignores the rest (to_json writes
// only the fields the named model uses, so two configs of the same model compare equal by their JSON).
// A field left at 0 takes the model's default.
struct ModelConfig {
    std::string name;
    int64_t in_channels = 0;       // default 3 (LeNet: 1)
    int64_t num_classes = 0;       // default: UNet 10, LeNet 10, VGG 1000, FCN32s 21
    int64_t width = 0;             // UNet base width: default 64 (the seed notebook); 16 or 32 train on a CPU
    int64_t classifier_width = 0;  // VGG: the two hidden Linear layers' width, default 4096
    int64_t pool_size = 0;         // VGG: AdaptiveAvgPool2d output size, default 7 (1 suits 32x32 inputs)
    int64_t head_width = 0;        // FCN32s: fc6/fc7 channels, default 4096
    double dropout = -1;           // VGG classifier and FCN32s head; < 0: default 0.5

    // The same config with every default filled in; throws naming the field on an invalid value or name.
    ModelConfig resolved() const;
    // JSON of the resolved config with the keys the model uses, e.g.
    // {"in_channels":3,"name":"unet","num_classes":10,"width":64}.
    std::string to_json() const;
    // Strict: unknown keys, wrong types and invalid values are errors that name them.
    static ModelConfig from_json(const std::string& json);
    // Equal after resolution.
    bool operator==(const ModelConfig& other) const { return to_json() == other.to_json(); }
    bool operator!=(const ModelConfig& other) const { return !(*this == other); }
};

// The number of parameters make_model(config) would allocate, computed from the config alone (as a double:
// absurd configs overflow int64), so that a size that cannot fit is refused before any allocation.
double parameter_count(const ModelConfig& config);

// Every name make_model() accepts.
const std::vector<std::string>& model_names();

class Model : public nn::Module {
public:
    explicit Model(ModelConfig config) : config_(config.resolved()) {}
    const ModelConfig& config() const { return config_; }

protected:
    // `config` with its name checked against `allowed` (an empty name becomes allowed[0]); `type` names the
    // model class in the error.
    static ModelConfig checked_name(ModelConfig config, const std::vector<std::string>& allowed, const char* type);

private:
    ModelConfig config_;
};

// Builds the named model with fresh weights drawn from `gen`.
std::shared_ptr<Model> make_model(const ModelConfig& config, Generator& gen = default_generator());
std::shared_ptr<Model> make_model(const std::string& name, ModelConfig options = {},
                                  Generator& gen = default_generator());

}  // namespace engine::models
