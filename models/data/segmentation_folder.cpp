// SegmentationFolder: image/ + label/ folders of PNGs (indexed, binary or colour masks), and the ISBI preset.
#include <filesystem>

#include "models/data/datasets.h"
#include "models/data/detail.h"
#include "runtime/parallel.h"

namespace engine::data {
namespace {

namespace fs = std::filesystem;

std::string label_for(const std::string& image_path, const std::string& label_dir) {
    const fs::path image(image_path);
    std::error_code ec;
    const fs::path same = fs::path(label_dir) / image.filename();
    if (fs::is_regular_file(same, ec)) return same.string();
    const fs::path png = fs::path(label_dir) / (image.stem().string() + ".png");
    if (fs::is_regular_file(png, ec)) return png.string();
    throw Error("data: " + image_path + ": no label (looked for " + same.string() + ")");
}

// Indexed labels: gray values are class ids. A gray image saved as RGB (r = g = b) is accepted.
Tensor indexed_mask(const Image& label, const std::string& path, int64_t classes, int64_t ignore) {
    Tensor out = empty({label.height, label.width}, DType::Int64);
    int64_t* dst = out.data<int64_t>();
    const int64_t c = label.channels;
    for (int64_t i = 0; i < label.height * label.width; ++i) {
        const uint8_t* p = label.pixels.data() + i * c;
        if (c >= 3 && (p[0] != p[1] || p[1] != p[2]))
            throw Error("data: " + path + ": colour label (pixel " + std::to_string(i % label.width) + "," +
                        std::to_string(i / label.width) + " is " + std::to_string(p[0]) + "," + std::to_string(p[1]) +
                        "," + std::to_string(p[2]) + ") but the mask encoding is Indexed; use MaskEncoding::Color");
        const int64_t v = p[0];
        if (v != ignore && v >= classes)
            throw Error("data: " + path + ": class id " + std::to_string(v) + " at pixel " +
                        std::to_string(i % label.width) + "," + std::to_string(i / label.width) + " outside [0, " +
                        std::to_string(classes) + ") (ignore value " + std::to_string(ignore) + ")");
        dst[i] = v;
    }
    return out;
}

Tensor binary_mask(const Image& gray, bool invert) {
    Tensor out = empty({gray.height, gray.width}, DType::Int64);
    int64_t* dst = out.data<int64_t>();
    const int64_t dark = invert ? 1 : 0, bright = 1 - dark;
    for (int64_t i = 0; i < gray.height * gray.width; ++i)
        dst[i] = gray.pixels[static_cast<size_t>(i)] < 128 ? dark : bright;
    return out;
}

}  // namespace

SegmentationFolder::SegmentationFolder(const std::string& root, SegmentationFolderOptions options)
    : options_(std::move(options)) {
    SegmentationFolderOptions& o = options_;
    ENGINE_CHECK(o.channels == 1 || o.channels == 3, "data: ", root, ": channels must be 1 or 3, got ", o.channels);
    std::error_code ec;
    ENGINE_CHECK(fs::is_directory(root, ec), "data: ", root, ": no such folder");
    if (o.encoding == MaskEncoding::Binary && o.class_names.empty()) o.class_names = {"background", "foreground"};
    ENGINE_CHECK(!o.class_names.empty(), "data: ", root, ": class_names are required for indexed and colour masks");
    if (o.encoding == MaskEncoding::Binary)
        ENGINE_CHECK(o.class_names.size() == 2, "data: ", root, ": binary masks have 2 classes, got ",
                     o.class_names.size(), " class names");
    if (o.encoding == MaskEncoding::Indexed) {
        const auto classes = static_cast<int64_t>(o.class_names.size());
        ENGINE_CHECK(classes <= 256, "data: ", root, ": 8-bit indexed masks hold at most 256 classes, got ", classes);
        ENGINE_CHECK(o.ignore_index < 0 || o.ignore_index >= classes, "data: ", root, ": ignore_index ", o.ignore_index,
                     " is one of the ", classes, " classes");
    }
    if (o.encoding == MaskEncoding::Color) {
        ENGINE_CHECK(o.color_map != nullptr, "data: ", root, ": MaskEncoding::Color needs a color_map");
        o.ignore_index = o.color_map->ignore_index();
    }
    const std::string label_dir = (fs::path(root) / o.label_subdir).string();
    ENGINE_CHECK(fs::is_directory(label_dir, ec), "data: ", label_dir, ": no such folder");
    const std::vector<std::string> all = list_image_files((fs::path(root) / o.image_subdir).string());
    std::vector<int64_t> picked = o.indices;
    if (picked.empty())
        for (size_t i = 0; i < all.size(); ++i) picked.push_back(static_cast<int64_t>(i));
    for (int64_t i : picked) {
        ENGINE_CHECK(i >= 0 && i < static_cast<int64_t>(all.size()), "data: ", root, ": index ", i,
                     " out of range for ", all.size(), " images");
        images_.push_back(all[static_cast<size_t>(i)]);
        labels_.push_back(label_for(images_.back(), label_dir));
    }
    if (o.preload) {
        preloaded_.resize(images_.size());
        parallel_for(0, static_cast<int64_t>(images_.size()), 1, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) preloaded_[static_cast<size_t>(i)] = load(static_cast<size_t>(i));
        });
    }
}

