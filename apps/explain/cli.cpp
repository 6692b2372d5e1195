// The explain command's run: model, inputs, predictions, targets, methods, report and results.
#include "apps/explain/cli.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/common/app_main.h"
#include "apps/common/training.h"
#include "apps/explain/cli_input.h"
#include "apps/explain/cli_methods.h"
#include "apps/explain/cli_output.h"
#include "apps/explain/cli_report.h"
#include "apps/explain/cli_targets.h"
#include "apps/explain/cli_text.h"
#include "apps/explain/render/panels.h"
#include "models/checkpoint.h"
#include "runtime/out_of_memory.h"
#include "runtime/parallel.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;

namespace {

// What the run resolves from the plan and the model before the first image, and what it collects per image.
struct Run {
    explicit Run(const ExplainPlan& p) : plan(p) {}
    const ExplainPlan& plan;
    Stopwatch total;
    LoadedModel loaded;
    Preprocessing prep;
    RunSettings settings;
    std::vector<data::Rgb> colors;  // segmentation palette
    std::vector<InputImage> inputs;
    RunRecord record;
};

// Everything that depends on the model, checked before any image is read: a flag that does not fit the model
// stops the run here.
void resolve_for_model(Run& run) {
    const ExplainPlan& plan = run.plan;
    RunSettings& s = run.settings;
    nn::Module& model = *run.loaded.model;
    const int64_t num_classes = run.loaded.model->config().num_classes;
    const render::Palette palette = plan.display.palette.value_or(render::default_palette(num_classes));
    s.plan = &plan;
    s.class_names = resolve_class_names(plan.inputs, plan.model.weights, run.loaded,
                                        render::palette_class_names(palette, num_classes));
    run.colors = render::palette_colors(palette, num_classes);
    s.layers = plan.methods.layers.empty() ? std::vector<std::string>{default_cam_layer(model)} : plan.methods.layers;
    for (const std::string& layer : s.layers) {
        try {
            model.module(layer);  // unknown paths: lists the valid ones
        } catch (const Error& e) {
            throw apps::UsageError(std::string("--layer: ") + e.what());
        }
    }
    s.segment_kinds = resolve_segment_kinds(plan.methods.segments, run.loaded.segmentation);
    s.targets = resolve_target_items(plan.methods.targets, s.class_names, num_classes);
    run.prep = resolve_preprocessing(plan, run.loaded);
    s.prep = &run.prep;
    if (plan.methods.baseline.kind == BaselineKind::Image)
        s.baseline_image = read_image_input(plan.methods.baseline.image, run.prep, "--baseline").display;
}

// The clean prediction of one input into its report card and JSON record: the top classes (classifier) or the
// decoded segmentation map with its legend (the map is also written as STEM_segmentation.png).
void describe_prediction(ImageContext& ctx, const Run& run, render::ReportEntry& entry, nlohmann::json& record) {
    const InputImage& input = *ctx.input;
    const std::vector<std::string>& class_names = run.settings.class_names;
    if (ctx.segmentation) {
        ctx.predicted = argmax(ctx.output, 1).select(0, 0).contiguous();
        const data::Image seg = render::segmentation_image(ctx.predicted, run.colors);
        data::write_png(out_path(run.settings, input.stem + "_segmentation.png"), seg);
        entry.segmentation_map = render::make_picture(seg, "prediction", input.stem + "_segmentation.png");
        nlohmann::json legend = nlohmann::json::array();
        for (const render::LegendEntry& l : render::segmentation_legend(ctx.predicted, run.colors, class_names)) {
            entry.legend.push_back({l.name, l.color, l.fraction});
            legend.push_back({{"class", l.cls}, {"name", l.name}, {"pixels", l.pixels}, {"fraction", l.fraction}});
        }
        record["prediction"] = {{"segmentation", input.stem + "_segmentation.png"}, {"classes", legend}};
        return;
    }
    const std::vector<double> logits = ctx.output.to_vector<double>();
    const std::vector<double> probs = probabilities(ctx.output, run.loaded.multilabel);
    std::vector<int64_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
    nlohmann::json top = nlohmann::json::array();
    for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < run.plan.display.top_k; ++i) {
        const int64_t c = order[i];
        const std::string name = c < static_cast<int64_t>(class_names.size()) ? class_names[c] : std::to_string(c);
        entry.top.push_back({c, name, probs[c], logits[c]});
        top.push_back({{"class", c}, {"name", name}, {"probability", probs[c]}, {"logit", logits[c]}});
    }
    record["prediction"] = {{"top", top}};
}

// A method's output into the image's report card and JSON record.
void add_output(Run& run, MethodOutput& out, render::ReportEntry& entry, nlohmann::json& method_records) {
    run.record.pictures += static_cast<int64_t>(out.report.pictures.size());
    method_records.push_back(out.json);
    entry.methods.push_back(std::move(out.report));
}

