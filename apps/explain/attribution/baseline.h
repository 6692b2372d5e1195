// Reference inputs ("baselines"): what integrated gradients integrates from, what feature ablation, occlusion,
// LIME and the deletion metric replace removed pixels with.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/tensor.h"

namespace engine::explain {

struct Baseline {
    enum class Kind {
        Constant,  // every element = value (0: Captum's default "black")
        Blur,      // the input blurred by a Gaussian of std sigma (pixels), replicate padding
        Uniform,   // uniform noise in [low, high), seeded (Philox: the same on every device); one noise image
                   // shared by every image of the batch
        Image,     // a given image: (C, H, W), (1, C, H, W) or (N, C, H, W)
    };
    Kind kind = Kind::Constant;
    double value = 0.0;
    double sigma = 5.0;
    double low = 0.0, high = 1.0;
    uint64_t seed = 0;
    Tensor image;

    static Baseline zeros() { return Baseline(); }
    static Baseline constant(double v);
    static Baseline blur(double sigma);
    static Baseline uniform(double low, double high, uint64_t seed = 0);
    static Baseline from_image(Tensor image);
    // "zeros" | "constant:V" | "blur" | "blur:SIGMA" | "uniform" | "uniform:LOW:HIGH[:SEED]" (images: from_image).
    static Baseline parse(const std::string& spec);
    std::string str() const;
};

// The baseline for x (N, C, H, W), with x's shape, dtype and device. Throws when an image baseline's shape
// does not broadcast to x's.
Tensor make_baseline(const Baseline& baseline, const Tensor& x);

// Separable Gaussian blur of (N, C, H, W) (radius ceil(3 sigma), capped so the kernel fits the image),
// replicate padding, through conv2d so that it runs on any device. sigma <= 0 returns x.
Tensor gaussian_blur(const Tensor& x, double sigma);

}  // namespace engine::explain
