// What the explain command explains: --target's class ids and names checked against the model's classes once,
// before the first image, and per image the targets they give (the predicted class, every class, or the given
// ones) with their labels and the frozen scores of the sanity check.
#pragma once

#include <string>
#include <vector>

#include "apps/explain/cli_methods.h"

namespace engine::explain::cli {

// "class 3 (Dress)", or "class 3" when the name says no more than the id.
std::string class_label(int64_t cls, const std::vector<std::string>& names);

// The --target items with names resolved to ids and ids checked against `num_classes`: Auto, All or Id.
// Throws apps::UsageError naming --target.
std::vector<TargetItem> resolve_target_items(const std::vector<TargetItem>& items,
                                             const std::vector<std::string>& names, int64_t num_classes);

// The targets of one image, de-duplicated in the order given; classes a segmentation model predicts nowhere
// (with --seg-target mask) are left out with a note.
std::vector<TargetContext> image_targets(const ImageContext& ctx, const RunSettings& s, bool multilabel,
                                         std::vector<std::string>& notes);

// Class probabilities of a classifier's (1, K) logits: a softmax, or a sigmoid per class for multi-label models.
std::vector<double> probabilities(const Tensor& logits, bool multilabel);

}  // namespace engine::explain::cli