// Every target of one image with every attribution method; returns the targets' records.
nlohmann::json explain_targets(Run& run, ImageContext& ctx, render::ReportEntry& entry,
                               nlohmann::json& method_records) {
    const RunSettings& s = run.settings;
    std::vector<std::string> target_notes;
    const std::vector<TargetContext> targets = image_targets(ctx, s, run.loaded.multilabel, target_notes);
    for (const std::string& n : target_notes) entry.notes.push_back(n);
    nlohmann::json target_records = nlohmann::json::array();
    for (const TargetContext& t : targets) {
        std::vector<MethodOutput> outs = run_target(ctx, t, s);
        nlohmann::json tr = {{"class", t.cls}, {"label", t.label}};
        if (s.metrics().on && !outs.empty()) {
            const auto [del, ins] = random_reference(ctx, t, s);
            entry.notes.push_back(t.label + ": a random ordering scores deletion AUC " + render::format_value(del, 3) +
                                  ", insertion AUC " + render::format_value(ins, 3) + " (the reference to beat)");
            tr["random_reference"] = {{"deletion_auc", del}, {"insertion_auc", ins}};
        }
        for (MethodOutput& out : outs) {
            std::printf("  %s %s: %s in %s\n", ctx.input->stem.c_str(), t.label.c_str(), out.report.name.c_str(),
                        render::format_seconds(out.report.seconds).c_str());
            add_output(run, out, entry, method_records);
        }
        target_records.push_back(tr);
    }
    return target_records;
}

// One input: its picture, prediction, baseline, activations and every target.
void explain_image(Run& run, const InputImage& input) {
    const RunSettings& s = run.settings;
    ImageContext ctx;
    ctx.input = &input;
    ctx.model = run.loaded.model.get();
    ctx.segmentation = run.loaded.segmentation;
    ctx.x = input.x.to(s.device);
    ctx.output = forward_no_grad(*ctx.model, ctx.x).to(Device::cpu());
    // Every score, target and metric below is NaN if the output is: refuse it rather than report "n/a"s.
    const std::vector<std::string> nonfinite = checkpoint::nonfinite_tensors({{"output", ctx.output}});
    ENGINE_CHECK(nonfinite.empty(), input.name, ": the model's ", nonfinite.empty() ? "" : nonfinite.front(),
                 " is not finite; check its weights (or this input)");
    render::ReportEntry entry;
    entry.name = input.name;
    entry.segmentation = ctx.segmentation;
    nlohmann::json record = {{"name", input.name}, {"input", input.stem + "_input.png"}};
    data::write_png(out_path(s, input.stem + "_input.png"), input.display);
    entry.image = render::make_picture(input.display, "input", input.stem + "_input.png");
    entry.facts = {{"file size", std::to_string(input.source_height) + "x" + std::to_string(input.source_width) + "x" +
                                     std::to_string(input.source_channels)},
                   {"model input", std::to_string(ctx.x.size(1)) + "x" + std::to_string(ctx.x.size(2)) + "x" +
                                       std::to_string(ctx.x.size(3))}};
    if (input.label) {
        entry.facts.emplace_back("label", class_label(*input.label, s.class_names));
        record["label"] = *input.label;
    }
    entry.notes = input.notes;
    describe_prediction(ctx, run, entry, record);
    prepare_baseline(ctx, s);
    nlohmann::json method_records = nlohmann::json::array();
    if (s.methods().has(Method::Activations)) {
        MethodOutput out = run_activations(ctx, s);
        add_output(run, out, entry, method_records);
    }
    const nlohmann::json target_records = explain_targets(run, ctx, entry, method_records);
    std::fflush(stdout);
    record["targets"] = target_records;
    record["methods"] = method_records;
    record["notes"] = entry.notes;
    run.record.images.push_back(record);
    run.record.report.entries.push_back(std::move(entry));
}

}  // namespace

int run_explain(const ExplainPlan& plan) {
    Run run(plan);
    if (plan.threads > 0) set_num_threads(plan.threads);
    run.loaded = load_model(plan.model);
    nn::Module& model = *run.loaded.model;
    if (plan.list_layers) {
        print_layers(model);
        return 0;
    }
    resolve_for_model(run);
    RunSettings& s = run.settings;
    s.device = apps::select_device(plan.device);
    model.to(s.device);
    run.inputs = read_inputs(plan.inputs, run.prep);
    std::error_code ec;
    fs::create_directories(plan.out, ec);
    ENGINE_CHECK(fs::is_directory(plan.out, ec), "--out ", plan.out, ": cannot create the folder");
    s.out_dir = plan.out;

    std::vector<std::string> methods;
    for (Method m : plan.methods.methods) methods.emplace_back(method_info(m).name);
    std::printf("explain: %s (%s, %.3fM parameters) on %s; %zu image(s); methods %s\n", run.loaded.name.c_str(),
                run.loaded.source.c_str(), static_cast<double>(model.num_parameters()) / 1e6,
                apps::describe_device(s.device).c_str(), run.inputs.size(), join(methods).c_str());
    std::fflush(stdout);
    run.record.report.title = "explain: " + run.loaded.name + " on " + std::to_string(run.inputs.size()) + " image(s)";
    run.record.report.class_names = s.class_names;
    size_t explained = 0;
    for (const InputImage& input : run.inputs) {
        try {
            explain_image(run, input);
            ++explained;
        } catch (const OutOfMemoryError& e) {
            const OutOfMemoryError named(detail::concat(input.name, ": the model input is ", input.x.size(2), "x",
                                                        input.x.size(3), ", too large for this machine's memory (",
                                                        e.what(), "); give a smaller --size"));
            if (!plan.inputs.skip_bad) throw named;
            std::fprintf(stderr, "warning: --skip-bad: skipped %s\n", named.what());
        } catch (const Error& e) {
            if (!plan.inputs.skip_bad || dynamic_cast<const apps::UsageError*>(&e) != nullptr) throw;
            std::fprintf(stderr, "warning: --skip-bad: skipped %s: %s\n", input.name.c_str(), e.what());
        }
    }
    ENGINE_CHECK(explained > 0, "--skip-bad: no input could be explained");
    write_results(s, run.loaded, explained, run.total, run.record);
    return 0;
}

}  // namespace engine::explain::cli
