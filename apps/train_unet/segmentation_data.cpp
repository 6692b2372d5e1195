// Layout detection and dataset construction for train_unet.
#include "apps/train_unet/segmentation_data.h"

#include <filesystem>

#include "apps/common/app_main.h"
#include "models/data/image.h"

namespace engine::apps {

namespace fs = std::filesystem;

namespace {

bool has_images(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file() && data::is_image_file(entry.path().filename().string())) return true;
    return false;
}

std::vector<int64_t> indices_or(const std::string& spec, int64_t size, const char* flag,
                                std::vector<int64_t> fallback) {
    if (spec.empty()) return fallback;
    try {
        return data::parse_index_ranges(spec, size);
    } catch (const Error& e) {
        throw UsageError(std::string(flag) + ": " + e.what());
    }
}

std::vector<int64_t> range(int64_t lo, int64_t hi) {
    std::vector<int64_t> out;
    for (int64_t i = lo; i < hi; ++i) out.push_back(i);
    return out;
}

data::CityscapesClasses cityscapes_classes(int64_t classes) {
    switch (classes) {
        case 0:
        case 8: return data::CityscapesClasses::Categories;
        case 7: return data::CityscapesClasses::CategoriesNoVoid;
        case 19: return data::CityscapesClasses::TrainIds;
        default:
            throw UsageError(detail::concat("--classes ", classes,
                                            ": Cityscapes pairs train with 8 (categories with void), 7 (categories "
                                            "without void) or 19 (the benchmark's training classes)"));
    }
}

SegmentationData cityscapes(const SegmentationDataOptions& o) {
    SegmentationData d;
    d.layout = "cityscapes-pairs";
    const data::CityscapesClasses classes = cityscapes_classes(o.classes);
    const std::string train_dir = o.dir + "/train", val_dir = o.dir + "/val";
    const std::vector<std::string> train_files = data::list_image_files(train_dir);
    const std::vector<std::string> val_files = data::list_image_files(val_dir);
    data::CityscapesPairsOptions train_options;
    train_options.classes = classes;
    train_options.indices = indices_or(o.train_range, static_cast<int64_t>(train_files.size()), "--train-range", {});
    data::CityscapesPairsOptions val_options = train_options;
    val_options.indices = indices_or(o.val_range, static_cast<int64_t>(val_files.size()), "--val-range", {});
    auto train = std::make_shared<data::CityscapesPairs>(train_dir, train_options);
    auto val = std::make_shared<data::CityscapesPairs>(val_dir, val_options);  // both check every file's header

    d.in_channels = 3;
    d.class_names = train->class_names();
    d.num_classes = train->num_classes();
    d.ignore_index = train->ignore_index();
    d.colors = data::cityscapes_class_colors(classes);
    d.mean = {0.485, 0.456, 0.406};
    d.std = {0.229, 0.224, 0.225};
    d.repeat = std::max<int64_t>(o.repeat, 1);
    const int64_t side = data::kCityscapesPairHeight;
    data::TransformPtr resize = o.size == side ? nullptr : data::transforms::resize(o.size, o.size);
    d.train_transform = data::transforms::compose(
        {resize, data::transforms::horizontal_flip(0.5), data::transforms::normalize(d.mean, d.std)});
    d.val_transform = data::transforms::compose({resize, data::transforms::normalize(d.mean, d.std)});
    std::vector<int64_t> repeated;
    for (int64_t r = 0; r < d.repeat; ++r)
        for (int64_t i = 0; i < train->size(); ++i) repeated.push_back(i);
    d.train = d.repeat == 1 ? data::DatasetPtr(train) : data::subset(train, repeated);
    d.val = val;
    d.describe = {{"layout", d.layout},     {"dir", o.dir},
                  {"train_files", train->size()}, {"val_files", val->size()},
                  {"classes", d.class_names},    {"ignore_index", d.ignore_index},
                  {"size", o.size},              {"repeat", d.repeat},
                  {"augmentation", "horizontal flip"}};
    return d;
}

// Every file's header, before the first step: a training image smaller than the crop or a validation image
// smaller than the validation size would otherwise fail in the middle of an epoch, without its name.
void check_image_sizes(const std::vector<std::string>& images, const std::vector<int64_t>& train_idx,
                       const std::vector<int64_t>& val_idx, int64_t crop, int64_t val_h, int64_t val_w) {
    auto info_of = [&](int64_t i) {
        const std::string& path = images[static_cast<size_t>(i)];
        return data::probe_image(data::read_file(path), path);
    };
    for (int64_t i : train_idx) {
        const data::ImageInfo info = info_of(i);
        ENGINE_CHECK(info.height >= crop && info.width >= crop, "data: ", images[static_cast<size_t>(i)], ": ",
                     info.width, "x", info.height, " is smaller than the training crop --size ", crop);
    }
    for (int64_t i : val_idx) {
        const data::ImageInfo info = info_of(i);
        ENGINE_CHECK(info.height >= val_h && info.width >= val_w, "data: ", images[static_cast<size_t>(i)], ": ",
                     info.width, "x", info.height, " is smaller than the validation size ", val_w, "x", val_h,
                     " (the first image's, in multiples of 16): give validation images at least that size");
    }
}

SegmentationData image_label_folder(const SegmentationDataOptions& o) {
    SegmentationData d;
    d.layout = "image-label-folder";
    const std::vector<std::string> images = data::list_image_files(o.dir + "/image");
    const int64_t n = static_cast<int64_t>(images.size());
    const int64_t n_val = std::max<int64_t>(1, n / 6);
    ENGINE_CHECK(n >= 2 || !o.val_range.empty(), "data: ", o.dir, "/image: ", n,
                 " image(s); training and validation need at least 2");
    const std::vector<int64_t> train_idx = indices_or(o.train_range, n, "--train-range", range(0, n - n_val));
    const std::vector<int64_t> val_idx = indices_or(o.val_range, n, "--val-range", range(n - n_val, n));
    const data::ImageInfo first = data::probe_image(data::read_file(images.front()), images.front());
    d.in_channels = first.channels >= 3 ? 3 : 1;
    d.num_classes = o.classes == 0 ? 2 : o.classes;
    if (d.num_classes < 2) throw UsageError(detail::concat("--classes ", o.classes, ": at least 2 classes"));
    if (o.size % 16 != 0 || o.size <= 0)
        throw UsageError(detail::concat("--size ", o.size, ": the UNet needs a positive multiple of 16"));
    if (o.size > first.height || o.size > first.width)
        throw UsageError(detail::concat("--size ", o.size, ": larger than the images (", first.width, "x",
                                        first.height, " in ", images.front(), ")"));

    // Validation sees whole images, cropped (centred) to the first image's size in multiples of 16.
    const int64_t vh = first.height / 16 * 16, vw = first.width / 16 * 16;
    check_image_sizes(images, train_idx, val_idx, o.size, vh, vw);

    data::SegmentationFolderOptions options;
    options.channels = d.in_channels;
    // Decoding once at the start keeps every epoch cheap; beyond ~1 GB of decoded samples, decode per batch.
    const double sample_bytes = static_cast<double>(first.height * first.width) * (4.0 * d.in_channels + 8.0);
    options.preload = sample_bytes * static_cast<double>(n) < 1e9;
    if (d.num_classes == 2) {
        // Binary masks as the ISBI 2012 labels: dark (membrane) is class 1, bright (cell interior) class 0.
        options.encoding = data::MaskEncoding::Binary;
        options.invert_binary = true;
        options.class_names = {"cell", "membrane"};
        d.colors = {{255, 255, 255}, {0, 0, 0}};  // as the label files draw them
        d.ignore_color = {255, 0, 255};
    } else {
        options.encoding = data::MaskEncoding::Indexed;
        for (int64_t c = 0; c < d.num_classes; ++c) options.class_names.push_back(std::to_string(c));
        d.colors = data::voc_colors(d.num_classes);
    }
    auto all = std::make_shared<data::SegmentationFolder>(o.dir, options);
    d.class_names = all->class_names();
    d.ignore_index = all->ignore_index();
    d.mean = std::vector<double>(static_cast<size_t>(d.in_channels), 0.5);
    d.std = std::vector<double>(static_cast<size_t>(d.in_channels), 0.2);
    const int64_t crops = (first.height / o.size) * (first.width / o.size);
    d.repeat = o.repeat > 0 ? o.repeat : std::max<int64_t>(1, crops);
    std::vector<int64_t> repeated;
    for (int64_t r = 0; r < d.repeat; ++r) repeated.insert(repeated.end(), train_idx.begin(), train_idx.end());
    d.train = data::subset(all, repeated);
    d.val = data::subset(all, val_idx);
    d.train_transform = data::transforms::compose(
        {data::transforms::random_crop(o.size, o.size), data::transforms::horizontal_flip(0.5),
         data::transforms::vertical_flip(0.5), data::transforms::normalize(d.mean, d.std)});
    d.val_transform = data::transforms::compose(
        {vh == first.height && vw == first.width ? nullptr : data::transforms::center_crop(vh, vw),
         data::transforms::normalize(d.mean, d.std)});
    d.describe = {{"layout", d.layout},
                  {"dir", o.dir},
                  {"train_indices", train_idx},
                  {"val_indices", val_idx},
                  {"image_size", {first.height, first.width}},
                  {"channels", d.in_channels},
                  {"classes", d.class_names},
                  {"crop", o.size},
                  {"repeat", d.repeat},
                  {"val_size", {vh, vw}},
                  {"augmentation", "random crop, horizontal and vertical flips"}};
    return d;
}

}  // namespace

SegmentationData load_segmentation_data(const SegmentationDataOptions& o) {
    std::error_code ec;
    ENGINE_CHECK(fs::is_directory(o.dir, ec), "data: ", o.dir, ": no such folder");
    if (o.size <= 0 || o.size % 16 != 0)
        throw UsageError(detail::concat("--size ", o.size, ": the UNet needs a positive multiple of 16"));
    if (has_images(fs::path(o.dir) / "train") || has_images(fs::path(o.dir) / "val")) return cityscapes(o);
    if (fs::is_directory(fs::path(o.dir) / "image", ec) || fs::is_directory(fs::path(o.dir) / "label", ec))
        return image_label_folder(o);
    throw Error(detail::concat("data: ", o.dir,
                               ": found neither Cityscapes pairs (train/ and val/ with 512x256 JPEGs) nor a "
                               "segmentation folder (image/ and label/)"));
}

}  // namespace engine::apps
