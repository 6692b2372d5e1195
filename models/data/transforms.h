// Sample transforms (resize, crops, flips, normalisation) that move an image and its mask together, and Rng,
// the per-sample random stream that makes augmentation reproducible whatever thread runs it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/data/dataset.h"
#include "runtime/generator.h"

namespace engine::data {

// A counter-based (Philox) random stream: the values drawn depend only on (seed, stream) and on how many were
// drawn before, so sample k of epoch e gets the same augmentation on any thread, in any order. The
// DataLoader gives each sample the stream (epoch, position in the epoch).
class Rng {
public:
    Rng(uint64_t seed, uint64_t stream);
    // A fresh stream of `gen`: (gen.seed(), a counter range reserved from gen), for code outside a DataLoader.
    static Rng from(Generator& gen);
    uint32_t next_u32();
    double uniform();                // [0, 1), 53 bits
    int64_t uniform_int(int64_t n);  // [0, n), n >= 1
    bool bernoulli(double p) { return uniform() < p; }

private:
    uint64_t key_, counter_ = 0;
    uint32_t buffer_[4] = {0, 0, 0, 0};
    int used_ = 4;
};

// Changes a sample in place (replacing its tensors; never writing into tensors it did not create, so a
// dataset may hand out shared tensors). Spatial transforms apply to the image and, when the target is a
// (H,W) mask of the image's size, to the mask with the same window/flip (masks resize by nearest).
class Transform {
public:
    virtual ~Transform() = default;
    virtual void apply(Sample& sample, Rng& rng) const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

namespace transforms {

// In order; null entries are skipped.
TransformPtr compose(std::vector<TransformPtr> steps);
// Image bilinear (PyTorch's interpolate, align_corners=False), mask nearest.
TransformPtr resize(int64_t height, int64_t width);
// A window at a uniformly random position; a sample smaller than the window is an error naming both sizes.
TransformPtr random_crop(int64_t height, int64_t width);
// torchvision's CenterCrop offsets: round((H - h) / 2), round((W - w) / 2).
TransformPtr center_crop(int64_t height, int64_t width);
// Mirror left-right / top-bottom with probability p (a draw is made even when p is 0 or 1).
TransformPtr horizontal_flip(double p = 0.5);
TransformPtr vertical_flip(double p = 0.5);
// (x - mean[c]) / std[c] on the image (one value, or one per channel).
TransformPtr normalize(std::vector<double> mean, std::vector<double> std);
// Anything else; must follow the Transform rules above.
TransformPtr lambda(std::function<void(Sample&, Rng&)> f);

}  // namespace transforms

// Tensor helpers the transforms use (any dtype, (C,H,W) or (H,W), contiguous results).
Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width);
Tensor flip_horizontal(const Tensor& image);
Tensor flip_vertical(const Tensor& image);

}  // namespace engine::data
