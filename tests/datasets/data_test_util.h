// Helpers for the data tests: a temporary folder, files written from bytes, and encoders for synthetic
// PNG/JPEG/BMP images (stb_image_write, compiled into the engine by models/data/stb_impl.cpp).
#pragma once

#include <stb/stb_image_write.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "models/data/image.h"

namespace engine::test {

// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "engine_data_XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    // PATH/relative, creating parent folders.
    std::string file(const std::string& relative) const {
        const std::filesystem::path p = std::filesystem::path(path_) / relative;
        std::filesystem::create_directories(p.parent_path());
        return p.string();
    }

private:
    std::string path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// encode_png + a plain write (write_png's fsync makes many small fixtures slow).
inline void save_png(const std::string& path, const data::Image& image) { write_bytes(path, data::encode_png(image)); }

inline void append_to_string(void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

inline std::string jpeg_bytes(const data::Image& image, int quality = 90) {
    std::string out;
    stbi_write_jpg_to_func(append_to_string, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                           static_cast<int>(image.channels), image.pixels.data(), quality);
    return out;
}

inline std::string bmp_bytes(const data::Image& image) {
    std::string out;
    stbi_write_bmp_to_func(append_to_string, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                           static_cast<int>(image.channels), image.pixels.data());
    return out;
}

// Deterministic "texture": every channel of every pixel differs.
inline data::Image pattern_image(int64_t height, int64_t width, int64_t channels, uint32_t seed = 1) {
    data::Image image(height, width, channels);
    uint32_t state = seed * 2654435761u + 12345u;
    for (uint8_t& v : image.pixels) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<uint8_t>(state >> 24);
    }
    return image;
}

// A smooth image (JPEG keeps it close to the original).
inline data::Image smooth_image(int64_t height, int64_t width, int64_t channels) {
    data::Image image(height, width, channels);
    const int64_t hy = std::max<int64_t>(1, height - 1), wx = std::max<int64_t>(1, width - 1);
    for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x)
            for (int64_t c = 0; c < channels; ++c)
                image.pixel(y, x)[c] = static_cast<uint8_t>(y * 100 / hy + x * 90 / wx + c * 30);
    return image;
}

}  // namespace engine::test
