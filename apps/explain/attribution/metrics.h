// Fidelity metrics for attribution maps: deletion and insertion curves (Petsiuk et al., RISE, 2018) with a
// random-ordering reference, the model-randomisation sanity check (Adebayo et al., 2018) with Spearman rank
// correlation, and IG's completeness gap (integrated_gradients() reports it per job; see gradients.h).
//
// Deletion: pixels are removed (replaced by the baseline, every channel) in decreasing order of the map
// (summed over its channels; ties by position), in `steps` equal steps; insertion starts from the baseline and
// reveals pixels in the same order. The curve holds steps + 1 target scores (fraction 0, 1/steps, ..., 1),
// each job scored with its clean, frozen target weights, all steps of a job batched into forwards of
// batch_size. Scores: CurveScore::Probability (default; the softmax probability of the class, mean over the
// frozen mask for segmentation targets) or CurveScore::Logit (the raw target score).
//   auc             trapezoid area under the raw curve over the fraction in [0, 1]
//   normalized_auc  the same on (score - score(all removed)) / (score(clean) - score(all removed)), which runs
//                   from 1 to 0 for deletion and 0 to 1 for insertion whatever the model's scale: lower is
//                   better for deletion, higher for insertion. NaN when clean and baseline scores are equal.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "apps/explain/attribution/baseline.h"
#include "apps/explain/attribution/common.h"

namespace engine::explain {

enum class CurveKind { Deletion, Insertion };
enum class CurveScore { Probability, Logit };

struct CurveOptions {
    CurveKind kind = CurveKind::Deletion;
    int64_t steps = 20;
    Baseline baseline;        // zeros; Baseline::blur(sigma) gives the blurred variant
    int64_t batch_size = 32;  // step images per forward
    CurveScore score = CurveScore::Probability;
};

struct CurveResult {
    std::vector<std::vector<double>> curves;  // per job, steps + 1 raw scores
    std::vector<double> auc;                  // per job
    std::vector<double> normalized_auc;       // per job
    double mean_auc = 0.0, mean_normalized_auc = 0.0;
    int64_t forwards = 0;
};

// maps: (M, K, H, W) with one row per job of `target` resolved on x (as every method's Explanation::map).
CurveResult attribution_curve(nn::Module& model, const Tensor& x, const Target& target, const Tensor& maps,
                              const CurveOptions& options = {});

// A map of uniform noise shaped like `like` (seeded): the random ordering a useful map must beat.
Tensor random_map(const Tensor& like, uint64_t seed = 0);

// Spearman rank correlation of two tensors' elements (average ranks for ties); NaN when either is constant.
double spearman(const Tensor& a, const Tensor& b);

// The sanity check: re-initialise the model's layers (Conv2d, ConvTranspose2d, Linear, with their default
// initialisation) one by one from the output down, cumulatively (cascading), recompute the attribution after
// each and correlate it with the original. A method that depends on the weights decorrelates; an edge
// detector does not. The model's weights are restored afterwards (also on error).
using AttributionFn = std::function<Tensor(nn::Module& model)>;  // the method on a fixed input: (M, K, H, W)

struct RandomizationOptions {
    uint64_t seed = 0;
    bool absolute = true;    // correlate |maps| (Adebayo et al. report both)
    int64_t max_layers = 0;  // stop after this many layers (0: all)
};

struct RandomizationStep {
    std::string layer;             // the layer re-initialised last ("" for the first entry: the original map)
    std::vector<double> spearman;  // per job, against the original map
    double mean_spearman = 0.0;
};

std::vector<RandomizationStep> model_randomization(nn::Module& model, const AttributionFn& method,
                                                   const RandomizationOptions& options = {});

// Layers model_randomization re-initialises, output first.
std::vector<std::string> randomizable_layers(nn::Module& model);

}  // namespace engine::explain
