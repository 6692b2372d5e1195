// CityscapesPairs: photo | colour label composites (the pix2pix "cityscapes" files) as a segmentation set.
#include <filesystem>

#include "models/data/datasets.h"

namespace engine::data {
namespace {

// A composite's header: the pair's size, and colour (the label half is read by its colours: a grayscale file,
// widened to RGB, would map every grey to the nearest class colour and train silently on wrong labels).
void check_composite(const ImageInfo& info, const std::string& path) {
    ENGINE_CHECK(info.height == kCityscapesPairHeight && info.width == kCityscapesPairWidth, "data: ", path,
                 ": expected a ", kCityscapesPairWidth, "x", kCityscapesPairHeight,
                 " (width x height) photo | label pair, got ", info.width, "x", info.height);
    ENGINE_CHECK(info.channels >= 3, "data: ", path, ": expected an RGB image, got ",
                 info.channels == 1 ? "a grayscale one" : "grayscale with alpha", " (", info.channels,
                 " channel", info.channels == 1 ? "" : "s", "); the label half needs its colours");
}

Image read_composite(const std::string& path) {
    const std::string bytes = read_file(path);
    check_composite(probe_image(bytes, path), path);
    return decode_image(bytes, path, 3);
}

std::vector<std::string> selected(const std::vector<std::string>& all, const std::vector<int64_t>& indices,
                                  const std::string& dir) {
    if (indices.empty()) return all;
    std::vector<std::string> out;
    for (int64_t i : indices) {
        ENGINE_CHECK(i >= 0 && i < static_cast<int64_t>(all.size()), "data: ", dir, ": index ", i, " out of range for ",
                     all.size(), " files");
        out.push_back(all[static_cast<size_t>(i)]);
    }
    return out;
}

}  // namespace

Sample split_cityscapes_pair(const Image& composite, const ColorMapper& mapper, const std::string& source) {
    ENGINE_CHECK(composite.height == kCityscapesPairHeight && composite.width == kCityscapesPairWidth, "data: ", source,
                 ": expected a ", kCityscapesPairWidth, "x", kCityscapesPairHeight,
                 " (width x height) photo | label pair, got ", composite.width, "x", composite.height);
    ENGINE_CHECK(composite.channels == 3 || composite.channels == 4, "data: ", source, ": expected an RGB image, got ",
                 composite.channels, " channels");
    const int64_t half = kCityscapesPairWidth / 2, h = kCityscapesPairHeight, c = composite.channels;
    Sample sample;
    sample.image = empty({3, h, half}, DType::Float32);
    float* dst = sample.image.data<float>();
    for (int64_t y = 0; y < h; ++y) {
        const uint8_t* row = composite.pixel(y, 0);
        for (int64_t x = 0; x < half; ++x)
            for (int64_t k = 0; k < 3; ++k)
                dst[(k * h + y) * half + x] = static_cast<float>(row[x * c + k]) * (1.0f / 255.0f);
    }
    sample.target = mapper.map_region(composite, 0, half, h, half);
    return sample;
}

CityscapesPairs::CityscapesPairs(const std::string& dir, CityscapesPairsOptions options)
    : options_(std::move(options)),
      files_(selected(list_image_files(dir), options_.indices, dir)),
      class_names_(options_.palette.empty() ? cityscapes_class_names(options_.classes) : options_.class_names),
      mapper_(options_.palette.empty() ? cityscapes_label_palette(options_.classes, options_.ignore_index)
                                       : options_.palette,
              options_.max_color_distance, options_.ignore_index) {
    ENGINE_CHECK(!class_names_.empty(), "data: ", dir, ": a custom palette needs class_names");
    for (const PaletteEntry& e : mapper_.palette())
        ENGINE_CHECK(e.class_id == options_.ignore_index ||
                         (e.class_id >= 0 && e.class_id < static_cast<int64_t>(class_names_.size())),
                     "data: ", dir, ": palette class ", e.class_id, " outside [0, ", class_names_.size(), ")");
    ENGINE_CHECK(options_.ignore_index < 0 || options_.ignore_index >= static_cast<int64_t>(class_names_.size()),
                 "data: ", dir, ": ignore_index ", options_.ignore_index, " is one of the ", class_names_.size(),
                 " classes");
    // Every file is checked here, so that a bad one is named before training rather than at its batch: decoded
    // when preloading, its header read otherwise.
    if (options_.preload) {
        preloaded_.reserve(files_.size());
        for (const std::string& file : files_) preloaded_.push_back(read_composite(file));
    } else {
        for (const std::string& file : files_) check_composite(probe_image(read_file(file), file), file);
    }
}

Sample CityscapesPairs::get(int64_t index) const {
    ENGINE_CHECK(index >= 0 && index < size(), "CityscapesPairs: index ", index, " out of range for ", size(),
                 " samples");
    const std::string& path = files_[static_cast<size_t>(index)];
    if (!preloaded_.empty()) return split_cityscapes_pair(preloaded_[static_cast<size_t>(index)], mapper_, path);
    return split_cityscapes_pair(read_composite(path), mapper_, path);
}

}  // namespace engine::data
