// SGD, Adam and AdamW: parameter groups, lazily created per-parameter state, and state save/restore with full
// validation before anything changes.
#include "layers/optim.h"
#include "runtime/json.h"

#include <map>
#include <nlohmann/json.hpp>

namespace engine::optim {
namespace {

using nlohmann::json;

template <class Options>
std::vector<ParamGroup<Options>> single_group(std::vector<Tensor> params, const Options& options) {
    return {ParamGroup<Options>{std::move(params), options}};
}

template <class Options>
void check_groups(const char* type, const std::vector<ParamGroup<Options>>& groups) {
    ENGINE_CHECK(!groups.empty(), type, ": got no parameter groups");
    size_t total = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
        for (const Tensor& p : groups[g].params) {
            ENGINE_CHECK(p.defined() && is_floating(p.dtype()) && p.is_leaf(), type, ": group ", g,
                         " holds a parameter that is undefined, not floating or not a leaf");
        }
        total += groups[g].params.size();
    }
    ENGINE_CHECK(total > 0, type, ": got an empty parameter list");
    for (size_t a = 0; a < groups.size(); ++a)
        for (size_t i = 0; i < groups[a].params.size(); ++i)
            for (size_t b = a; b < groups.size(); ++b)
                for (size_t j = (b == a ? i + 1 : 0); j < groups[b].params.size(); ++j)
                    ENGINE_CHECK(!groups[a].params[i].is_same(groups[b].params[j]), type,
                                 ": a parameter appears twice (groups ", a, " and ", b, ")");
}

// State made for a parameter earlier follows it to a new device or dtype (after Module::to).
void follow_param(Tensor& state, const Tensor& param) {
    if (!state.defined()) return;
    if (state.device() != param.device()) state = state.to(param.device());
    if (state.dtype() != param.dtype()) state = state.to(param.dtype());
}

json sgd_json(const SgdParams& o) {
    return {{"lr", o.lr},
            {"momentum", o.momentum},
            {"dampening", o.dampening},
            {"weight_decay", o.weight_decay},
            {"nesterov", o.nesterov}};
}

SgdParams sgd_from_json(const json& j) {
    SgdParams o;
    o.lr = j.at("lr").get<double>();
    o.momentum = j.at("momentum").get<double>();
    o.dampening = j.at("dampening").get<double>();
    o.weight_decay = j.at("weight_decay").get<double>();
    o.nesterov = j.at("nesterov").get<bool>();
    return o;
}

json adam_json(const AdamOptions& o) {
    return {{"lr", o.lr},           {"betas", {o.beta1, o.beta2}},
            {"eps", o.eps},         {"weight_decay", o.weight_decay},
            {"amsgrad", o.amsgrad}, {"decoupled_weight_decay", o.decoupled_weight_decay}};
}

AdamOptions adam_from_json(const json& j) {
    AdamOptions o;
    o.lr = j.at("lr").get<double>();
    o.beta1 = j.at("betas").at(0).get<double>();
    o.beta2 = j.at("betas").at(1).get<double>();
    o.eps = j.at("eps").get<double>();
    o.weight_decay = j.at("weight_decay").get<double>();
    o.amsgrad = j.at("amsgrad").get<bool>();
    o.decoupled_weight_decay = j.at("decoupled_weight_decay").get<bool>();
    return o;
}

template <class Options>
std::string config_json(const std::string& type, int64_t steps, const std::vector<ParamGroup<Options>>& groups,
                        json (*to_json)(const Options&)) {
    json j = {{"type", type}, {"steps", steps}, {"groups", json::array()}};
    for (const auto& g : groups) {
        json entry = to_json(g.options);
        entry["params"] = g.params.size();
        j["groups"].push_back(entry);
    }
    return dump_json(j);
}

// Parses and checks a saved config against this optimizer; returns the groups' options and the step count.
template <class Options>
std::pair<std::vector<Options>, int64_t> parse_config(const OptimizerState& state, const std::string& type,
                                                      const std::vector<ParamGroup<Options>>& groups,
                                                      Options (*from_json)(const json&)) {
    const std::string context = "optimizer state";
    json j;
    try {
        j = parse_json(state.config);
    } catch (const json::exception& e) {
        throw Error(context + ": the config is not valid JSON (" + e.what() + ")");
    }
    try {
        const std::string saved_type = j.at("type").get<std::string>();
        ENGINE_CHECK(saved_type == type, context, ": holds the state of an ", saved_type, " optimizer, this one is ",
                     type);
        const json& saved_groups = j.at("groups");
        ENGINE_CHECK(saved_groups.is_array() && saved_groups.size() == groups.size(), context, ": has ",
                     saved_groups.size(), " parameter groups, this optimizer has ", groups.size());
        std::vector<Options> options;
        for (size_t g = 0; g < groups.size(); ++g) {
            const size_t n = saved_groups[g].at("params").get<size_t>();
            ENGINE_CHECK(n == groups[g].params.size(), context, ": group ", g, " has ", n,
                         " parameters, this optimizer's has ", groups[g].params.size());
            options.push_back(from_json(saved_groups[g]));
        }
        const int64_t steps = j.at("steps").get<int64_t>();
        ENGINE_CHECK(steps >= 0, context, ": negative step count ", steps);
        return {options, steps};
    } catch (const json::exception& e) {
        throw Error(context + ": malformed config (" + e.what() + ")");
    }
}

// "state.<index>.<name>" -> (index, name); checks the index and that the name is one of `allowed`.
std::pair<size_t, std::string> parse_state_key(const std::string& key, size_t num_params,
                                               const std::vector<std::string>& allowed) {
    const std::string context = "optimizer state";
    const std::string prefix = "state.";
    const size_t dot = key.find('.', prefix.size());
    ENGINE_CHECK(key.compare(0, prefix.size(), prefix) == 0 && dot != std::string::npos && dot > prefix.size(), context,
                 ": unexpected tensor '", key, "' (expected state.<index>.<name>)");
    const std::string index_text = key.substr(prefix.size(), dot - prefix.size());
    ENGINE_CHECK(index_text.find_first_not_of("0123456789") == std::string::npos && index_text.size() < 10, context,
                 ": tensor '", key, "' has a malformed parameter index");
    const size_t index = std::stoul(index_text);
    ENGINE_CHECK(index < num_params, context, ": tensor '", key, "' refers to parameter ", index,
                 " but the optimizer has ", num_params);
    const std::string name = key.substr(dot + 1);
    bool known = false;
    for (const std::string& a : allowed) known = known || a == name;
    ENGINE_CHECK(known, context, ": unexpected tensor '", key, "'");
    return {index, name};
}

void check_state_tensor(const std::string& key, const Tensor& t, const Tensor& param) {
    ENGINE_CHECK(t.defined() && is_floating(t.dtype()), "optimizer state: tensor '", key, "' must be floating");
    ENGINE_CHECK(t.shape() == param.shape(), "optimizer state: tensor '", key, "' has shape ", shape_str(t.shape()),
                 ", its parameter has ", shape_str(param.shape()));
}

Tensor like_param(const Tensor& t, const Tensor& param) {
    return t.detach().to(param.device()).to(param.dtype()).clone();
}

template <class Options>
std::vector<Tensor> flat_params(const std::vector<ParamGroup<Options>>& groups) {
    std::vector<Tensor> out;
    for (const auto& g : groups) out.insert(out.end(), g.params.begin(), g.params.end());
    return out;
}

}  // namespace

