// SGD, Adam and AdamW: hand-computed updates, PyTorch's own trajectories (tests/data/models/torch_reference.json,
// from models/export_torch.py), parameter groups, and state save/restore.
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "common/torch_reference.h"
#include "layers/layers.h"

namespace engine::optim {
namespace {

using namespace engine::test;
using nlohmann::json;

Tensor leaf(const std::vector<double>& values) {
    Tensor t = from_vector(values, {static_cast<int64_t>(values.size())});
    t.requires_grad_(true);
    return t;
}

void set_grad(const Tensor& p, const std::vector<double>& g) {
    p.set_grad(from_vector(g, {static_cast<int64_t>(g.size())}));
}

TEST(SgdTest, MatchesTheHandComputedUpdate) {
    Tensor p = leaf({1.0, -2.0});
    SgdOptions o;
    o.lr = 0.1, o.momentum = 0.9, o.weight_decay = 0.01, o.nesterov = true;
    SGD sgd({p}, o);
    double w[2] = {1.0, -2.0}, buf[2] = {0, 0};
    const double grads[3][2] = {{0.5, -0.25}, {-1.0, 0.75}, {0.2, 0.2}};
    for (int step = 0; step < 3; ++step) {
        set_grad(p, {grads[step][0], grads[step][1]});
        sgd.step();
        for (int i = 0; i < 2; ++i) {
            const double d = grads[step][i] + 0.01 * w[i];
            buf[i] = step == 0 ? d : 0.9 * buf[i] + d;
            w[i] -= 0.1 * (d + 0.9 * buf[i]);
        }
        const std::vector<double> got = p.to_vector<double>();
        EXPECT_NEAR(got[0], w[0], 1e-14);
        EXPECT_NEAR(got[1], w[1], 1e-14);
    }
    EXPECT_EQ(sgd.steps(), 3);
    EXPECT_EQ(SgdOptions().lr, 1e-3);  // PyTorch's default
}

TEST(AdamTest, MatchesTheHandComputedUpdate) {
    Tensor p = leaf({0.5, -0.5});
    AdamOptions o;
    o.lr = 0.01, o.weight_decay = 0.1;
    Adam adam({p}, o);
    AdamW adamw({leaf({0.5, -0.5})}, AdamWOptions());
    EXPECT_EQ(adamw.type_name(), "adamw");
    EXPECT_EQ(adamw.options().weight_decay, 0.01);
    double w[2] = {0.5, -0.5}, m[2] = {0, 0}, v[2] = {0, 0};
    const double grads[2][2] = {{0.3, -0.1}, {-0.2, 0.4}};
    for (int step = 1; step <= 2; ++step) {
        set_grad(p, {grads[step - 1][0], grads[step - 1][1]});
        adam.step();
        for (int i = 0; i < 2; ++i) {
            const double g = grads[step - 1][i] + 0.1 * w[i];  // Adam: L2 added to the gradient
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            const double m_hat = m[i] / (1 - std::pow(0.9, step)), v_hat = v[i] / (1 - std::pow(0.999, step));
            w[i] -= 0.01 * m_hat / (std::sqrt(v_hat) + 1e-8);
        }
        const std::vector<double> got = p.to_vector<double>();
        EXPECT_NEAR(got[0], w[0], 1e-12);
        EXPECT_NEAR(got[1], w[1], 1e-12);
    }
}

TEST(OptimizerTest, FollowsPyTorchTrajectories) {
    const json reference = torch_reference();
    for (const json& c : reference.at("optimizers")) {
        const std::string kind = c.at("kind").get<std::string>();
        const json& o = c.at("options");
        Tensor p = leaf(c.at("start").get<std::vector<double>>());
        std::unique_ptr<Optimizer> opt;
        if (kind == "sgd") {
            SgdOptions s;
            s.lr = o.at("lr").get<double>();
            s.momentum = o.value("momentum", 0.0);
            s.dampening = o.value("dampening", 0.0);
            s.weight_decay = o.value("weight_decay", 0.0);
            s.nesterov = o.value("nesterov", false);
            opt = std::make_unique<SGD>(std::vector<Tensor>{p}, s);
        } else {
            AdamOptions a = kind == "adamw" ? AdamWOptions() : AdamOptions();
            a.lr = o.at("lr").get<double>();
            if (o.contains("betas")) a.beta1 = o["betas"][0].get<double>(), a.beta2 = o["betas"][1].get<double>();
            a.weight_decay = o.value("weight_decay", a.weight_decay);
            a.eps = o.value("eps", a.eps);
            a.amsgrad = o.value("amsgrad", false);
            if (kind == "adamw")
                opt = std::make_unique<AdamW>(std::vector<Tensor>{p}, a);
            else
                opt = std::make_unique<Adam>(std::vector<Tensor>{p}, a);
        }
        const auto grads = c.at("grads").get<std::vector<std::vector<double>>>();
        const auto params = c.at("params").get<std::vector<std::vector<double>>>();
        for (size_t step = 0; step < grads.size(); ++step) {
            set_grad(p, grads[step]);
            opt->step();
            EXPECT_TRUE(all_close(p, from_vector(params[step], p.shape()), 1e-12, 1e-10))
                << kind << " " << o.dump() << " step " << step + 1;
        }
    }
}

TEST(OptimizerTest, SkipsParametersWithoutGradientsAndSupportsGroups) {
    Tensor a = leaf({1.0}), b = leaf({1.0}), c = leaf({1.0});
    SgdOptions fast, slow;
    fast.lr = 1.0, slow.lr = 0.1;
    SGD sgd(std::vector<ParamGroup<SgdParams>>{{{a, b}, fast}, {{c}, slow}});
    set_grad(a, {1.0});
    set_grad(c, {1.0});
    sgd.step();
    EXPECT_EQ(a.item<double>(), 0.0);
    EXPECT_EQ(b.item<double>(), 1.0);  // no gradient: untouched
    EXPECT_NEAR(c.item<double>(), 0.9, 1e-15);
    EXPECT_EQ(sgd.num_groups(), 2u);
    EXPECT_EQ(sgd.parameters().size(), 3u);
    sgd.set_lr(0.5);
    EXPECT_EQ(sgd.lr(1), 0.5);
    sgd.zero_grad();
    EXPECT_FALSE(a.grad().defined());
    EXPECT_ENGINE_ERROR(SGD({a, a}, fast), "a parameter appears twice");
    EXPECT_ENGINE_ERROR(SGD(std::vector<Tensor>{}, fast), "empty parameter list");
}

// Training a model 4 steps equals 2 steps, a state save/restore into a fresh optimizer, and 2 more.
enum class Resume { Straight, WithState, WithoutState };

// Training a model 4 steps equals 2 steps, a state save/restore into a fresh optimizer, and 2 more (and a fresh
// optimizer without the state does not).
template <class Make>
void expect_resume_is_exact(Make make) {
    auto run = [&](Resume mode) {
        Generator gen(3);
        nn::Linear model(3, 2, gen);
        std::unique_ptr<Optimizer> opt = make(model.parameters());
        const Tensor x = random_tensor({4, 3}, 4, DType::Float32);
        auto train = [&](Optimizer& o, int steps) {
            for (int i = 0; i < steps; ++i) {
                o.zero_grad();
                sum(square(model(x) - 0.5)).backward();
                o.step();
            }
        };
        if (mode == Resume::Straight) {
            train(*opt, 4);
            return model.state_dict();
        }
        train(*opt, 2);
        const OptimizerState saved = opt->state_dict();
        opt.reset();
        std::unique_ptr<Optimizer> fresh = make(model.parameters());
        if (mode == Resume::WithState) {
            fresh->load_state_dict(saved);
            EXPECT_EQ(fresh->steps(), 2);
        }
        train(*fresh, 2);
        return model.state_dict();
    };
    const nn::NamedTensors straight = run(Resume::Straight), resumed = run(Resume::WithState),
                           restarted = run(Resume::WithoutState);
    for (size_t i = 0; i < straight.size(); ++i) {
        EXPECT_TRUE(all_close(resumed[i].second, straight[i].second, 0, 0)) << straight[i].first;
        EXPECT_FALSE(all_close(restarted[i].second, straight[i].second, 1e-7, 0)) << straight[i].first;
    }
}

TEST(OptimizerStateTest, ResumedOptimizersContinueIdentically) {
    expect_resume_is_exact([](std::vector<Tensor> params) {
        SgdOptions o;
        o.lr = 0.05, o.momentum = 0.9, o.dampening = 0.1;
        return std::unique_ptr<Optimizer>(new SGD(std::move(params), o));
    });
    expect_resume_is_exact([](std::vector<Tensor> params) {
        AdamOptions o;
        o.lr = 0.05, o.amsgrad = true;
        return std::unique_ptr<Optimizer>(new AdamW(std::move(params), o));
    });
}

TEST(OptimizerStateTest, StateNamesAndHyperparameters) {
    Tensor p = leaf({1.0, 2.0}), q = leaf({3.0});
    AdamOptions o;
    o.lr = 0.02;
    Adam adam({p, q}, o);
    set_grad(q, {1.0});
    adam.step();
    const OptimizerState state = adam.state_dict();
    std::vector<std::string> names;
    for (const auto& entry : state.tensors) names.push_back(entry.first);
    EXPECT_EQ(names, (std::vector<std::string>{"state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq"}));
    const json config = json::parse(state.config);
    EXPECT_EQ(config.at("type"), "adam");
    EXPECT_EQ(config.at("steps"), 1);
    EXPECT_EQ(config.at("groups")[0].at("lr"), 0.02);
    EXPECT_EQ(config.at("groups")[0].at("params"), 2);
    // Loading restores the saved hyperparameters, as PyTorch's load_state_dict.
    Adam other({leaf({0.0, 0.0}), leaf({0.0})});
    other.load_state_dict(state);
    EXPECT_EQ(other.lr(), 0.02);
}

TEST(OptimizerStateTest, LoadingValidatesBeforeChangingAnything) {
    Tensor p = leaf({1.0, 2.0});
    SgdOptions o;
    o.lr = 0.1, o.momentum = 0.5;
    SGD sgd({p}, o);
    set_grad(p, {1.0, 1.0});
    sgd.step();
    OptimizerState good = sgd.state_dict();

    Adam adam({leaf({1.0, 2.0})});
    EXPECT_ENGINE_ERROR(adam.load_state_dict(good), "holds the state of an sgd optimizer, this one is adam");
    SGD two({leaf({1.0, 2.0}), leaf({1.0})}, o);
    EXPECT_ENGINE_ERROR(two.load_state_dict(good), "group 0 has 1 parameters, this optimizer's has 2");

    SGD target({leaf({0.0, 0.0})}, SgdOptions());
    OptimizerState bad = good;
    bad.tensors[0].second = zeros({3}, DType::Float64);
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad),
                        "tensor 'state.0.momentum_buffer' has shape [3], its parameter has [2]");
    EXPECT_EQ(target.lr(), 1e-3);  // unchanged by the failed load
    bad = good;
    bad.tensors[0].first = "state.4.momentum_buffer";
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad), "refers to parameter 4 but the optimizer has 1");
    bad.tensors[0].first = "state.0.velocity";
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad), "unexpected tensor 'state.0.velocity'");
    bad.tensors[0].first = "momentum";
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad), "expected state.<index>.<name>");
    bad = good;
    bad.config = "{\"type\": \"sgd\"";
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad), "the config is not valid JSON");
    bad.config = "{\"type\": \"sgd\", \"groups\": [{\"lr\": 0.1}]}";
    EXPECT_ENGINE_ERROR(target.load_state_dict(bad), "malformed config");
    target.load_state_dict(good);
    EXPECT_EQ(target.lr(), 0.1);
    EXPECT_EQ(target.steps(), 1);
}

TEST(OptimizerStateTest, StateFollowsTheParameterDtype) {
    nn::Linear model(2, 1);
    AdamOptions o;
    Adam adam(model.parameters(), o);
    sum(model(ones({1, 2}))).backward();
    adam.step();
    model.to(DType::Float64);  // the optimizer's handles stay valid; its state converts at the next step
    model.zero_grad();
    sum(model(ones({1, 2}, DType::Float64))).backward();
    adam.step();
    for (const auto& [name, t] : adam.state_dict().tensors) {
        if (name.find("exp_avg") != std::string::npos) {
            EXPECT_EQ(t.dtype(), DType::Float64) << name;
        }
    }
}

}  // namespace
}  // namespace engine::optim
