// LIME for images over a feature mask (SLIC superpixels from apps/explain/render, the segmentation model's
// predicted segments from predicted_segments(), or grid_mask()): random on/off samples of the K segments,
// the model's target score on each, and a weighted ridge regression of score on the on/off vector.
//
//   samples     z in {0,1}^K, Bernoulli(0.5) per segment from counter-based Philox (seed, sample, segment):
//               reproducible, and identical for an image alone or anywhere in a batch. Sample 0 is all on
//               (as the lime package).
//   perturbed   pixels of "off" segments take the hide colour: the baseline (default zeros, Captum's) or each
//               segment's mean colour (HideColor::SegmentMean, the lime package's hide_color=None)
//   weights     Captum's default similarity: exp(-d^2 / (2 width^2)), d = 1 - cos(x, x_perturbed) on the
//               flattened images (input space), kernel_width 1.0
//   surrogate   weighted ridge with intercept (closed form, K x K solve; alpha 1.0 as the lime package's
//               Ridge), coefficient k = the attribution of segment k; R^2 weighted as sklearn's score
//               (Captum's default surrogate is Lasso(alpha=0.01); the lime package uses Ridge(alpha=1)).
#pragma once

#include <cstdint>
#include <vector>

#include "apps/explain/attribution/baseline.h"
#include "apps/explain/attribution/common.h"

namespace engine::explain {

struct LimeOptions {
    // 0: auto, 10 per segment (the lime maintainers' rule of thumb), at least 50 and at most 2000.
    int64_t num_samples = 0;
    enum class HideColor { Baseline, SegmentMean } hide = HideColor::Baseline;
    Baseline baseline;  // the hide colour with HideColor::Baseline (zeros)
    double kernel_width = 1.0;
    double ridge_alpha = 1.0;
    uint64_t seed = 0;
    int64_t batch_size = 32;  // perturbed images per forward
    int64_t top_k = 5;
};

struct LimeJob {
    std::vector<int64_t> segment_ids;  // the segments present in the job's image (ascending)
    std::vector<double> coefficients;  // one per segment_ids entry
    double intercept = 0.0;
    int64_t num_samples = 0;            // samples drawn for this job's image
    double r2 = 0.0;                    // weighted R^2 of the surrogate on the samples
    std::vector<int64_t> top_positive;  // up to top_k segment ids with the largest positive coefficients
    std::vector<int64_t> top_negative;  // up to top_k segment ids with the most negative coefficients
};

struct LimeResult : Explanation {  // map (M, 1, H, W): each pixel's segment coefficient
    std::vector<LimeJob> per_job;
    int64_t num_samples = 0;  // the largest per-image sample count
    int64_t forwards = 0;
};

LimeResult lime(nn::Module& model, const Tensor& x, const Target& target, const Tensor& feature_mask,
                const LimeOptions& options = {});

// Weighted ridge regression with intercept: minimises sum_i w_i (y_i - b - z_i.beta)^2 + alpha |beta|^2
// over rows z_i (num_rows x k, row-major). Returns beta, and b and the weighted R^2 through the pointers.
std::vector<double> weighted_ridge(const std::vector<double>& z, const std::vector<double>& y,
                                   const std::vector<double>& w, int64_t k, double alpha, double* intercept,
                                   double* r2);

}  // namespace engine::explain
