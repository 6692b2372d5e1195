// Checkpoint save/load over the safetensors reader and atomic writer, validated before anything is changed.
#include "models/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "autograd/finite.h"
#include "autograd/ops.h"
#include "layers/init.h"
#include "runtime/safetensors.h"

namespace engine::checkpoint {
namespace {

const char* const kModelPrefix = "model.";
const char* const kOptimPrefix = "optim.";
const std::vector<std::string> kReserved{"format", "format_version", "model_config", "model",
                                         "epoch",  "step",           "best_metric",  "optimizer"};

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool is_reserved(const std::string& key) {
    for (const std::string& r : kReserved)
        if (r == key) return true;
    return false;
}

std::string format_double(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
}

std::string context_of(const std::string& path) { return "checkpoint " + path; }

int64_t parse_int(const std::map<std::string, std::string>& metadata, const std::string& key, const std::string& path) {
    auto it = metadata.find(key);
    if (it == metadata.end()) return 0;
    try {
        size_t used = 0;
        const int64_t v = std::stoll(it->second, &used);
        if (used == it->second.size()) return v;
    } catch (const std::exception&) {
    }
    throw Error(context_of(path) + ": metadata '" + key + "' is not an integer: '" + it->second + "'");
}

using Metadata = std::map<std::string, std::string>;

void check_format(const Metadata& metadata, const std::string& path) {
    auto it = metadata.find("format");
    ENGINE_CHECK(it != metadata.end() && it->second == kFormat, context_of(path),
                 ": not an engine checkpoint (no format metadata '", kFormat,
                 "'); plain weight files load with checkpoint::load_weights");
    const int64_t version = parse_int(metadata, "format_version", path);
    ENGINE_CHECK(version >= 1 && version <= kFormatVersion, context_of(path), ": format_version ", version,
                 " is not supported (this build reads 1 to ", kFormatVersion, ")");
}

Info info_of(const Metadata& metadata, const std::string& path) {
    Info info;
    info.epoch = parse_int(metadata, "epoch", path);
    info.step = parse_int(metadata, "step", path);
    auto config = metadata.find("model_config");
    if (config != metadata.end()) info.model_config = config->second;
    auto best = metadata.find("best_metric");
    if (best != metadata.end()) {
        try {
            info.best_metric = std::stod(best->second);
        } catch (const std::exception&) {
            throw Error(context_of(path) + ": metadata 'best_metric' is not a number: '" + best->second + "'");
        }
    }
    for (const auto& [key, value] : metadata)
        if (!is_reserved(key)) info.extra[key] = value;
    return info;
}

models::ModelConfig stored_config(const Info& info, const std::string& path) {
    try {
        return models::ModelConfig::from_json(info.model_config);
    } catch (const Error& e) {
        throw Error(context_of(path) + ": its model_config is invalid: " + e.what());
    }
}

// The tensors under `prefix`, prefix removed.
std::map<std::string, Tensor> with_prefix(const safetensors::Contents& contents, const std::string& prefix) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, t] : contents.tensors)
        if (starts_with(name, prefix)) out.emplace(name.substr(prefix.size()), t);
    return out;
}

void check_finite(const nn::NamedTensors& tensors, const std::string& context, NonFinite nonfinite) {
    if (nonfinite == NonFinite::Accept) return;
    const std::vector<std::string> bad = nonfinite_tensors(tensors);
    ENGINE_CHECK_T(NonFiniteWeights, bad.empty(), context, ": tensor ", bad.empty() ? "" : bad.front(),
                       bad.size() > 1 ? " and " + std::to_string(bad.size() - 1) + " more hold NaN or infinite values"
                                      : " holds NaN or infinite values",
                       " (the run that wrote it diverged)");
}

Info load_contents(const safetensors::Contents& contents, const std::string& path, nn::Module& model,
                   optim::Optimizer* optimizer, NonFinite nonfinite) {
    check_format(contents.metadata, path);
    check_finite(contents.tensors, context_of(path), nonfinite);
    const Info info = info_of(contents.metadata, path);
    if (auto* typed = dynamic_cast<models::Model*>(&model); typed != nullptr && !info.model_config.empty()) {
        const models::ModelConfig stored = stored_config(info, path);
        const models::ModelConfig& expected = typed->config();
        ENGINE_CHECK(stored.name == expected.name, context_of(path), " holds a ", stored.name, ", expected a ",
                     expected.name);
        ENGINE_CHECK(stored == expected, context_of(path), " holds a ", stored.name, " with config ", stored.to_json(),
                     ", the model's is ", expected.to_json());
    }
    for (const auto& entry : contents.tensors)
        ENGINE_CHECK(starts_with(entry.first, kModelPrefix) || starts_with(entry.first, kOptimPrefix), context_of(path),
                     ": unexpected tensor '", entry.first, "' (neither model. nor optim.)");

    const std::map<std::string, Tensor> weights = with_prefix(contents, kModelPrefix);
    const nn::NamedTensors targets = model.state_dict();
    nn::check_state_dict(targets, weights, true, context_of(path), true);
    if (optimizer != nullptr) {
        auto config = contents.metadata.find("optimizer");
        ENGINE_CHECK(config != contents.metadata.end(), context_of(path), " holds no optimizer state");
        optim::OptimizerState state{config->second, {}};
        for (const auto& [name, t] : contents.tensors)
            if (starts_with(name, kOptimPrefix))
                state.tensors.emplace_back(name.substr(std::string(kOptimPrefix).size()), t);
        try {
            optimizer->load_state_dict(state);  // validates fully before changing the optimizer
        } catch (const Error& e) {
            throw Error(context_of(path) + ": " + e.what());
        }
    }
    for (const auto& [name, target] : targets) nn::copy_into(target, weights.at(name));
    return info;
}

}  // namespace

