// Resizing images and label maps with the engine's interpolate op, so that data preparation and the models
// resample by the same code (PyTorch's coordinate rules, kernels/interp_coords.h).
#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "models/data/image.h"

namespace engine::data {
namespace {

void check_resample(const Tensor& image, int64_t height, int64_t width, const char* op) {
    ENGINE_CHECK(image.defined() && (image.dim() == 2 || image.dim() == 3), op,
                 ": expected a (C,H,W) or (H,W) tensor, got shape ",
                 image.defined() ? shape_str(image.shape()) : std::string("undefined"));
    ENGINE_CHECK(height > 0 && width > 0, op, ": output size must be positive, got ", height, "x", width);
    ENGINE_CHECK(image.numel() > 0, op, ": empty input of shape ", shape_str(image.shape()));
}

// A (C,H,W) or (H,W) tensor resampled through interpolate as (1, C, H, W), on the CPU, without a graph.
Tensor resample(const Tensor& image, int64_t height, int64_t width, InterpMode mode, const char* op) {
    check_resample(image, height, width, op);
    NoGradGuard no_grad;
    const int64_t planes = image.dim() == 3 ? image.size(0) : 1;
    const Tensor x = image.detach().to(Device::cpu());
    const Tensor batch = x.reshape({1, planes, x.size(-2), x.size(-1)});
    const Tensor out = interpolate(batch, height, width, mode);
    return image.dim() == 3 ? out.reshape({planes, height, width}) : out.reshape({height, width});
}

// An 8-bit image resampled as float (values 0..255), rounded back to bytes.
Image resample(const Image& image, int64_t height, int64_t width, InterpMode mode, const char* op) {
    ENGINE_CHECK(image.channels >= 1 && image.channels <= 4 && image.height > 0 && image.width > 0 &&
                     static_cast<int64_t>(image.pixels.size()) == image.height * image.width * image.channels,
                 op, ": malformed image ", image.height, "x", image.width, "x", image.channels, " with ",
                 image.pixels.size(), " bytes");
    ENGINE_CHECK(height > 0 && width > 0, op, ": output size must be positive, got ", height, "x", width);
    const int64_t c = image.channels, plane_in = image.height * image.width, plane_out = height * width;
    Tensor chw = empty({c, image.height, image.width}, DType::Float32);
    float* src = chw.data<float>();
    for (int64_t i = 0; i < plane_in; ++i)
        for (int64_t k = 0; k < c; ++k) src[k * plane_in + i] = image.pixels[static_cast<size_t>(i * c + k)];
    const Tensor out = resample(chw, height, width, mode, op).contiguous();
    const float* dst = out.data<float>();
    Image result(height, width, c);
    for (int64_t i = 0; i < plane_out; ++i)
        for (int64_t k = 0; k < c; ++k)
            result.pixels[static_cast<size_t>(i * c + k)] =
                static_cast<uint8_t>(std::clamp(std::nearbyint(dst[k * plane_out + i]), 0.0f, 255.0f));
    return result;
}

}  // namespace

Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width) {
    check_resample(image, height, width, "resize_bilinear");
    ENGINE_CHECK(is_floating(image.dtype()), "resize_bilinear: expected a float32 or float64 tensor, got ",
                 dtype_name(image.dtype()));
    return resample(image, height, width, InterpMode::Bilinear, "resize_bilinear");
}

Tensor resize_nearest(const Tensor& image, int64_t height, int64_t width) {
    check_resample(image, height, width, "resize_nearest");
    if (is_floating(image.dtype())) return resample(image, height, width, InterpMode::Nearest, "resize_nearest");
    // Class maps and other integer tensors: through float64, which holds every id below 2^53 exactly; the
    // nearest rule only copies values.
    return resample(image.to(DType::Float64), height, width, InterpMode::Nearest, "resize_nearest").to(image.dtype());
}

Image resize_bilinear(const Image& image, int64_t height, int64_t width) {
    return resample(image, height, width, InterpMode::Bilinear, "resize_bilinear");
}

Image resize_nearest(const Image& image, int64_t height, int64_t width) {
    return resample(image, height, width, InterpMode::Nearest, "resize_nearest");
}

}  // namespace engine::data