// ---------------------------------------------------------------- Optimizer

void Optimizer::zero_grad() {
    for (size_t g = 0; g < num_groups(); ++g)
        for (const Tensor& p : group_params(g))
            if (p.grad().defined()) p.set_grad(Tensor());
}

std::vector<Tensor> Optimizer::parameters() const {
    std::vector<Tensor> out;
    for (size_t g = 0; g < num_groups(); ++g) {
        const auto& params = group_params(g);
        out.insert(out.end(), params.begin(), params.end());
    }
    return out;
}

void Optimizer::set_lr(double lr) {
    for (size_t g = 0; g < num_groups(); ++g) set_lr(g, lr);
}

// ---------------------------------------------------------------- SGD

SGD::SGD(std::vector<Tensor> params, const SgdParams& options) : SGD(single_group(std::move(params), options)) {}

SGD::SGD(std::vector<ParamGroup<SgdParams>> groups) : GroupedOptimizer(std::move(groups)) {
    check_groups("SGD", groups_);
    momentum_.resize(flat_params(groups_).size());
}

void SGD::step() {
    NoGradGuard no_grad;
    size_t index = 0;
    for (auto& group : groups_) {
        for (Tensor& p : group.params) {
            Tensor& buffer = momentum_[index++];
            const Tensor& grad = p.grad();
            if (!grad.defined()) continue;
            bool first = false;
            if (group.options.momentum != 0.0) {
                follow_param(buffer, p);
                first = !buffer.defined();
                if (first) buffer = zeros_like(p.detach());
            }
            sgd_step(p, grad, buffer, group.options, first);
        }
    }
    ++steps_;
}

OptimizerState SGD::state_dict() const {
    OptimizerState state{config_json<SgdParams>("sgd", steps_, groups_, sgd_json), {}};
    for (size_t i = 0; i < momentum_.size(); ++i)
        if (momentum_[i].defined())
            state.tensors.emplace_back("state." + std::to_string(i) + ".momentum_buffer", momentum_[i]);
    return state;
}

