// Image decoding (stb_image, behind our own size checks), PNG writing, tensor conversions and resizing.
#include "models/data/image.h"

#include <fcntl.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>

#include "models/data/image_checks.h"
#include "runtime/safetensors.h"

namespace engine::data {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& reason) {
    throw Error("image: " + source + ": " + reason);
}

struct StbFree {
    void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

const stbi_uc* bytes_of(const std::string& s) { return reinterpret_cast<const stbi_uc*>(s.data()); }

// stb's reason, made safe for a one-line message: for an unknown PNG chunk it reports the chunk's type bytes,
// which in a truncated file are zeros (an empty or garbled string).
std::string stb_reason() {
    const char* raw = stbi_failure_reason();
    std::string reason = raw ? raw : "";
    int printable = 0;
    for (char& c : reason) {
        if (c < 32 || c > 126)
            c = '?';
        else
            ++printable;
    }
    return printable >= 4 ? reason : "corrupt or truncated data";
}

void check_channels(int64_t channels, const char* what) {
    ENGINE_CHECK(channels >= 0 && channels <= 4, what, ": channels must be 0 (as stored) or 1 to 4, got ", channels);
}

void check_image(const Image& image, const char* op) {
    ENGINE_CHECK(image.channels >= 1 && image.channels <= 4 && image.height > 0 && image.width > 0 &&
                     static_cast<int64_t>(image.pixels.size()) == image.height * image.width * image.channels,
                 op, ": malformed image ", image.height, "x", image.width, "x", image.channels, " with ",
                 image.pixels.size(), " bytes");
}

}  // namespace

Image::Image(int64_t height_, int64_t width_, int64_t channels_, uint8_t fill)
    : height(height_), width(width_), channels(channels_) {
    ENGINE_CHECK(height >= 0 && width >= 0 && channels >= 1 && channels <= 4, "Image: bad size ", height, "x", width,
                 "x", channels);
    pixels.assign(static_cast<size_t>(height * width * channels), fill);
}

std::string read_file(const std::string& path, uint64_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail(path, std::string("cannot stat (") + std::strerror(errno) + ")");
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size > max_bytes)
        fail(path, "file of " + std::to_string(size) + " bytes exceeds the limit of " + std::to_string(max_bytes));
    std::string bytes(size, '\0');
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::read(fd, bytes.data() + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, std::string("read error (") + std::strerror(errno) + ")");
        if (n == 0) break;  // shrank while reading
        done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

ImageInfo probe_image(const std::string& bytes, const std::string& source) {
    if (bytes.empty()) fail(source, "empty file");
    if (bytes.size() > kMaxImageFileBytes) fail(source, "encoded image too large");
    // Before stb_image sees the bytes at all: stbi_info already parses JPEG Huffman tables.
    if (const std::string problem = detail::encoded_image_problem(bytes); !problem.empty()) fail(source, problem);
    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(bytes_of(bytes), static_cast<int>(bytes.size()), &w, &h, &comp)) {
        const std::string reason = stb_reason();
        if (reason == "too large") fail(source, "declared size too large to decode");
        fail(source, "cannot decode (" + reason + "; PNG, JPEG and BMP are supported)");
    }
    ImageInfo info;
    info.height = h;
    info.width = w;
    info.channels = comp;
    info.is_16bit = stbi_is_16_bit_from_memory(bytes_of(bytes), static_cast<int>(bytes.size())) != 0;
    if (h <= 0 || w <= 0 || h > kMaxImageSide || w > kMaxImageSide || comp < 1 || comp > 4)
        fail(source, "declared size " + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(comp) +
                         " outside the limits (sides up to " + std::to_string(kMaxImageSide) + ")");
    return info;
}

Image decode_image(const std::string& bytes, const std::string& source, int64_t channels) {
    check_channels(channels, "decode_image");
    const ImageInfo info = probe_image(bytes, source);
    const uint64_t per_pixel = static_cast<uint64_t>(std::max(info.channels, channels)) * (info.is_16bit ? 2 : 1);
    const uint64_t need = static_cast<uint64_t>(info.height) * static_cast<uint64_t>(info.width) * per_pixel;
    if (need > kMaxDecodedImageBytes)
        fail(source, "declared size " + std::to_string(info.height) + "x" + std::to_string(info.width) + "x" +
                         std::to_string(info.channels) + " needs " + std::to_string(need) +
                         " bytes, over the decoding limit of " + std::to_string(kMaxDecodedImageBytes));
    const std::optional<std::string> cleaned = detail::png_without_empty_idat(bytes);
    const std::string& decodable = cleaned ? *cleaned : bytes;
    int w = 0, h = 0, comp = 0;
    std::unique_ptr<stbi_uc, StbFree> data(stbi_load_from_memory(
        bytes_of(decodable), static_cast<int>(decodable.size()), &w, &h, &comp, static_cast<int>(channels)));
    if (!data) fail(source, "cannot decode (" + stb_reason() + ")");
    if (h != info.height || w != info.width) fail(source, "decoded size differs from the declared size");
    Image image;
    image.height = h;
    image.width = w;
    image.channels = channels == 0 ? comp : channels;
    image.pixels.assign(data.get(), data.get() + static_cast<size_t>(h) * w * image.channels);
    return image;
}

Image read_image(const std::string& path, int64_t channels) { return decode_image(read_file(path), path, channels); }

