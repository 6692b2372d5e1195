// Flags -> plan: each flag's text parsed once, with a one-line UsageError naming the flag when it is wrong.
#include "apps/explain/cli_plan.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "apps/explain/cli_options.h"
#include "apps/explain/cli_text.h"
#include "models/data/image.h"
#include "runtime/json.h"

namespace engine::explain::cli {

using apps::UsageError;

namespace {

constexpr apps::EnumName<bool> kOnOffRows[] = {{true, "on"}, {false, "off"}};
constexpr apps::EnumNames<bool> kOnOffNames{"value", kOnOffRows};

// A library or table parse whose error becomes the flag's usage error: "--sign: unknown sign 'x' (valid: ...)".
template <class F>
auto flag_value(const std::string& flag, F&& parse) {
    try {
        return parse();
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& e) {
        throw UsageError(flag + ": " + e.what());
    }
}

// "auto" -> nullopt, anything else through `parse`.
template <class F>
auto unless_auto(const std::string& flag, const std::string& text, F&& parse) -> std::optional<decltype(parse(text))> {
    if (text == "auto") return std::nullopt;
    return flag_value(flag, [&] { return parse(text); });
}

std::vector<double> parse_list(const std::string& text, const std::string& flag) {
    std::vector<double> out;
    std::string item;
    std::stringstream in(text);
    while (std::getline(in, item, ',')) {
        try {
            size_t used = 0;
            out.push_back(std::stod(item, &used));
            if (used != item.size()) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw UsageError(flag + ": '" + item + "' is not a number");
        }
    }
    if (out.empty()) throw UsageError(flag + ": expected numbers, got '" + text + "'");
    return out;
}

// --model with --model-config (JSON; its name, when given, must be --model's).
models::ModelConfig model_config(const ExplainOptions& o) {
    nlohmann::json j = nlohmann::json::object();
    if (!o.model_config.empty()) {
        try {
            j = parse_json(o.model_config);
        } catch (const nlohmann::json::exception&) {
            throw UsageError("--model-config: not JSON: " + o.model_config);
        }
        if (!j.is_object()) throw UsageError("--model-config: expected a JSON object, got " + o.model_config);
    }
    if (j.contains("name") && j["name"] != o.model)
        throw UsageError("--model-config names " + dump_json(j["name"]) + " but --model is " + o.model);
    j["name"] = o.model;
    try {
        return models::ModelConfig::from_json(dump_json(j));
    } catch (const Error& e) {
        throw UsageError(std::string("--model-config: ") + e.what());
    }
}

ModelPlan model_plan(const ExplainOptions& o) {
    ModelPlan p;
    if (!o.model.empty()) {
        const auto& names = models::model_names();
        if (std::find(names.begin(), names.end(), o.model) == names.end())
            throw UsageError("--model " + o.model + ": unknown model (valid: " + join(names) + ")");
        p.name = o.model;
        p.config = model_config(o);
    }
    // Without weights, only --list-layers of a named model makes sense (its fresh weights have the same paths).
    if (o.weights.empty() && !(o.list_layers && !o.model.empty()))
        throw UsageError("--weights is required (an engine checkpoint, or a weight file with --model)");
    p.weights = o.weights;
    p.allow_nonfinite = o.allow_nonfinite;
    return p;
}

NormalizePlan normalize_plan(const std::string& spec) {
    NormalizePlan p;
    if (const std::optional<NormalizeKind> kind = kNormalizeKindNames.find(spec)) {
        p.kind = *kind;
        return p;
    }
    const size_t slash = spec.find('/');
    if (slash == std::string::npos)
        throw UsageError("--normalize: expected " + kNormalizeKindNames.valid() + " or MEAN/STD, got '" + spec + "'");
    p.kind = NormalizeKind::Custom;
    p.mean = parse_list(spec.substr(0, slash), "--normalize");
    p.std = parse_list(spec.substr(slash + 1), "--normalize");
    for (double s : p.std)
        if (!(s > 0)) throw UsageError("--normalize: every std must be > 0");
    return p;
}

PreprocessPlan preprocess_plan(const ExplainOptions& o) {
    PreprocessPlan p;
    if (!o.size.empty()) p.size = parse_size(o.size, "--size");
    p.normalize = normalize_plan(o.normalize);
    p.channel_policy = flag_value("--channel-policy", [&] { return kChannelPolicyNames.parse(o.channel_policy); });
    p.pairs = flag_value("--pairs", [&] { return kPairsModeNames.parse(o.pairs); });
    return p;
}

std::vector<TargetItem> target_items(const std::string& text) {
    std::vector<TargetItem> items;
    const std::vector<std::string> tokens = split(text, ',');
    // split() drops empty items: "," or "3,,5" would otherwise explain nothing (or less) without a word.
    const bool has_empty_item = text.empty() || text.front() == ',' || text.back() == ',' ||
                                text.find(",,") != std::string::npos;
    if (tokens.empty() || has_empty_item)
        throw UsageError("--target: expected auto, all, or comma-separated class ids / names, got '" + text +
                         "' (an empty item)");
    for (const std::string& token : tokens) {
        TargetItem item;
        item.text = token;
        const bool digits = std::all_of(token.begin(), token.end(), [](unsigned char c) { return std::isdigit(c); });
        if (token == "auto") {
            item.kind = TargetItem::Kind::Auto;
        } else if (token == "all") {
            item.kind = TargetItem::Kind::All;
        } else if (digits) {
            item.kind = TargetItem::Kind::Id;
            try {
                item.id = std::stoll(token);
            } catch (const std::exception&) {  // too large: reported as out of range with the class count
            }
        } else {
            item.kind = TargetItem::Kind::Name;
        }
        items.push_back(item);
    }
    return items;
}

BaselinePlan baseline_plan(const std::string& spec) {
    BaselinePlan b;
    if (spec.rfind("blur", 0) == 0) {  // blur or blur:SIGMA
        b.kind = BaselineKind::Blur;
        if (spec.size() > 4) {
            if (spec[4] != ':') throw UsageError("--baseline: expected blur or blur:SIGMA, got '" + spec + "'");
            try {
                b.sigma = std::stod(spec.substr(5));
            } catch (const std::exception&) {
                throw UsageError("--baseline: bad sigma in '" + spec + "'");
            }
            if (!(*b.sigma > 0)) throw UsageError("--baseline: blur sigma must be > 0 in '" + spec + "'");
        }
        return b;
    }
    if (const std::optional<BaselineKind> kind = kBaselineKindNames.find(spec)) {
        b.kind = *kind;
        return b;
    }
    b.kind = BaselineKind::Image;  // anything else names an image file, read once the preprocessing is known
    b.image = spec;
    return b;
}

std::vector<std::optional<SegmentKind>> segment_plan(const std::vector<std::string>& items) {
    std::vector<std::optional<SegmentKind>> kinds;
    for (const std::string& item : items)
        kinds.push_back(
            unless_auto("--segments", item, [](const std::string& t) { return kSegmentKindNames.parse(t); }));
    if (kinds.empty()) throw UsageError("--segments: no feature mask given");
    return kinds;
}

MethodPlan method_plan(const ExplainOptions& o) {
    MethodPlan m;
    m.methods = parse_methods(o.methods);
    m.layers = o.layers;
    m.targets = target_items(o.target);
    m.seg_target = flag_value("--seg-target", [&] { return kSegTargetNames.parse(o.seg_target); });
    m.baseline = baseline_plan(o.baseline);
    m.ig_steps = o.ig_steps;
    m.ig_method = flag_value("--ig-method", [&] { return parse_ig_method(o.ig_method); });
    m.internal_batch = o.internal_batch;
    m.relu = o.relu;
    m.upsample = flag_value("--upsample", [&] { return parse_upsample(o.upsample); });
    m.segments = segment_plan(o.segments);
    m.n_segments = o.n_segments;
    m.compactness = o.compactness;
    m.grid_cell = o.grid_cell;
    m.lime_samples = o.lime_samples;
    m.lime_seeds = o.lime_seeds;
    m.perturbations_per_eval = o.perturbations_per_eval;
    m.occlusion_window = o.occlusion_window;
    m.occlusion_stride = o.occlusion_stride;
    m.seed = o.seed;
    return m;
}

DisplayPlan display_plan(const ExplainOptions& o) {
    DisplayPlan d;
    d.sign = unless_auto("--sign", o.sign, render::parse_sign);
    d.colormap = unless_auto("--colormap", o.colormap, render::parse_colormap);
    d.palette = unless_auto("--palette", o.palette, [](const std::string& t) { return render::parse_palette(t, 0); });
    d.outlier_perc = o.outlier_perc;
    d.top_k = o.top_k;
    return d;
}

}  // namespace

bool MethodPlan::has(Method m) const { return std::find(methods.begin(), methods.end(), m) != methods.end(); }

std::string baseline_label(const BaselinePlan& baseline) {
    switch (baseline.kind) {
        case BaselineKind::Image:
            return baseline.image;
        case BaselineKind::Blur:
            if (baseline.sigma) {
                char sigma[32];
                std::snprintf(sigma, sizeof sigma, "%g", *baseline.sigma);
                return std::string("blur:") + sigma;
            }
            return "blur";
        default:
            return kBaselineKindNames.name(baseline.kind);
    }
}

ExplainPlan make_plan(const ExplainOptions& o) {
    ExplainPlan plan;
    // The methods and the display first: their mistakes are the likeliest and cost nothing to report.
    plan.methods = method_plan(o);
    plan.display = display_plan(o);
    plan.model = model_plan(o);
    plan.list_layers = o.list_layers;
    if (o.out.empty() && !o.list_layers) throw UsageError("--out is required");
    plan.out = o.out;
    plan.inputs = {o.images, o.idx, o.index, o.idx_labels, o.class_names, o.skip_bad};
    plan.preprocess = preprocess_plan(o);
    plan.metrics.on = flag_value("--metrics", [&] { return kOnOffNames.parse(o.metrics); });
    plan.metrics.steps = o.metric_steps;
    plan.metrics.sanity_layers = o.sanity_layers;
    plan.device = apps::parse_device(o.device);
    plan.threads = o.threads;
    return plan;
}

std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& flag) {
    const size_t x = text.find_first_of("xX");
    try {
        size_t used = 0;
        const int64_t h = std::stoll(text.substr(0, x), &used);
        if (used != (x == std::string::npos ? text.size() : x)) throw std::invalid_argument(text);
        int64_t w = h;
        if (x != std::string::npos) {
            w = std::stoll(text.substr(x + 1), &used);
            if (used != text.size() - x - 1) throw std::invalid_argument(text);
        }
        if (h < 1 || w < 1 || h > data::kMaxImageSide || w > data::kMaxImageSide) throw std::out_of_range(text);
        return {h, w};
    } catch (const std::exception&) {
        throw UsageError(flag + ": expected HxW or N with sides in [1, " + std::to_string(data::kMaxImageSide) +
                         "], got '" + text + "'");
    }
}

}  // namespace engine::explain::cli
