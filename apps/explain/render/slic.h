// SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", TPAMI
// 2012) in CIELAB, following scikit-image's slic(): the same grid of initial centres (regular_grid), the same
// distance (colour distance^2 / compactness^2 + spatial distance^2 / S^2, S the grid step), a search window of
// +-2S around each centre, at most max_iter k-means iterations (stopping early when no pixel changes segment),
// and the same connectivity enforcement (4-connected components; components smaller than min_size_factor x the
// mean segment size join the previously labelled neighbour, components are cut at max_size_factor x it). Ids
// are 0..K-1 (skimage's start_label=0) in raster order of each segment's first pixel. Deterministic.
//
// Differences from skimage: gray images are converted to Lab as well (L only), so that one compactness suits
// gray and colour images (skimage measures gray intensities in [0, 1], where compactness 10 means almost
// square cells); no Gaussian pre-smoothing (skimage's default sigma = 0 as well).
#pragma once

#include <cstdint>
#include <vector>

#include "models/data/image.h"
#include "runtime/tensor.h"

namespace engine::explain::render {

struct SlicOptions {
    int64_t n_segments = 100;   // the approximate number of segments (skimage's default)
    double compactness = 10.0;  // colour versus space: larger gives squarer segments
    int64_t max_iter = 10;
    bool enforce_connectivity = true;
    double min_size_factor = 0.5;
    double max_size_factor = 3.0;
};

// CIELAB of an 8-bit gray or colour image (sRGB, D65 white, as skimage.color.rgb2lab), interleaved L, a, b.
std::vector<float> rgb_to_lab(const data::Image& image);

// int64 (H, W) segment ids 0..K-1 of an 8-bit image (gray, gray+alpha, RGB or RGBA; alpha ignored).
Tensor slic(const data::Image& image, const SlicOptions& options = {});
// The same for a float (C, H, W) tensor with C = 1 or 3 and values in [0, 1] (clamped).
Tensor slic(const Tensor& chw, const SlicOptions& options = {});

// The number of distinct segments in an int64 (H, W) mask whose ids are 0..K-1 (max + 1).
int64_t segment_count(const Tensor& segments);

}  // namespace engine::explain::render
