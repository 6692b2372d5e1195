// The UNet of the seed notebook, with its exact module names so that its PyTorch state_dict loads directly.
// w = config.width (64 in the notebook), C = config.num_classes, in = config.in_channels:
//
//   contracting_11  block(in -> w)       contracting_12  MaxPool2d(2, 2)
//   contracting_21  block(w -> 2w)       contracting_22  MaxPool2d(2, 2)
//   contracting_31  block(2w -> 4w)      contracting_32  MaxPool2d(2, 2)
//   contracting_41  block(4w -> 8w)      contracting_42  MaxPool2d(2, 2)
//   middle          block(8w -> 16w)
//   expansive_11    ConvTranspose2d(16w, 8w, 3, stride 2, padding 1, output_padding 1)
//   expansive_12    block(16w -> 8w)  on cat(expansive_11 out, contracting_41 out)
//   expansive_21    ConvTranspose2d(8w, 4w, ...)   expansive_22  block(8w -> 4w)  on cat(.., contracting_31 out)
//   expansive_31    ConvTranspose2d(4w, 2w, ...)   expansive_32  block(4w -> 2w)  on cat(.., contracting_21 out)
//   expansive_41    ConvTranspose2d(2w, w, ...)    expansive_42  block(2w -> w)   on cat(.., contracting_11 out)
//   output          Conv2d(w, C, 3, padding 1)
//
// block(a -> b) = Sequential(Conv2d(a, b, 3, padding 1), ReLU, BatchNorm2d(b), Conv2d(b, b, 3, padding 1), ReLU,
// BatchNorm2d(b)): parameter paths contracting_11.0.weight/bias, contracting_11.2.{weight, bias, running_mean,
// running_var, num_batches_tracked}, contracting_11.3.*, contracting_11.5.*. Note ReLU comes before BatchNorm.
// Skip connections concatenate along channels with the upsampled tensor first: torch.cat((up, skip), dim=1).
// Input (N, in, H, W) with H and W multiples of 16; output logits (N, C, H, W). 34.5M parameters at w 64, in 3,
// C 10; 2.2M at w 16.
#pragma once

#include "layers/layers.h"
#include "models/model.h"

namespace engine::models {

class UNet : public Model {
public:
    // config.name must be "unet" or empty.
    explicit UNet(const ModelConfig& config = {}, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "UNet"; }

private:
    std::shared_ptr<nn::Sequential> contracting_11_, contracting_21_, contracting_31_, contracting_41_, middle_;
    std::shared_ptr<nn::MaxPool2d> contracting_12_, contracting_22_, contracting_32_, contracting_42_;
    std::shared_ptr<nn::ConvTranspose2d> expansive_11_, expansive_21_, expansive_31_, expansive_41_;
    std::shared_ptr<nn::Sequential> expansive_12_, expansive_22_, expansive_32_, expansive_42_;
    std::shared_ptr<nn::Conv2d> output_;
};

}  // namespace engine::models