int64_t SegmentationFolder::ignore_index() const {
    return options_.encoding == MaskEncoding::Binary ? -1 : options_.ignore_index;
}

Sample SegmentationFolder::load(size_t i) const {
    const std::string& image_path = images_[i];
    const std::string& label_path = labels_[i];
    Sample sample;
    sample.image = image_to_tensor(read_image(image_path, options_.channels));
    const std::string bytes = read_file(label_path);
    const ImageInfo info = probe_image(bytes, label_path);
    ENGINE_CHECK(!info.is_16bit, "data: ", label_path, ": 16-bit label; labels must be 8-bit");
    ENGINE_CHECK(info.height == sample.image.size(1) && info.width == sample.image.size(2), "data: ", label_path,
                 ": label is ", info.height, "x", info.width, " but its image ", image_path, " is ",
                 sample.image.size(1), "x", sample.image.size(2));
    switch (options_.encoding) {
        case MaskEncoding::Indexed:
            sample.target = indexed_mask(decode_image(bytes, label_path, 0), label_path,
                                         static_cast<int64_t>(options_.class_names.size()), options_.ignore_index);
            break;
        case MaskEncoding::Binary:
            sample.target = binary_mask(decode_image(bytes, label_path, 1), options_.invert_binary);
            break;
        case MaskEncoding::Color: {
            const Tensor mask = options_.color_map->map_image(decode_image(bytes, label_path, 3));
            const int64_t* v = mask.data<int64_t>();
            const auto classes = static_cast<int64_t>(options_.class_names.size());
            for (int64_t k = 0; k < mask.numel(); ++k)
                ENGINE_CHECK(v[k] == options_.ignore_index || (v[k] >= 0 && v[k] < classes), "data: ", label_path,
                             ": the colour map gives class ", v[k], " outside [0, ", classes, ")");
            sample.target = mask;
            break;
        }
    }
    return sample;
}

Sample SegmentationFolder::get(int64_t index) const {
    ENGINE_CHECK(index >= 0 && index < size(), "SegmentationFolder: index ", index, " out of range for ", size(),
                 " samples");
    if (preloaded_.empty()) return load(static_cast<size_t>(index));
    const Sample& s = preloaded_[static_cast<size_t>(index)];
    return {detail::copy_of(s.image), detail::copy_of(s.target)};
}

std::shared_ptr<SegmentationFolder> isbi_membranes(const std::string& root, const std::vector<int64_t>& slices,
                                                   bool preload) {
    SegmentationFolderOptions options;
    options.channels = 1;
    options.encoding = MaskEncoding::Binary;
    options.invert_binary = true;  // dark (0) = membrane = class 1
    options.class_names = {"cell", "membrane"};
    options.indices = slices;
    options.preload = preload;
    return std::make_shared<SegmentationFolder>(root, options);
}

}  // namespace engine::data
