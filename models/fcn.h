// FCN-32s (Long et al.) on a VGG-16 backbone:
//   features  torchvision's VGG-16 features (features.0 ... features.30; 5 max pools, stride 32)
//   fc6       Sequential(Conv2d(512, hw, 7, padding 3), ReLU, Dropout)     (fc6.0.weight/bias)
//   fc7       Sequential(Conv2d(hw, hw, 1), ReLU, Dropout)                 (fc7.0.weight/bias)
//   score     Conv2d(hw, num_classes, 1)
//   upscore   ConvTranspose2d(num_classes, num_classes, 64, stride 32, padding 16, bias false), initialised to
//             bilinear upsampling (the FCN paper's fixed-at-start deconvolution)
// hw = config.head_width (4096 as in the paper; 256-512 for CPU use), num_classes default 21, dropout 0.5 (the
// paper's Dropout2d is replaced by elementwise dropout). Input (N, in, H, W) with H, W >= 32; the upsampled
// scores are 32 * floor(H / 32) high, so for H, W multiples of 32 the output is (N, C, H, W) exactly, and
// otherwise it is resized to (H, W) with bilinear interpolation. The features take a torchvision VGG-16
// state_dict's features.* tensors (load_weights with strict = false).
#pragma once

#include "layers/layers.h"
#include "models/model.h"

namespace engine::models {

class FCN32s : public Model {
public:
    explicit FCN32s(const ModelConfig& config = {}, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "FCN32s"; }

private:
    std::shared_ptr<nn::Sequential> features_, fc6_, fc7_;
    std::shared_ptr<nn::Conv2d> score_;
    std::shared_ptr<nn::ConvTranspose2d> upscore_;
};

// The (channels, channels, k, k) ConvTranspose2d weight that upsamples each channel bilinearly (FCN's
// get_upsampling_weight: a separable triangle filter on the diagonal, zero elsewhere).
Tensor bilinear_upsampling_weight(int64_t channels, int64_t kernel_size);

}  // namespace engine::models
