// The seed notebook's UNet: registration order and names follow its __init__, so state_dict keys match.
#include "models/unet.h"

namespace engine::models {
namespace {

std::shared_ptr<nn::Sequential> conv_block(int64_t in, int64_t out, Generator& gen) {
    using namespace nn;
    auto block = std::make_shared<Sequential>();
    block->push_back(std::make_shared<Conv2d>(Conv2dOptions(in, out, 3).padding(1), gen));
    block->push_back(std::make_shared<ReLU>());
    block->push_back(std::make_shared<BatchNorm2d>(BatchNorm2dOptions(out)));
    block->push_back(std::make_shared<Conv2d>(Conv2dOptions(out, out, 3).padding(1), gen));
    block->push_back(std::make_shared<ReLU>());
    block->push_back(std::make_shared<BatchNorm2d>(BatchNorm2dOptions(out)));
    return block;
}

std::shared_ptr<nn::ConvTranspose2d> up(int64_t in, int64_t out, Generator& gen) {
    return std::make_shared<nn::ConvTranspose2d>(
        nn::ConvTranspose2dOptions(in, out, 3).stride(2).padding(1).output_padding(1), gen);
}

std::shared_ptr<nn::MaxPool2d> pool() { return std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2).stride(2)); }

}  // namespace

UNet::UNet(const ModelConfig& config, Generator& gen) : Model(checked_name(config, {"unet"}, "UNet")) {
    const int64_t in = this->config().in_channels, w = this->config().width, classes = this->config().num_classes;
    contracting_11_ = register_module("contracting_11", conv_block(in, w, gen));
    contracting_12_ = register_module("contracting_12", pool());
    contracting_21_ = register_module("contracting_21", conv_block(w, 2 * w, gen));
    contracting_22_ = register_module("contracting_22", pool());
    contracting_31_ = register_module("contracting_31", conv_block(2 * w, 4 * w, gen));
    contracting_32_ = register_module("contracting_32", pool());
    contracting_41_ = register_module("contracting_41", conv_block(4 * w, 8 * w, gen));
    contracting_42_ = register_module("contracting_42", pool());
    middle_ = register_module("middle", conv_block(8 * w, 16 * w, gen));
    expansive_11_ = register_module("expansive_11", up(16 * w, 8 * w, gen));
    expansive_12_ = register_module("expansive_12", conv_block(16 * w, 8 * w, gen));
    expansive_21_ = register_module("expansive_21", up(8 * w, 4 * w, gen));
    expansive_22_ = register_module("expansive_22", conv_block(8 * w, 4 * w, gen));
    expansive_31_ = register_module("expansive_31", up(4 * w, 2 * w, gen));
    expansive_32_ = register_module("expansive_32", conv_block(4 * w, 2 * w, gen));
    expansive_41_ = register_module("expansive_41", up(2 * w, w, gen));
    expansive_42_ = register_module("expansive_42", conv_block(2 * w, w, gen));
    output_ = register_module("output", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(w, classes, 3).padding(1), gen));
}

Tensor UNet::forward(const Tensor& x) {
    const int64_t in = config().in_channels;
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in && x.size(2) % 16 == 0 && x.size(3) % 16 == 0 &&
                     x.size(2) > 0 && x.size(3) > 0,
                 "UNet: expected an input of shape (N, ", in, ", H, W) with H and W positive multiples of 16, got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    const Tensor c11 = (*contracting_11_)(x);
    const Tensor c21 = (*contracting_21_)((*contracting_12_)(c11));
    const Tensor c31 = (*contracting_31_)((*contracting_22_)(c21));
    const Tensor c41 = (*contracting_41_)((*contracting_32_)(c31));
    const Tensor mid = (*middle_)((*contracting_42_)(c41));
    const Tensor e12 = (*expansive_12_)(cat({(*expansive_11_)(mid), c41}, 1));
    const Tensor e22 = (*expansive_22_)(cat({(*expansive_21_)(e12), c31}, 1));
    const Tensor e32 = (*expansive_32_)(cat({(*expansive_31_)(e22), c21}, 1));
    const Tensor e42 = (*expansive_42_)(cat({(*expansive_41_)(e32), c11}, 1));
    return (*output_)(e42);
}

}  // namespace engine::models
