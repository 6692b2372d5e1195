// IdxDataset: MNIST-format image and label files as a classification dataset.
#include <filesystem>

#include "models/data/datasets.h"
#include "runtime/idx.h"

namespace engine::data {
namespace {

std::vector<std::string> digit_names() {
    std::vector<std::string> names;
    for (int d = 0; d < 10; ++d) names.push_back(std::to_string(d));
    return names;
}

// DIR/STEM.gz when present, else DIR/STEM (idx::read_bytes names whichever is missing).
std::string idx_file(const std::string& dir, const std::string& stem) {
    std::error_code ec;
    ENGINE_CHECK(std::filesystem::is_directory(dir, ec), "data: ", dir, ": no such folder");
    const std::string gz = dir + "/" + stem + ".gz";
    return std::filesystem::exists(gz, ec) ? gz : dir + "/" + stem;
}

}  // namespace

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path,
                       std::vector<std::string> class_names)
    : images_path_(images_path), class_names_(class_names.empty() ? digit_names() : std::move(class_names)) {
    images_ = idx::read_images(images_path);
    labels_ = idx::read_labels(labels_path);
    ENGINE_CHECK(images_.size(0) == labels_.size(0), "data: ", images_path, " holds ", images_.size(0), " images but ",
                 labels_path, " holds ", labels_.size(0), " labels");
    const int64_t* labels = labels_.data<int64_t>();
    const int64_t classes = static_cast<int64_t>(class_names_.size());
    for (int64_t i = 0; i < labels_.size(0); ++i)
        ENGINE_CHECK(labels[i] >= 0 && labels[i] < classes, "data: ", labels_path, ": label ", labels[i], " at ", i,
                     " outside the class range [0, ", classes, ")");
}

Sample IdxDataset::get(int64_t index) const {
    ENGINE_CHECK(index >= 0 && index < size(), "IdxDataset: index ", index, " out of range for ", size(), " samples");
    const int64_t h = images_.size(1), w = images_.size(2);
    Sample sample;
    sample.image = empty({1, h, w}, DType::Float32);
    const uint8_t* src = images_.data<uint8_t>() + index * h * w;
    float* dst = sample.image.data<float>();
    for (int64_t i = 0; i < h * w; ++i) dst[i] = static_cast<float>(src[i]) * (1.0f / 255.0f);
    sample.target = empty({}, DType::Int64);
    *sample.target.data<int64_t>() = labels_.data<int64_t>()[index];
    return sample;
}

std::string IdxDataset::source(int64_t index) const { return images_path_ + "[" + std::to_string(index) + "]"; }

const std::vector<std::string>& fashion_mnist_classes() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

std::shared_ptr<IdxDataset> fashion_mnist(const std::string& dir, bool train) {
    const std::string split = train ? "train" : "t10k";
    return std::make_shared<IdxDataset>(idx_file(dir, split + "-images-idx3-ubyte"),
                                        idx_file(dir, split + "-labels-idx1-ubyte"), fashion_mnist_classes());
}

std::shared_ptr<IdxDataset> mnist(const std::string& dir, bool train) {
    const std::string split = train ? "train" : "t10k";
    return std::make_shared<IdxDataset>(idx_file(dir, split + "-images-idx3-ubyte"),
                                        idx_file(dir, split + "-labels-idx1-ubyte"), digit_names());
}

}  // namespace engine::data
