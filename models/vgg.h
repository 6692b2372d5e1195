// VGG-11/13/16/19, with or without BatchNorm, in torchvision's layout and parameter names:
//   features    Sequential of Conv2d(3x3, padding 1) [+ BatchNorm2d] + ReLU per conv and MaxPool2d(2, 2) per stage
//               (torchvision's cfgs A/B/D/E), so features.0 is the first conv; with BN each conv takes 3 indices
//   avgpool     AdaptiveAvgPool2d(pool_size, pool_size)
//   classifier  Linear(512*p*p, cw), ReLU, Dropout, Linear(cw, cw), ReLU, Dropout, Linear(cw, num_classes)
//               (classifier.0, classifier.3, classifier.6)
// config: name "vgg11".."vgg19" (+ "_bn"), in_channels (3), num_classes (1000), pool_size p (7) and
// classifier_width cw (4096), dropout (0.5). With the defaults the model is torchvision's (VGG-16: 138M
// parameters) and loads its state_dict; for small inputs (e.g. 32x32, features end at 1x1) pool_size 1 and a
// classifier_width of 256-512 give a CPU-sized model. Initialisation as torchvision: conv kaiming_normal
// (fan_out, relu) with zero bias, BatchNorm 1/0, Linear normal(0, 0.01) with zero bias.
#pragma once

#include "layers/layers.h"
#include "models/model.h"

namespace engine::models {

// torchvision's cfgs: the output channels of each 3x3 conv, 0 for a max pool.
const std::vector<int64_t>& vgg_layer_widths(int64_t depth);

// torchvision's make_layers(cfg, batch_norm) for depth 11, 13, 16 or 19, initialised as VGG does.
std::shared_ptr<nn::Sequential> make_vgg_features(int64_t depth, bool batch_norm, int64_t in_channels,
                                                  Generator& gen = default_generator());

class VGG : public Model {
public:
    explicit VGG(const ModelConfig& config = {}, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "VGG"; }
    int64_t depth() const { return depth_; }
    bool batch_norm() const { return batch_norm_; }

private:
    int64_t depth_ = 16;
    bool batch_norm_ = false;
    std::shared_ptr<nn::Sequential> features_, classifier_;
    std::shared_ptr<nn::AdaptiveAvgPool2d> avgpool_;
};

}  // namespace engine::models