void SGD::load_state_dict(const OptimizerState& state) {
    auto [options, steps] = parse_config<SgdParams>(state, "sgd", groups_, sgd_from_json);
    const std::vector<Tensor> params = flat_params(groups_);
    std::vector<Tensor> momentum(params.size());
    for (const auto& [key, t] : state.tensors) {
        const auto [index, name] = parse_state_key(key, params.size(), {"momentum_buffer"});
        ENGINE_CHECK(!momentum[index].defined(), "optimizer state: tensor '", key, "' appears twice");
        check_state_tensor(key, t, params[index]);
        momentum[index] = like_param(t, params[index]);
    }
    for (size_t g = 0; g < groups_.size(); ++g) groups_[g].options = options[g];
    momentum_ = std::move(momentum);
    steps_ = steps;
}

// ---------------------------------------------------------------- Adam / AdamW

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(single_group(std::move(params), options), options.decoupled_weight_decay) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups) : Adam(std::move(groups), false) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups, bool decoupled)
    : GroupedOptimizer(std::move(groups)), decoupled_(decoupled) {
    check_groups(decoupled_ ? "AdamW" : "Adam", groups_);
    for (auto& g : groups_) g.options.decoupled_weight_decay = decoupled_;
    state_.resize(flat_params(groups_).size());
}

AdamW::AdamW(std::vector<Tensor> params, const AdamOptions& options)
    : Adam(single_group(std::move(params), options), true) {}

AdamW::AdamW(std::vector<ParamGroup<AdamOptions>> groups) : Adam(std::move(groups), true) {}

void Adam::step() {
    NoGradGuard no_grad;
    size_t index = 0;
    for (auto& group : groups_) {
        for (Tensor& p : group.params) {
            State& s = state_[index++];
            const Tensor& grad = p.grad();
            if (!grad.defined()) continue;
            if (!s.exp_avg.defined()) {
                s.exp_avg = zeros_like(p.detach());
                s.exp_avg_sq = zeros_like(p.detach());
            }
            if (group.options.amsgrad && !s.max_exp_avg_sq.defined()) s.max_exp_avg_sq = zeros_like(p.detach());
            follow_param(s.exp_avg, p);
            follow_param(s.exp_avg_sq, p);
            follow_param(s.max_exp_avg_sq, p);
            ++s.step;
            adam_step(p, grad, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, s.step, group.options);
        }
    }
    ++steps_;
}

OptimizerState Adam::state_dict() const {
    OptimizerState state{config_json<AdamOptions>(type_name(), steps_, groups_, adam_json), {}};
    for (size_t i = 0; i < state_.size(); ++i) {
        const State& s = state_[i];
        if (!s.exp_avg.defined()) continue;
        const std::string prefix = "state." + std::to_string(i) + ".";
        state.tensors.emplace_back(prefix + "step", scalar_tensor(static_cast<double>(s.step), DType::Int64));
        state.tensors.emplace_back(prefix + "exp_avg", s.exp_avg);
        state.tensors.emplace_back(prefix + "exp_avg_sq", s.exp_avg_sq);
        if (s.max_exp_avg_sq.defined()) state.tensors.emplace_back(prefix + "max_exp_avg_sq", s.max_exp_avg_sq);
    }
    return state;
}

void Adam::load_state_dict(const OptimizerState& state) {
    auto [options, steps] = parse_config<AdamOptions>(state, type_name(), groups_, adam_from_json);
    const std::vector<Tensor> params = flat_params(groups_);
    std::vector<State> loaded(params.size());
    std::vector<bool> has_step(params.size(), false);
    for (const auto& [key, t] : state.tensors) {
        const auto [index, name] =
            parse_state_key(key, params.size(), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
        State& s = loaded[index];
        if (name == "step") {
            ENGINE_CHECK(!has_step[index], "optimizer state: tensor '", key, "' appears twice");
            ENGINE_CHECK(t.defined() && t.numel() == 1, "optimizer state: tensor '", key, "' must be a scalar");
            s.step = static_cast<int64_t>(t.item<double>());
            ENGINE_CHECK(s.step >= 1, "optimizer state: tensor '", key, "' holds step ", s.step, ", expected >= 1");
            has_step[index] = true;
            continue;
        }
        Tensor& slot = name == "exp_avg" ? s.exp_avg : name == "exp_avg_sq" ? s.exp_avg_sq : s.max_exp_avg_sq;
        ENGINE_CHECK(!slot.defined(), "optimizer state: tensor '", key, "' appears twice");
        check_state_tensor(key, t, params[index]);
        slot = like_param(t, params[index]);
    }
    for (size_t i = 0; i < loaded.size(); ++i) {
        const State& s = loaded[i];
        const bool any = has_step[i] || s.exp_avg.defined() || s.exp_avg_sq.defined() || s.max_exp_avg_sq.defined();
        ENGINE_CHECK(!any || (has_step[i] && s.exp_avg.defined() && s.exp_avg_sq.defined()),
                     "optimizer state: parameter ", i, " needs step, exp_avg and exp_avg_sq together");
    }
    for (size_t g = 0; g < groups_.size(); ++g) {
        groups_[g].options = options[g];
        groups_[g].options.decoupled_weight_decay = decoupled_;
    }
    state_ = std::move(loaded);
    steps_ = steps;
}

}  // namespace engine::optim
