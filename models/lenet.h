// LeNet as in the Grad-CAM tutorial (and apps/quickstart), with PyTorch's module names:
//   conv = Sequential(Conv2d(in, 6, 5), ReLU, MaxPool2d(2, 2), Conv2d(6, 16, 5), ReLU, MaxPool2d(2, 2))
//   fc   = Sequential(Linear(256, 120), ReLU, Linear(120, 84), ReLU, Linear(84, num_classes))
// forward: fc(conv(x).flatten(1)). Input (N, in, 28, 28) (in = config.in_channels, default 1); output logits
// (N, num_classes) (default 10). Parameter paths conv.0.*, conv.3.*, fc.0.*, fc.2.*, fc.4.*; 44,426 parameters.
#pragma once

#include "layers/layers.h"
#include "models/model.h"

namespace engine::models {

class LeNet : public Model {
public:
    explicit LeNet(const ModelConfig& config = {}, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "LeNet"; }

private:
    std::shared_ptr<nn::Sequential> conv_, fc_;
};

}  // namespace engine::models
