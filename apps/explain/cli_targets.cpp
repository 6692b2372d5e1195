// The explain command's targets.
#include "apps/explain/cli_targets.h"

#include <algorithm>
#include <map>

#include "apps/common/app_main.h"
#include "apps/explain/cli_text.h"
#include "apps/explain/render/report.h"

namespace engine::explain::cli {

using apps::UsageError;

namespace {

int64_t class_of(const TargetItem& item, const std::vector<std::string>& names, int64_t k) {
    if (item.kind == TargetItem::Kind::Id) {
        if (item.id < 0 || item.id >= k)
            throw UsageError("--target " + item.text + ": class out of range for a model with " + std::to_string(k) +
                             " classes (0.." + std::to_string(k - 1) + ")");
        return item.id;
    }
    for (size_t c = 0; c < names.size(); ++c)
        if (lower(names[c]) == lower(item.text)) return static_cast<int64_t>(c);
    throw UsageError("--target '" + item.text + "': not a class id (0.." + std::to_string(k - 1) +
                     ") or a class name (" + join(names) + ")");
}

// Segmentation: the predicted classes by their pixel counts, most first.
std::vector<int64_t> by_pixels(const std::map<int64_t, int64_t>& pixels) {
    std::vector<std::pair<int64_t, int64_t>> v(pixels.begin(), pixels.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<int64_t> out;
    for (const auto& [c, n] : v) out.push_back(c);
    return out;
}

// The classes the items name for this image, in order, with repeats.
std::vector<int64_t> target_classes(const ImageContext& ctx, const std::vector<TargetItem>& items,
                                    const std::map<int64_t, int64_t>& pixels) {
    const int64_t k = ctx.output.size(1);
    std::vector<int64_t> classes;
    for (const TargetItem& item : items) {
        if (item.kind == TargetItem::Kind::Auto) {
            if (ctx.segmentation)
                classes.push_back(by_pixels(pixels).at(0));
            else
                classes.push_back(argmax(ctx.output, 1).to_vector<int64_t>().at(0));
        } else if (item.kind == TargetItem::Kind::All) {
            if (ctx.segmentation) {
                for (int64_t c : by_pixels(pixels)) classes.push_back(c);
            } else {
                for (int64_t c = 0; c < k; ++c) classes.push_back(c);
            }
        } else {
            classes.push_back(item.id);
        }
    }
    return classes;
}

}  // namespace

std::string class_label(int64_t c, const std::vector<std::string>& names) {
    const std::string id = std::to_string(c);
    const std::string name = c >= 0 && c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : "";
    const bool plain = name.empty() || name == id || name == "class " + id;
    return "class " + id + (plain ? "" : " (" + name + ")");
}

std::vector<double> probabilities(const Tensor& logits, bool multilabel) {
    return (multilabel ? sigmoid(logits) : softmax(logits, 1)).to_vector<double>();
}

std::vector<TargetItem> resolve_target_items(const std::vector<TargetItem>& items,
                                             const std::vector<std::string>& names, int64_t num_classes) {
    std::vector<TargetItem> out = items;
    for (TargetItem& item : out) {
        if (item.kind != TargetItem::Kind::Id && item.kind != TargetItem::Kind::Name) continue;
        item.id = class_of(item, names, num_classes);
        item.kind = TargetItem::Kind::Id;
    }
    return out;
}

std::vector<TargetContext> image_targets(const ImageContext& ctx, const RunSettings& s, bool multilabel,
                                         std::vector<std::string>& notes) {
    std::map<int64_t, int64_t> pixels;
    if (ctx.segmentation)
        for (int64_t v : ctx.predicted.to_vector<int64_t>()) ++pixels[v];
    std::vector<TargetContext> out;
    std::vector<int64_t> seen;
    const bool whole = s.plan->methods.seg_target == SegTarget::Whole;
    for (int64_t c : target_classes(ctx, s.targets, pixels)) {
        if (std::find(seen.begin(), seen.end(), c) != seen.end()) continue;
        seen.push_back(c);
        TargetContext t;
        t.cls = c;
        t.tag = "c" + std::to_string(c);
        t.label = class_label(c, s.class_names);
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

}  // namespace engine::explain::cli
