// Conv2d and ConvTranspose2d with nn.Conv2d / nn.ConvTranspose2d's arguments, defaults, parameter names and
// default initialisation (zero padding only).
#pragma once

#include "layers/module.h"
#include "layers/options.h"

namespace engine::nn {

struct Conv2dOptions {
    Conv2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    ENGINE_NN_OPTION(int64_t, in_channels);
    ENGINE_NN_OPTION(int64_t, out_channels);
    ENGINE_NN_OPTION(Size2, kernel_size);
    ENGINE_NN_OPTION(Size2, stride) = 1;
    ENGINE_NN_OPTION(Size2, padding) = 0;
    ENGINE_NN_OPTION(Size2, dilation) = 1;
    ENGINE_NN_OPTION(int64_t, groups) = 1;
    ENGINE_NN_OPTION(bool, bias) = true;
};

// weight (out, in/groups, kh, kw), bias (out). Input (N, in, H, W).
class Conv2d : public Module {
public:
    explicit Conv2d(const Conv2dOptions& options, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Conv2d"; }
    std::string extra_repr() const override;
    // Re-draws weight and bias with PyTorch's default initialisation.
    void reset_parameters(Generator& gen = default_generator());

    const Conv2dOptions& options() const { return options_; }
    Conv2dParams params() const;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }  // undefined when bias(false)

private:
    Conv2dOptions options_;
    Tensor weight_, bias_;
};

struct ConvTranspose2dOptions {
    ConvTranspose2dOptions(int64_t in_channels, int64_t out_channels, Size2 kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    ENGINE_NN_OPTION(int64_t, in_channels);
    ENGINE_NN_OPTION(int64_t, out_channels);
    ENGINE_NN_OPTION(Size2, kernel_size);
    ENGINE_NN_OPTION(Size2, stride) = 1;
    ENGINE_NN_OPTION(Size2, padding) = 0;
    ENGINE_NN_OPTION(Size2, output_padding) = 0;
    ENGINE_NN_OPTION(int64_t, groups) = 1;
    ENGINE_NN_OPTION(bool, bias) = true;
    ENGINE_NN_OPTION(Size2, dilation) = 1;
};

// weight (in, out/groups, kh, kw), bias (out). Output size per dim:
// (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
class ConvTranspose2d : public Module {
public:
    explicit ConvTranspose2d(const ConvTranspose2dOptions& options, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "ConvTranspose2d"; }
    std::string extra_repr() const override;
    void reset_parameters(Generator& gen = default_generator());

    const ConvTranspose2dOptions& options() const { return options_; }
    Conv2dParams params() const;
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }

private:
    ConvTranspose2dOptions options_;
    Tensor weight_, bias_;
};

}  // namespace engine::nn
