// Helpers shared by tests/explain: small models with known weights, the Captum fixtures, relative errors.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "apps/explain/attribution/explain.h"
#include "models/lenet.h"
#include "models/unet.h"
#include "runtime/safetensors.h"
#include "tests/common/test_util.h"

namespace engine::explain::test {

using ::engine::test::all_close;

inline std::string data_path(const std::string& name) { return std::string(ENGINE_TEST_DATA_DIR) + "/explain/" + name; }

// models/export_torch.py's hashed_fill_: state-dict tensor k, element i: u = ((i * 2654435761 + (k + 1) * 40503)
// mod 2^32) / 2^32, value (2u - 1) / sqrt(numel / size(0)) (2+ dims) or (2u - 1) * 0.1 (1-D), rounded to float32.
inline void hashed_fill(nn::Module& model) {
    NoGradGuard no_grad;
    int64_t k = 0;
    for (auto& [name, t] : model.state_dict()) {
        if (is_floating(t.dtype())) {
            const int64_t n = t.numel();
            const double bound = t.dim() >= 2 ? 1.0 / std::sqrt(static_cast<double>(n) / t.size(0)) : 0.1;
            std::vector<float> v(n);
            for (int64_t i = 0; i < n; ++i) {
                const uint64_t h =
                    (static_cast<uint64_t>(i) * 2654435761ull + static_cast<uint64_t>(k + 1) * 40503ull) %
                    4294967296ull;
                v[i] = static_cast<float>((2.0 * (static_cast<double>(h) / 4294967296.0) - 1.0) * bound);
            }
            nn::copy_into(t, from_vector<float>(v, t.shape()));
        }
        ++k;
    }
}

inline std::shared_ptr<models::LeNet> hashed_lenet() {
    auto model = std::make_shared<models::LeNet>(models::ModelConfig{});
    hashed_fill(*model);
    model->eval();
    return model;
}

// A model built from a fixture's "model.<key>" tensors and its model_config metadata.
inline std::shared_ptr<models::Model> fixture_model(const safetensors::Contents& contents) {
    auto model = models::make_model(models::ModelConfig::from_json(contents.metadata.at("model_config")));
    std::map<std::string, Tensor> state;
    for (const auto& [name, t] : contents.tensors)
        if (name.rfind("model.", 0) == 0) state[name.substr(6)] = t;
    model->load_state_dict(state);
    model->eval();
    return model;
}

// A tiny CNN classifier in float64 with seeded weights: body = Sequential(Conv2d(2, 4, 3, padding 1), ReLU),
// head = Sequential(Conv2d(4, 3, 3, padding 1), ReLU, AdaptiveAvgPool2d(1), Flatten): (N, 2, H, W) -> (N, 3).
class TinyCnn : public nn::Module {
public:
    explicit TinyCnn(uint64_t seed = 7) {
        Generator gen(seed);
        body_ = register_module("body", std::make_shared<nn::Sequential>());
        body_->push_back(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(2, 4, 3).padding(1), gen));
        body_->push_back(std::make_shared<nn::ReLU>());
        head_ = register_module("head", std::make_shared<nn::Sequential>());
        head_->push_back(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(4, 3, 3).padding(1), gen));
        head_->push_back(std::make_shared<nn::ReLU>());
        head_->push_back(std::make_shared<nn::AdaptiveAvgPool2d>(1));
        head_->push_back(std::make_shared<nn::Flatten>());
        to(DType::Float64);
    }
    Tensor forward(const Tensor& x) override { return (*head_)((*body_)(x)); }
    std::string type_name() const override { return "TinyCnn"; }
    nn::Sequential& body() { return *body_; }
    nn::Sequential& head() { return *head_; }

private:
    std::shared_ptr<nn::Sequential> body_, head_;
};

// A linear "classifier" in float64: logits = W flatten(x) + b, so every attribution has a closed form.
class LinearModel : public nn::Module {
public:
    LinearModel(int64_t c, int64_t h, int64_t w, int64_t classes, uint64_t seed = 3) {
        Generator gen(seed);
        fc_ = register_module("fc", std::make_shared<nn::Linear>(c * h * w, classes, gen));
        to(DType::Float64);
    }
    Tensor forward(const Tensor& x) override { return (*fc_)(x.flatten(1)); }
    std::string type_name() const override { return "LinearModel"; }
    const Tensor& weight() const { return fc_->weight(); }
    const Tensor& bias() const { return fc_->bias(); }

private:
    std::shared_ptr<nn::Linear> fc_;
};

// A linear "segmentation model" in float64: a 1x1 Conv2d (C -> classes), output (N, classes, H, W).
class PointwiseSegmenter : public nn::Module {
public:
    PointwiseSegmenter(int64_t c, int64_t classes, uint64_t seed = 5) {
        Generator gen(seed);
        conv_ = register_module("conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(c, classes, 1), gen));
        to(DType::Float64);
    }
    Tensor forward(const Tensor& x) override { return (*conv_)(x); }
    std::string type_name() const override { return "PointwiseSegmenter"; }

private:
    std::shared_ptr<nn::Conv2d> conv_;
};

inline Tensor random_images(const Shape& shape, uint64_t seed, DType dtype = DType::Float64) {
    Generator gen(seed);
    return uniform(shape, -1.0, 1.0, gen, dtype);
}

// Every parameter has no gradient and requires grad.
inline void expect_untouched(nn::Module& model) {
    for (auto& [name, p] : model.named_parameters()) {
        EXPECT_FALSE(p.grad().defined()) << name << " got a gradient";
        EXPECT_TRUE(p.requires_grad()) << name << " no longer requires grad";
    }
}

// The message of the engine::Error that `f` throws, or "".
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// max |actual - expected| / max |expected|.
inline double relative_error(const Tensor& actual, const Tensor& expected) {
    EXPECT_EQ(shape_str(actual.shape()), shape_str(expected.shape()));
    if (actual.shape() != expected.shape()) return INFINITY;
    const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(a[i] - e[i]));
        scale = std::max(scale, std::abs(e[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

}  // namespace engine::explain::test
