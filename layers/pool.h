// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d with nn.MaxPool2d / nn.AvgPool2d / nn.AdaptiveAvgPool2d's
// arguments and defaults (stride defaults to the kernel size).
#pragma once

#include "layers/module.h"
#include "layers/options.h"

namespace engine::nn {

struct MaxPool2dOptions {
    MaxPool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: MaxPool2d(2)
    ENGINE_NN_OPTION(Size2, kernel_size);
    ENGINE_NN_OPTION(Size2, stride) = 0;  // 0: the kernel size (PyTorch's stride=None)
    ENGINE_NN_OPTION(Size2, padding) = 0;
    ENGINE_NN_OPTION(Size2, dilation) = 1;
    ENGINE_NN_OPTION(bool, ceil_mode) = false;
};

class MaxPool2d : public Module {
public:
    explicit MaxPool2d(const MaxPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "MaxPool2d"; }
    std::string extra_repr() const override;
    const MaxPool2dOptions& options() const { return options_; }
    Pool2dParams params() const;

private:
    MaxPool2dOptions options_;
};

struct AvgPool2dOptions {
    AvgPool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: AvgPool2d(2)
    ENGINE_NN_OPTION(Size2, kernel_size);
    ENGINE_NN_OPTION(Size2, stride) = 0;  // 0: the kernel size (PyTorch's stride=None)
    ENGINE_NN_OPTION(Size2, padding) = 0;
    ENGINE_NN_OPTION(bool, ceil_mode) = false;
    ENGINE_NN_OPTION(bool, count_include_pad) = true;
};

class AvgPool2d : public Module {
public:
    explicit AvgPool2d(const AvgPool2dOptions& options);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "AvgPool2d"; }
    std::string extra_repr() const override;
    const AvgPool2dOptions& options() const { return options_; }
    Pool2dParams params() const;

private:
    AvgPool2dOptions options_;
};

// Output (N, C, output_size.h, output_size.w) whatever the input size.
class AdaptiveAvgPool2d : public Module {
public:
    explicit AdaptiveAvgPool2d(Size2 output_size);
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "AdaptiveAvgPool2d"; }
    std::string extra_repr() const override { return "output_size=" + output_size_.str(); }
    Size2 output_size() const { return output_size_; }

private:
    Size2 output_size_;
};

}  // namespace engine::nn
