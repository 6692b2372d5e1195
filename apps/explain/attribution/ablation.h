// Perturbation methods: FeatureAblation over an integer feature mask (Captum's FeatureAblation with
// feature_mask) and Occlusion with a sliding window (Captum's Occlusion), plus the feature masks they take:
// a regular grid, or the segmentation model's own predicted segments. SLIC superpixels come from
// apps/explain/render.
//
// Both follow Captum's sign: attribution = initial_eval - modified_eval (positive: removing the feature lowers
// the target score), the features' pixels replaced by the baseline in every channel. Ablated copies of the
// whole batch are stacked perturbations_per_eval at a time into one no-grad forward; the target weights are
// frozen from the clean output, so a perturbed segmentation is scored on the clean predicted mask.
#pragma once

#include <vector>

#include "apps/explain/attribution/baseline.h"
#include "apps/explain/attribution/common.h"

namespace engine::explain {

// Feature masks are integer tensors of ids >= 0 (any integer dtype), shaped (H, W), (1, H, W), (1, 1, H, W) or
// (N, 1, H, W); ids need not be contiguous (the ids present are the features).

// (1, 1, H, W) int64: cells of cell_h x cell_w numbered row-major (the last row/column of cells may be smaller).
Tensor grid_mask(int64_t h, int64_t w, int64_t cell_h, int64_t cell_w);
// (N, 1, H, W) int64: the clean argmax class of every pixel of a segmentation output (N, C, H, W).
Tensor argmax_segments(const Tensor& output);
// argmax_segments of the model's no-grad eval output on x; throws when the model is a classifier.
Tensor predicted_segments(nn::Module& model, const Tensor& x);
// The feature mask as int64 (N, 1, H, W) for x (N, C, H, W); throws naming the shapes when it does not fit.
Tensor normalize_feature_mask(const Tensor& mask, const Tensor& x, const char* method);

struct AblationOptions {
    Baseline baseline;                   // zeros (Captum's baselines=None)
    int64_t perturbations_per_eval = 1;  // ablated copies of the batch per forward (Captum's default 1)
};

struct AblationResult : Explanation {  // map (M, 1, H, W)
    std::vector<int64_t> feature_ids;  // the ids present in the mask, ascending
    // feature_attributions[j][k]: job j's attribution of feature_ids[k]; NaN when the job's image lacks it.
    std::vector<std::vector<double>> feature_attributions;
    std::vector<std::vector<int64_t>> feature_pixels;  // pixel count of each feature per job
    int64_t forwards = 0;
};

AblationResult feature_ablation(nn::Module& model, const Tensor& x, const Target& target, const Tensor& feature_mask,
                                const AblationOptions& options = {});

struct OcclusionOptions {
    int64_t window_h = 8, window_w = 8;  // Captum's sliding_window_shapes, over every channel
    // Window steps; 0: half the window, rounded up (Captum's default is 1: one forward per pixel position).
    int64_t stride_h = 0, stride_w = 0;
    Baseline baseline;  // zeros
    int64_t perturbations_per_eval = 1;
};

struct OcclusionResult : Explanation {  // map (M, 1, H, W): the mean over the windows covering each pixel
    int64_t windows = 0;
    int64_t forwards = 0;
};

OcclusionResult occlusion(nn::Module& model, const Tensor& x, const Target& target,
                          const OcclusionOptions& options = {});

}  // namespace engine::explain
