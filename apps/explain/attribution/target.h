// What an explanation explains: Target (the user's request: a class, the predicted class, every class present,
// a pixel, a region) and ResolvedTarget (the request turned into fixed weights over the model output, one
// score per image). Every method in engine::explain takes a Target and resolves it against the output of the
// clean (unperturbed) input once; perturbed inputs are then scored with the same frozen weights.
//
// The score of one explanation is linear in the model output: score = <W, output[image]>, with W of the
// output's per-image shape ((C) for a classifier, (C, H, W) for a segmentation model):
//   classifier, class c               W = one-hot(c)                               -> the class-c logit
//   segmentation, class c (default)   W[c] = 1 on the pixels whose CLEAN argmax is c -> the sum of the class-c
//                                     logits over the frozen predicted mask (Captum's segmentation tutorial:
//                                     agg_segmentation_wrapper with out_max taken from the clean prediction)
//   segmentation, class c, whole      W[c] = 1 everywhere (MaskMode::WholeImage)
//   pixel (y, x)                      W[c, y, x] = 1, c = the clean argmax at (y, x) unless given
//   region                            W[c] = mask, or W[argmax(p), p] = mask(p) when no class is given
// mean() divides W by its sum (a mean over the mask instead of a sum). Because the score is linear, its
// gradient w.r.t. the output is W itself: gradient methods seed autograd::grad with W directly.
//
// One image may have several explanations (Target::all_present(): one per class present in the clean
// prediction). They are "jobs": job j explains image jobs()[j].image with weights W_j; results of every
// method have one row per job, in job order (image-major, then class). Jobs are grouped in rounds of at
// most one job per image, so that one forward serves every job (perturbation methods score every round on
// the same forward; gradient methods run one backward per round on the same forward).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine::explain {

// One row of every result: which image, which class, and how it was scored.
struct TargetJob {
    int64_t image = 0;   // row of the input batch
    int64_t cls = -1;    // the class explained; -1 for a region scored on each pixel's predicted class
    int64_t pixels = 0;  // segmentation: pixels in W's support (0: the class is absent, the score and maps are 0)
    std::string label;   // e.g. "class 3", "class 3 on its predicted mask (812 px)", "pixel (4, 7) class 2"
};

class ResolvedTarget;

class Target {
public:
    enum class Kind { Classes, Predicted, AllPresent, Pixel, Region };
    // Segmentation class targets: over the clean predicted mask of the class (default) or every pixel.
    enum class MaskMode { PredictedMask, WholeImage };

    // The same class for every image (classifier logit, or the segmentation class score).
    static Target cls(int64_t c);
    // One class per image (size N), or one for all (size 1).
    static Target classes(std::vector<int64_t> per_image);
    // The clean prediction: the argmax class (classifier) or the class with the most predicted pixels
    // (segmentation; ties go to the lower class).
    static Target predicted();
    // Every class present in the clean predicted mask, one job each (segmentation); every class (classifier).
    static Target all_present();
    // One output pixel's logit: class `c`, or the clean argmax class at (y, x) when c < 0. Segmentation only.
    static Target pixel(int64_t y, int64_t x, int64_t c = -1);
    // The sum over a region of the output: mask (H, W), (1, H, W), (N, 1, H, W) or (1, 1, H, W), any dtype
    // (non-zero = inside; a float mask weights the pixels). Class `c`, or each pixel's clean argmax when c < 0.
    static Target region(Tensor mask, int64_t c = -1);

    // Sum (default, Captum's segmentation wrapper) or mean of the output over W's support.
    Target& mean(bool on = true);
    Target& mask_mode(MaskMode mode);

    Kind kind() const { return kind_; }
    std::string str() const;  // "predicted", "class 3", "classes [1, 4]", "all_present", "pixel (4, 7)", ...

    // Fixes the weights from the clean output (N, C) or (N, C, H, W). Throws naming the problem: a class out
    // of range ("class 12 out of range for an output with 10 classes"), a pixel outside the output, a region
    // of the wrong size, a pixel/region target on a classifier, a class list whose size is not 1 or N.
    ResolvedTarget resolve(const Tensor& clean_output) const;

private:
    struct SegmentationOutput;  // the clean prediction of a segmentation output (target.cpp)
    using Jobs = std::vector<TargetJob>;
    using Weights = std::vector<Tensor>;  // per job, the per-image output shape
    int64_t class_of(int64_t image) const { return classes_.size() == 1 ? classes_[0] : classes_[image]; }
    // resolve() per kind of output and target.
    void classifier_jobs(const Tensor& out, Jobs& jobs, Weights& weights) const;
    void class_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const;  // Classes, Predicted, AllPresent
    void pixel_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const;
    void region_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const;

    Kind kind_ = Kind::Predicted;
    std::vector<int64_t> classes_;
    int64_t y_ = 0, x_ = 0;
    Tensor region_;
    bool mean_ = false;
    MaskMode mask_mode_ = MaskMode::PredictedMask;
};

// The weights of every job, fixed from the clean output. Cheap to copy (tensor handles).
class ResolvedTarget {
public:
    struct Round {
        std::vector<int64_t> jobs;    // job ids, ascending
        std::vector<int64_t> images;  // jobs[i] explains images[i]; distinct
        Tensor weights;               // (jobs.size(), *per-image output shape)
        Tensor full_weights;          // (N, *per-image output shape), zero rows for images without a job
        bool covers_all_images = false;
    };

    ResolvedTarget() = default;
    ResolvedTarget(Shape output_shape, std::vector<TargetJob> jobs, std::vector<Tensor> job_weights);

    int64_t num_images() const { return output_shape_.empty() ? 0 : output_shape_[0]; }
    int64_t num_jobs() const { return static_cast<int64_t>(jobs_.size()); }
    int64_t num_classes() const { return output_shape_.size() > 1 ? output_shape_[1] : 0; }
    bool segmentation() const { return output_shape_.size() == 4; }
    const Shape& output_shape() const { return output_shape_; }
    const std::vector<TargetJob>& jobs() const { return jobs_; }
    const std::vector<Round>& rounds() const { return rounds_; }
    // (M, *per-image output shape): W of every job.
    const Tensor& weights() const { return weights_; }
    // The job's image indices as an int64 tensor (M), on `device`.
    Tensor job_images(Device device) const;

    // Scores of k stacked copies of `n` images (rows copy-major: row j*n + i is copy j of image i) against
    // weights (n, ...): (k*n). Differentiable w.r.t. output.
    static Tensor score(const Tensor& output, const Tensor& weights);
    // Softmax probability mass of the target: sum(softmax(output, 1) * W) / sum(W), per row, same layout.
    static Tensor probability(const Tensor& output, const Tensor& weights);
    // The gradient seed of autograd::grad(output, ..., {seed}) for k copies: weights repeated k times.
    static Tensor seed(const Tensor& weights, int64_t copies);
    // Scores of every job from an output of k copies of all N images: (k, M).
    Tensor job_scores(const Tensor& output) const;
    // Rows of per-round results (round_rows[r] has rounds()[r].jobs.size() or N rows (full), see
    // full_rows) gathered into job order: (M, ...).
    Tensor gather_jobs(const std::vector<Tensor>& round_rows, bool full_rows) const;

private:
    Shape output_shape_;
    std::vector<TargetJob> jobs_;
    Tensor weights_;
    std::vector<Round> rounds_;
};

}  // namespace engine::explain