std::vector<std::string> nonfinite_tensors(const nn::NamedTensors& tensors) {
    NoGradGuard no_grad;
    std::vector<std::string> out;
    for (const auto& [name, t] : tensors) {
        if (all_finite(t)) continue;  // one reduction clears the usual tensor; the counts only for the rest
        const auto nan = sum(ne(t, t)).item<int64_t>();
        const auto infinite = sum(eq(abs(t), INFINITY)).item<int64_t>();
        out.push_back(detail::concat(name, " (", nan, " NaN, ", infinite, " infinite of ", t.numel(), " values)"));
    }
    return out;
}

void save(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer, const Info& info) {
    std::string config = info.model_config;
    if (const auto* typed = dynamic_cast<const models::Model*>(&model)) {
        const std::string own = typed->config().to_json();
        if (config.empty()) config = own;
        ENGINE_CHECK(models::ModelConfig::from_json(config) == typed->config(), "checkpoint::save: info.model_config ",
                     config, " differs from the model's config ", own);
    } else if (!config.empty()) {
        config = models::ModelConfig::from_json(config).to_json();  // validates it
    }

    std::map<std::string, std::string> metadata;
    for (const auto& [key, value] : info.extra) {
        ENGINE_CHECK(!is_reserved(key), "checkpoint::save: extra metadata key '", key, "' is reserved");
        metadata[key] = value;
    }
    metadata["format"] = kFormat;
    metadata["format_version"] = std::to_string(kFormatVersion);
    metadata["epoch"] = std::to_string(info.epoch);
    metadata["step"] = std::to_string(info.step);
    if (!config.empty()) {
        metadata["model_config"] = config;
        metadata["model"] = models::ModelConfig::from_json(config).name;
    }
    if (info.best_metric) metadata["best_metric"] = format_double(*info.best_metric);

    std::vector<std::pair<std::string, Tensor>> tensors;
    for (const auto& [name, t] : model.state_dict()) tensors.emplace_back(kModelPrefix + name, t);
    if (optimizer != nullptr) {
        const optim::OptimizerState state = optimizer->state_dict();
        metadata["optimizer"] = state.config;
        for (const auto& [name, t] : state.tensors) tensors.emplace_back(kOptimPrefix + name, t);
    }
    safetensors::save(path, tensors, metadata);
}

Info load(const std::string& path, nn::Module& model, optim::Optimizer* optimizer, NonFinite nonfinite) {
    return load_contents(safetensors::load(path), path, model, optimizer, nonfinite);
}

Info read_info(const std::string& path) {
    const safetensors::Header header = safetensors::read_header(path);
    check_format(header.metadata, path);
    return info_of(header.metadata, path);
}

std::shared_ptr<models::Model> load_model(const std::string& path, NonFinite nonfinite) {
    const safetensors::Contents contents = safetensors::load(path);
    check_format(contents.metadata, path);
    const Info info = info_of(contents.metadata, path);
    ENGINE_CHECK(!info.model_config.empty(), context_of(path), " has no model_config: build the model yourself ",
                 "and call checkpoint::load");
    std::shared_ptr<models::Model> model;
    {
        nn::init::SkipInitGuard loaded_below;  // every tensor is overwritten by the checkpoint's
        model = models::make_model(stored_config(info, path));
    }
    load_contents(contents, path, *model, nullptr, nonfinite);
    return model;
}

nn::LoadResult load_weights(const std::string& path, nn::Module& model, bool strict, NonFinite nonfinite) {
    const safetensors::Contents contents = safetensors::load(path);
    check_finite(contents.tensors, "weights " + path, nonfinite);
    auto format = contents.metadata.find("format");
    std::map<std::string, Tensor> weights;
    if (format != contents.metadata.end() && format->second == kFormat) {
        weights = with_prefix(contents, kModelPrefix);
    } else {
        for (const auto& [name, t] : contents.tensors) weights.emplace(name, t);
    }
    const nn::NamedTensors targets = model.state_dict();
    nn::LoadResult result = nn::check_state_dict(targets, weights, strict, "weights " + path);
    for (const auto& [name, target] : targets) {
        auto it = weights.find(name);
        if (it != weights.end()) nn::copy_into(target, it->second);
    }
    return result;
}

void save_weights(const std::string& path, const nn::Module& model,
                  const std::map<std::string, std::string>& metadata) {
    safetensors::save(path, model.state_dict(), metadata);
}

}  // namespace engine::checkpoint
