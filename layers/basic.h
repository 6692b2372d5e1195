// Small layers with their PyTorch names and defaults: Linear, ReLU, Dropout, Flatten, Softmax, Identity.
#pragma once

#include "layers/module.h"
#include "layers/options.h"

namespace engine::nn {

struct LinearOptions {
    LinearOptions(int64_t in_features, int64_t out_features) : in_features_(in_features), out_features_(out_features) {}
    ENGINE_NN_OPTION(int64_t, in_features);
    ENGINE_NN_OPTION(int64_t, out_features);
    ENGINE_NN_OPTION(bool, bias) = true;
};

// y = x W^T + b over the last dim; weight (out, in), bias (out); PyTorch's default initialisation.
class Linear : public Module {
public:
    explicit Linear(const LinearOptions& options, Generator& gen = default_generator());
    Linear(int64_t in_features, int64_t out_features, Generator& gen = default_generator())
        : Linear(LinearOptions(in_features, out_features), gen) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Linear"; }
    std::string extra_repr() const override;
    void reset_parameters(Generator& gen = default_generator());

    const LinearOptions& options() const { return options_; }
    const Tensor& weight() const { return weight_; }
    const Tensor& bias() const { return bias_; }

private:
    LinearOptions options_;
    Tensor weight_, bias_;
};

class ReLU : public Module {
public:
    Tensor forward(const Tensor& x) override { return relu(x); }
    std::string type_name() const override { return "ReLU"; }
};

// Zeroes elements with probability p and scales the others by 1/(1-p) in training mode; the identity in eval
// mode. Draws from `gen` (which must outlive the module).
class Dropout : public Module {
public:
    explicit Dropout(double p = 0.5, Generator& gen = default_generator());
    Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training(), *gen_); }
    std::string type_name() const override { return "Dropout"; }
    std::string extra_repr() const override;
    double p() const { return p_; }

private:
    double p_;
    Generator* gen_;
};

// x.flatten(start_dim, end_dim); nn.Flatten's defaults keep the batch dim.
class Flatten : public Module {
public:
    explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}
    Tensor forward(const Tensor& x) override { return x.flatten(start_dim_, end_dim_); }
    std::string type_name() const override { return "Flatten"; }
    std::string extra_repr() const override;

private:
    int64_t start_dim_, end_dim_;
};

class Softmax : public Module {
public:
    explicit Softmax(int64_t dim) : dim_(dim) {}
    Tensor forward(const Tensor& x) override { return softmax(x, dim_); }
    std::string type_name() const override { return "Softmax"; }
    std::string extra_repr() const override { return "dim=" + std::to_string(dim_); }

private:
    int64_t dim_;
};

// Returns its input: a placeholder that keeps a path (and a hook point) where a layer was removed.
class Identity : public Module {
public:
    Tensor forward(const Tensor& x) override { return x; }
    std::string type_name() const override { return "Identity"; }
};

}  // namespace engine::nn
