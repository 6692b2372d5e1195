// Image files and pixels: decoding PNG/JPEG/BMP (untrusted input, validated before decoding), PNG writing
// (atomic), conversions between 8-bit images and float tensors, and resizing. Sizes are (height, width)
// everywhere, in that order, as in tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine::data {

// Limits applied to every image file before it is decoded.
constexpr int64_t kMaxImageSide = 16384;                // pixels, either side (also stb's STBI_MAX_DIMENSIONS)
constexpr uint64_t kMaxDecodedImageBytes = 1ull << 28;  // height x width x channels x bytes per sample
constexpr uint64_t kMaxImageFileBytes = 1ull << 28;     // the encoded file

struct Rgb {
    uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
    bool operator!=(const Rgb& o) const { return !(*this == o); }
};

// An 8-bit image: rows top to bottom, pixels left to right, channels interleaved (HWC). channels is 1 (gray),
// 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
struct Image {
    int64_t height = 0, width = 0, channels = 0;
    std::vector<uint8_t> pixels;

    Image() = default;
    Image(int64_t height, int64_t width, int64_t channels, uint8_t fill = 0);
    bool empty() const { return pixels.empty(); }
    uint8_t* pixel(int64_t y, int64_t x) { return pixels.data() + (y * width + x) * channels; }
    const uint8_t* pixel(int64_t y, int64_t x) const { return pixels.data() + (y * width + x) * channels; }
};

// What a file's header declares, read without decoding the pixels.
struct ImageInfo {
    int64_t height = 0, width = 0, channels = 0;
    bool is_16bit = false;  // a 16-bit PNG (decoded to 8 bits by decode_image)
};

// --- reading and writing. Every error is one engine::Error line "image: SOURCE: reason".
// The whole file, refused when larger than max_bytes or not a regular file.
std::string read_file(const std::string& path, uint64_t max_bytes = kMaxImageFileBytes);
// The header of an encoded image; throws when the format is unknown, the header is corrupt or the declared
// size exceeds kMaxImageSide or kMaxDecodedImageBytes.
ImageInfo probe_image(const std::string& bytes, const std::string& source);
// Decodes PNG, JPEG or BMP bytes after probe_image accepted them. channels: 0 keeps the stored channels,
// 1 gives gray (ITU-R 601 luma of RGB, as stb_image computes it), 3 RGB, 4 RGBA (alpha dropped or added as
// 255). `source` names the input in errors (usually the file name). A JPEG without its end-of-image marker
// after the last scan (a truncated download) is an error, not a half-grey picture.
Image decode_image(const std::string& bytes, const std::string& source, int64_t channels = 0);
Image read_image(const std::string& path, int64_t channels = 0);

// PNG bytes of an image with 1 to 4 channels.
std::string encode_png(const Image& image);
// Writes PATH.tmp, fsyncs it and renames it over PATH: a crash leaves the old file or the new one.
void write_png(const std::string& path, const Image& image);

// --- conversions
// Gray <-> RGB (<-> RGBA): gray to RGB replicates, RGB to gray is stb's luma, alpha is dropped or set to 255.
Image convert_channels(const Image& image, int64_t channels);
// float32 (C,H,W) in [0, 1]; channels as for decode_image (0 keeps the image's).
Tensor image_to_tensor(const Image& image, int64_t channels = 0);
// The inverse, for display: (C,H,W) or (H,W) float, optionally denormalised as x * std[c] + mean[c] first
// (mean/std empty, or one value per channel), clamped to [0, 1] and rounded to 8 bits. C must be 1 or 3;
// the result has C channels (see to_rgb in draw.h for gray -> RGB).
Image tensor_to_image(const Tensor& chw, const std::vector<double>& mean = {}, const std::vector<double>& std = {});
// (x - mean[c]) / std[c] per channel of a float (C,H,W) tensor (torchvision's Normalize); a new tensor.
Tensor normalize(const Tensor& chw, const std::vector<double>& mean, const std::vector<double>& std);

// --- resizing (resize.cpp: the interpolate op, under no-grad)
// Float (C,H,W) or (H,W) tensors, float32 or float64: exactly PyTorch's
// F.interpolate(x, size, mode="bilinear", align_corners=False, antialias=False) (no antialiasing: shrinking by
// more than 2x skips pixels, as PyTorch does).
Tensor resize_bilinear(const Tensor& image, int64_t height, int64_t width);
// Any dtype, (C,H,W) or (H,W): PyTorch's mode="nearest" (source index floor(dst * in / out)). Use it for class
// maps: it never invents a class.
Tensor resize_nearest(const Tensor& image, int64_t height, int64_t width);
// The same two rules on 8-bit images (bilinear rounds to the nearest integer).
Image resize_bilinear(const Image& image, int64_t height, int64_t width);
Image resize_nearest(const Image& image, int64_t height, int64_t width);

}  // namespace engine::data