std::string encode_png(const Image& image) {
    check_image(image, "encode_png");
    ENGINE_CHECK(image.height <= kMaxImageSide && image.width <= kMaxImageSide, "encode_png: image ", image.height, "x",
                 image.width, " exceeds the ", kMaxImageSide, "-pixel side limit");
    std::string out;
    auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
    };
    const int ok = stbi_write_png_to_func(append, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                                          static_cast<int>(image.channels), image.pixels.data(),
                                          static_cast<int>(image.width * image.channels));
    ENGINE_CHECK(ok != 0 && !out.empty(), "encode_png: stb_image_write failed for a ", image.height, "x", image.width,
                 "x", image.channels, " image");
    return out;
}

void write_png(const std::string& path, const Image& image) {
    safetensors::write_file_atomically(path, encode_png(image));
}

Image convert_channels(const Image& image, int64_t channels) {
    check_image(image, "convert_channels");
    ENGINE_CHECK(channels >= 1 && channels <= 4, "convert_channels: channels must be 1 to 4, got ", channels);
    if (channels == image.channels) return image;
    Image out(image.height, image.width, channels);
    const int64_t n = image.height * image.width, cin = image.channels;
    const bool in_color = cin >= 3, in_alpha = cin == 2 || cin == 4;
    const bool out_color = channels >= 3, out_alpha = channels == 2 || channels == 4;
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t* s = image.pixels.data() + i * cin;
        uint8_t* d = out.pixels.data() + i * channels;
        if (out_color) {
            for (int c = 0; c < 3; ++c) d[c] = in_color ? s[c] : s[0];
        } else {  // stb_image's luma: (77 r + 150 g + 29 b) >> 8
            d[0] = in_color ? static_cast<uint8_t>((s[0] * 77 + s[1] * 150 + s[2] * 29) >> 8) : s[0];
        }
        if (out_alpha) d[channels - 1] = in_alpha ? s[cin - 1] : 255;
    }
    return out;
}

Tensor image_to_tensor(const Image& image, int64_t channels) {
    check_channels(channels, "image_to_tensor");
    if (channels != 0 && channels != image.channels) return image_to_tensor(convert_channels(image, channels), 0);
    check_image(image, "image_to_tensor");
    const int64_t c = image.channels, hw = image.height * image.width;
    Tensor out = empty({c, image.height, image.width}, DType::Float32);
    float* dst = out.data<float>();
    const uint8_t* src = image.pixels.data();
    for (int64_t k = 0; k < c; ++k)
        for (int64_t i = 0; i < hw; ++i) dst[k * hw + i] = static_cast<float>(src[i * c + k]) * (1.0f / 255.0f);
    return out;
}

Image tensor_to_image(const Tensor& chw, const std::vector<double>& mean, const std::vector<double>& std) {
    ENGINE_CHECK(chw.defined() && (chw.dim() == 2 || chw.dim() == 3),
                 "tensor_to_image: expected (C,H,W) or (H,W), got ",
                 chw.defined() ? shape_str(chw.shape()) : std::string("undefined"));
    const int64_t c = chw.dim() == 3 ? chw.size(0) : 1;
    ENGINE_CHECK(c == 1 || c == 3, "tensor_to_image: expected 1 or 3 channels, got shape ", shape_str(chw.shape()));
    ENGINE_CHECK(
        mean.size() == std.size() && (mean.empty() || mean.size() == 1 || static_cast<int64_t>(mean.size()) == c),
        "tensor_to_image: ", mean.size(), " means and ", std.size(), " stds for ", c, " channels");
    const int64_t h = chw.size(chw.dim() - 2), w = chw.size(chw.dim() - 1);
    const std::vector<double> values = chw.to_vector<double>();
    Image out(h, w, c);
    for (int64_t k = 0; k < c; ++k) {
        const double m = mean.empty() ? 0.0 : mean[mean.size() == 1 ? 0 : k];
        const double s = std.empty() ? 1.0 : std[std.size() == 1 ? 0 : k];
        for (int64_t i = 0; i < h * w; ++i) {
            double v = values[k * h * w + i] * s + m;
            v = std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0);
            out.pixels[i * c + k] = static_cast<uint8_t>(std::lround(v * 255.0));
        }
    }
    return out;
}

Tensor normalize(const Tensor& chw, const std::vector<double>& mean, const std::vector<double>& std) {
    ENGINE_CHECK(chw.defined() && chw.dim() == 3, "normalize: expected a (C,H,W) tensor, got ",
                 chw.defined() ? shape_str(chw.shape()) : std::string("undefined"));
    const int64_t c = chw.size(0);
    ENGINE_CHECK(mean.size() == std.size() && (mean.size() == 1 || static_cast<int64_t>(mean.size()) == c),
                 "normalize: ", mean.size(), " means and ", std.size(), " stds for ", c, " channels");
    for (double s : std) ENGINE_CHECK(s > 0 && std::isfinite(s), "normalize: std must be positive, got ", s);
    Tensor src = chw.detach().to(Device::cpu()).contiguous();
    Tensor out = empty(src.shape(), src.dtype());
    const int64_t plane = src.size(1) * src.size(2);
    ENGINE_DISPATCH_FLOATING(src.dtype(), "normalize", [&] {
        const scalar_t* s = src.data<scalar_t>();
        scalar_t* d = out.data<scalar_t>();
        for (int64_t k = 0; k < c; ++k) {
            const scalar_t m = static_cast<scalar_t>(mean[mean.size() == 1 ? 0 : k]);
            const scalar_t inv = static_cast<scalar_t>(1.0 / std[std.size() == 1 ? 0 : k]);
            for (int64_t i = 0; i < plane; ++i) d[k * plane + i] = (s[k * plane + i] - m) * inv;
        }
    });
    return out;
}

}  // namespace engine::data
