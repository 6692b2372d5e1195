// The explain command's flags and its run: model, inputs, predictions, targets, methods, report and results.
#include "apps/explain/cli.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "apps/common/app_main.h"
#include "apps/common/training.h"
#include "apps/explain/cli_input.h"
#include "apps/explain/cli_methods.h"
#include "apps/explain/render/panels.h"
#include "runtime/parallel.h"
#include "runtime/json.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;
using apps::UsageError;

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string item;
    std::stringstream in(text);
    while (std::getline(in, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

// Flag values checked before anything is loaded: each bad one is a usage error.
template <class F>
auto usage_checked(const std::string& flag, F&& parse) {
    try {
        return parse();
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& e) {
        throw UsageError(flag + ": " + e.what());
    }
}

std::string class_label(int64_t c, const std::vector<std::string>& names) {
    const std::string id = std::to_string(c);
    const std::string name = c >= 0 && c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : "";
    const bool plain = name.empty() || name == id || name == "class " + id;
    return "class " + id + (plain ? "" : " (" + name + ")");
}

int64_t parse_class(const std::string& token, const std::vector<std::string>& names, int64_t k) {
    const bool digits =
        !token.empty() && std::all_of(token.begin(), token.end(), [](unsigned char c) { return std::isdigit(c); });
    if (digits) {
        int64_t c = -1;
        try {
            c = std::stoll(token);
        } catch (const std::exception&) {
        }
        if (c < 0 || c >= k)
            throw UsageError("--target " + token + ": class out of range for a model with " + std::to_string(k) +
                             " classes (0.." + std::to_string(k - 1) + ")");
        return c;
    }
    for (size_t c = 0; c < names.size(); ++c)
        if (lower(names[c]) == lower(token)) return static_cast<int64_t>(c);
    throw UsageError("--target '" + token + "': not a class id (0.." + std::to_string(k - 1) + ") or a class name (" +
                     join(names) + ")");
}

// Class probabilities of a classifier's (1, K) logits: a softmax, or a sigmoid per class for multi-label models.
std::vector<double> probabilities(const Tensor& logits, bool multilabel) {
    return (multilabel ? sigmoid(logits) : softmax(logits, 1)).to_vector<double>();
}

std::vector<TargetContext> resolve_targets(const ExplainOptions& o, const ImageContext& ctx, bool multilabel,
                                           const std::vector<std::string>& names, std::vector<std::string>& notes) {
    const int64_t k = ctx.output.size(1);
    std::vector<int64_t> classes;
    std::map<int64_t, int64_t> pixels;
    if (ctx.segmentation)
        for (int64_t v : ctx.predicted.to_vector<int64_t>()) ++pixels[v];
    auto by_pixels = [&] {
        std::vector<std::pair<int64_t, int64_t>> v(pixels.begin(), pixels.end());
        std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        std::vector<int64_t> out;
        for (const auto& [c, n] : v) out.push_back(c);
        return out;
    };
    for (const std::string& token : split(o.target, ',')) {
        if (token == "auto") {
            if (ctx.segmentation)
                classes.push_back(by_pixels().at(0));
            else
                classes.push_back(argmax(ctx.output, 1).to_vector<int64_t>().at(0));
        } else if (token == "all") {
            if (ctx.segmentation) {
                for (int64_t c : by_pixels()) classes.push_back(c);
            } else {
                for (int64_t c = 0; c < k; ++c) classes.push_back(c);
            }
        } else {
            classes.push_back(parse_class(token, names, k));
        }
    }
    std::vector<TargetContext> out;
    std::vector<int64_t> seen;
    const bool whole = o.seg_target == "whole";
    for (int64_t c : classes) {
        if (std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
        seen.push_back(c);
        TargetContext t;
        t.cls = c;
        t.tag = "c" + std::to_string(c);
        t.label = class_label(c, names);
        if (!ctx.segmentation) {
            t.target = t.frozen = Target::cls(c);
            const double p = probabilities(ctx.output, multilabel).at(static_cast<size_t>(c));
            t.label += ", p = " + render::format_value(p, 3);
        } else if (whole) {
            t.target = t.frozen = Target::cls(c).mask_mode(Target::MaskMode::WholeImage);
            t.label += ", summed over the whole image";
        } else {
            const int64_t n = pixels.count(c) ? pixels[c] : 0;
            if (n == 0) {
                notes.push_back(t.label +
                                " is predicted nowhere: its mask is empty, so it was not explained (use "
                                "--seg-target whole to explain its logits over the whole image)");
                continue;
            }
            t.target = Target::cls(c);
            t.frozen =
                Target::region(eq(ctx.predicted, static_cast<double>(c)).to(DType::Float32).to(ctx.x.device()), c);
            t.label += ", summed over its predicted mask (" + std::to_string(n) + " px)";
        }
        out.push_back(t);
    }
    return out;
}

void print_layers(nn::Module& model) {
    const std::vector<std::string> convs = conv_layer_paths(model);
    const std::string last = convs.empty() ? "" : default_cam_layer(model);
    for (const auto& [path, module] : model.named_modules()) {
        if (path.empty()) continue;
        const bool conv = std::find(convs.begin(), convs.end(), path) != convs.end();
        std::printf("%-28s %-18s%s%s\n", path.c_str(), module->type_name().c_str(), conv ? " conv" : "",
                    path == last ? " (default --layer)" : "");
    }
}

// The clean prediction of one input into its report card and JSON record: the top classes (classifier) or the
// decoded segmentation map with its legend (the map is also written as STEM_segmentation.png).
void describe_prediction(ImageContext& ctx, const ExplainOptions& o, bool multilabel,
                         const std::vector<std::string>& class_names,
                         const std::vector<data::Rgb>& colors, render::ReportEntry& entry, nlohmann::json& record) {
    const InputImage& input = *ctx.input;
    if (ctx.segmentation) {
        ctx.predicted = argmax(ctx.output, 1).select(0, 0).contiguous();
        const data::Image seg = render::segmentation_image(ctx.predicted, colors);
        data::write_png((fs::path(o.out) / (input.stem + "_segmentation.png")).string(), seg);
        entry.segmentation_map = render::make_picture(seg, "prediction", input.stem + "_segmentation.png");
        nlohmann::json legend = nlohmann::json::array();
        for (const render::LegendEntry& l : render::segmentation_legend(ctx.predicted, colors, class_names)) {
            entry.legend.push_back({l.name, l.color, l.fraction});
            legend.push_back({{"class", l.cls}, {"name", l.name}, {"pixels", l.pixels}, {"fraction", l.fraction}});
        }
        record["prediction"] = {{"segmentation", input.stem + "_segmentation.png"}, {"classes", legend}};
    } else {
        const std::vector<double> logits = ctx.output.to_vector<double>();
        const std::vector<double> probs = probabilities(ctx.output, multilabel);
        std::vector<int64_t> order(logits.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
        nlohmann::json top = nlohmann::json::array();
        for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < o.top_k; ++i) {
            const int64_t c = order[i];
            const std::string name = c < static_cast<int64_t>(class_names.size()) ? class_names[c] : std::to_string(c);
            entry.top.push_back({c, name, probs[c], logits[c]});
            top.push_back({{"class", c}, {"name", name}, {"probability", probs[c]}, {"logit", logits[c]}});
        }
        record["prediction"] = {{"top", top}};
    }
}

}  // namespace

int run_explain(const ExplainOptions& o) {
    Stopwatch total;
    if (o.threads > 0) set_num_threads(o.threads);
    const std::vector<std::string> methods = parse_methods(o.methods);
    RunSettings settings;
    settings.options = &o;
    if (o.sign != "auto") settings.sign = usage_checked("--sign", [&] { return render::parse_sign(o.sign); });
    if (o.colormap != "auto")
        settings.colormap = usage_checked("--colormap", [&] { return render::parse_colormap(o.colormap); });
    usage_checked("--ig-method", [&] { return parse_ig_method(o.ig_method); });
    settings.metrics = o.metrics == "on";

    LoadedModel loaded = load_model(o);
    nn::Module& model = *loaded.model;
    if (o.list_layers) {
        print_layers(model);
        return 0;
    }
    if (o.out.empty()) throw UsageError("--out is required");
    const int64_t num_classes = loaded.model->config().num_classes;
    const render::Palette palette = render::parse_palette(o.palette, num_classes);
    const std::vector<std::string> class_names =
        resolve_class_names(o, loaded, render::palette_class_names(palette, num_classes));
    settings.class_names = class_names;
    const std::vector<data::Rgb> colors = render::palette_colors(palette, num_classes);
    settings.layers = o.layers.empty() ? std::vector<std::string>{default_cam_layer(model)} : o.layers;
    for (const std::string& layer : settings.layers) model.module(layer);  // unknown paths: lists the valid ones
    settings.segment_kinds = resolve_segment_kinds(o.segments, loaded.segmentation);
    const Preprocessing prep = resolve_preprocessing(o, loaded);
    settings.prep = &prep;
    settings.device = apps::select_device(o.device);
    model.to(settings.device);
    const std::vector<InputImage> inputs = read_inputs(o, prep);
    std::error_code ec;
    fs::create_directories(o.out, ec);
    ENGINE_CHECK(fs::is_directory(o.out, ec), "--out ", o.out, ": cannot create the folder");
    settings.out_dir = o.out;

    std::printf("explain: %s (%s, %.3fM parameters) on %s; %zu image(s); methods %s\n", loaded.name.c_str(),
                loaded.source.c_str(), static_cast<double>(model.num_parameters()) / 1e6,
                apps::describe_device(settings.device).c_str(), inputs.size(), join(methods).c_str());
    std::fflush(stdout);

    render::Report report;
    report.title = "explain: " + loaded.name + " on " + std::to_string(inputs.size()) + " image(s)";
    report.class_names = class_names;
    nlohmann::json images = nlohmann::json::array();
    int64_t pictures = 0;
    for (const InputImage& input : inputs) {
        ImageContext ctx;
        ctx.input = &input;
        ctx.model = &model;
        ctx.segmentation = loaded.segmentation;
        ctx.x = input.x.to(settings.device);
        ctx.output = forward_no_grad(model, ctx.x).to(Device::cpu());
        render::ReportEntry entry;
        entry.name = input.name;
        entry.segmentation = ctx.segmentation;
        nlohmann::json record = {{"name", input.name}, {"input", input.stem + "_input.png"}};
        data::write_png((fs::path(o.out) / (input.stem + "_input.png")).string(), input.display);
        entry.image = render::make_picture(input.display, "input", input.stem + "_input.png");
        entry.facts = {{"file size", std::to_string(input.source_height) + "x" + std::to_string(input.source_width) +
                                         "x" + std::to_string(input.source_channels)},
                       {"model input", std::to_string(ctx.x.size(1)) + "x" + std::to_string(ctx.x.size(2)) + "x" +
                                           std::to_string(ctx.x.size(3))}};
        if (input.label) {
            entry.facts.emplace_back("label", class_label(*input.label, class_names));
            record["label"] = *input.label;
        }
        entry.notes = input.notes;
        describe_prediction(ctx, o, loaded.multilabel, class_names, colors, entry, record);
        prepare_baseline(ctx, settings);
        nlohmann::json method_records = nlohmann::json::array();
        if (std::find(methods.begin(), methods.end(), "activations") != methods.end()) {
            MethodOutput out = run_activations(ctx, settings);
            pictures += static_cast<int64_t>(out.report.pictures.size());
            method_records.push_back(out.json);
            entry.methods.push_back(std::move(out.report));
        }
        std::vector<std::string> target_notes;
        const std::vector<TargetContext> targets =
            resolve_targets(o, ctx, loaded.multilabel, class_names, target_notes);
        for (const std::string& n : target_notes) entry.notes.push_back(n);
        nlohmann::json target_records = nlohmann::json::array();
        for (const TargetContext& t : targets) {
            std::vector<MethodOutput> outs = run_target(ctx, t, settings, methods);
            nlohmann::json tr = {{"class", t.cls}, {"label", t.label}};
            if (settings.metrics && !outs.empty()) {
                const auto [del, ins] = random_reference(ctx, t, settings);
                entry.notes.push_back(t.label + ": a random ordering scores deletion AUC " +
                                      render::format_value(del, 3) + ", insertion AUC " + render::format_value(ins, 3) +
                                      " (the reference to beat)");
                tr["random_reference"] = {{"deletion_auc", del}, {"insertion_auc", ins}};
            }
            for (MethodOutput& out : outs) {
                std::printf("  %s %s: %s in %s\n", input.stem.c_str(), t.label.c_str(), out.report.name.c_str(),
                            render::format_seconds(out.report.seconds).c_str());
                pictures += static_cast<int64_t>(out.report.pictures.size());
                method_records.push_back(out.json);
                entry.methods.push_back(std::move(out.report));
            }
            target_records.push_back(tr);
        }
        std::fflush(stdout);
        record["targets"] = target_records;
        record["methods"] = method_records;
        record["notes"] = entry.notes;
        images.push_back(record);
        report.entries.push_back(std::move(entry));
    }

    const nlohmann::json preprocessing = {{"size", prep.size_rule},
                                          {"normalize", prep.normalize_rule},
                                          {"channel_policy", prep.channel_policy},
                                          {"pairs", prep.pairs_rule},
                                          {"channels", prep.channels}};
    report.summary = {
        {"model", loaded.name + " (" + render::format_value(double(model.num_parameters()) / 1e6, 4) +
                      "M parameters), " + loaded.source},
        {"weights", o.weights},
        {"trained on", loaded.training_data.empty() ? "unknown (no dataset metadata)" : loaded.training_data},
        {"device", apps::describe_device(settings.device)},
        {"input size", prep.size_rule},
        {"image pairs", prep.pairs_rule},
        {"normalisation", prep.normalize_rule},
        {"methods", join(methods)},
        {"layers", join(settings.layers)},
        {"target", o.target + (loaded.segmentation ? " (segmentation: " + o.seg_target + ")" : "")},
        {"baseline", o.baseline},
        {"display", "sign " + o.sign + ", colour map " + o.colormap + ", outlier " +
                        render::format_value(o.outlier_perc) + "% (Captum's cumulative-sum rule)"},
        {"metrics", settings.metrics ? "deletion/insertion over " + std::to_string(o.metric_steps) +
                                           " steps; sanity check over " + std::to_string(o.sanity_layers) + " layer(s)"
                                     : "off"},
        {"total time", render::format_seconds(total.seconds())}};
    report.footer =
        "Generated by apps/explain. Maps are signed and unnormalised in the .npy files; pictures are "
        "normalised per map. Deletion/insertion AUCs are normalised to run from the clean score to the "
        "baseline score.";
    const nlohmann::json results = {{"model", parse_json(loaded.model->config().to_json())},
                                    {"weights", o.weights},
                                    {"trained_on", loaded.training_data.empty() ? nlohmann::json(nullptr)
                                                                                : nlohmann::json(loaded.training_data)},
                                    {"probabilities", loaded.multilabel ? "sigmoid" : "softmax"},
                                    {"device", apps::describe_device(settings.device)},
                                    {"preprocessing", preprocessing},
                                    {"class_names", class_names},
                                    {"methods", methods},
                                    {"layers", settings.layers},
                                    {"images", images},
                                    {"seconds", total.seconds()}};
    apps::write_json((fs::path(o.out) / "results.json").string(), results);
    render::write_report((fs::path(o.out) / "report.html").string(), report);
    std::printf("explain: wrote %lld pictures, report.html and results.json to %s in %s\n",
                static_cast<long long>(pictures + 2 * static_cast<int64_t>(inputs.size())), o.out.c_str(),
                render::format_seconds(total.seconds()).c_str());
    return 0;
}

}  // namespace engine::explain::cli
