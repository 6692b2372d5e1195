// Layout detection and dataset construction for train_classifier.
#include "apps/train_classifier/classification_data.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "apps/common/app_main.h"
#include "models/data/transforms.h"

namespace engine::apps {

namespace fs = std::filesystem;

namespace {

constexpr double kFashionMean = 0.2860, kFashionStd = 0.3530;
constexpr double kMnistMean = 0.1307, kMnistStd = 0.3081;

data::DataLoaderOptions loader_options(int64_t batch, bool shuffle, uint64_t seed, int64_t workers) {
    data::DataLoaderOptions o;
    o.batch_size = batch;
    o.shuffle = shuffle;
    o.seed = seed;
    o.workers = std::max<int64_t>(workers, 1);
    o.prefetch = workers > 0 ? 2 : 0;  // 0: batches are built on the training thread
    return o;
}

bool has_idx(const fs::path& dir) {
    std::error_code ec;
    return fs::exists(dir / "train-images-idx3-ubyte.gz", ec) || fs::exists(dir / "train-images-idx3-ubyte", ec);
}

std::vector<int64_t> first_n(int64_t n) {
    std::vector<int64_t> out(static_cast<size_t>(n));
    std::iota(out.begin(), out.end(), 0);
    return out;
}

data::DatasetPtr limited(data::DatasetPtr set, int64_t limit) {
    if (limit <= 0 || limit >= set->size()) return set;
    return data::subset(set, first_n(limit));
}

// The last `fraction` of the samples (at least one) for validation, the rest for training.
std::pair<data::DatasetPtr, data::DatasetPtr> split(const data::DatasetPtr& all, double fraction,
                                                    const std::string& source) {
    const int64_t n = all->size();
    const int64_t n_val = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(n) * fraction));
    ENGINE_CHECK(n - n_val >= 1, "data: ", source, ": ", n, " sample(s) cannot be split into training and validation");
    std::vector<int64_t> train = first_n(n - n_val), val;
    for (int64_t i = n - n_val; i < n; ++i) val.push_back(i);
    return {data::subset(all, train), data::subset(all, val)};
}

ClassificationData idx(const ClassificationDataOptions& o) {
    ClassificationData d;
    d.layout = "idx";
    const bool fashion = fs::path(o.dir).lexically_normal().string().find("fashion") != std::string::npos;
    auto train = fashion ? data::fashion_mnist(o.dir, true) : data::mnist(o.dir, true);
    auto test = fashion ? data::fashion_mnist(o.dir, false) : data::mnist(o.dir, false);
    d.train_images = train->images();
    d.train_labels = train->labels();
    d.val_images = test->images();
    d.val_labels = test->labels();
    if (o.limit > 0 && o.limit < d.train_images.size(0)) {
        d.train_images = d.train_images.narrow(0, 0, o.limit);
        d.train_labels = d.train_labels.narrow(0, 0, o.limit);
    }
    if (o.val_limit > 0 && o.val_limit < d.val_images.size(0)) {
        d.val_images = d.val_images.narrow(0, 0, o.val_limit);
        d.val_labels = d.val_labels.narrow(0, 0, o.val_limit);
    }
    if (o.channels > 1) throw UsageError("IDX images are gray: the model needs 1 input channel");
    d.in_channels = 1;
    d.mean = fashion ? kFashionMean : kMnistMean;
    d.std = fashion ? kFashionStd : kMnistStd;
    d.normalize_mean = {d.mean};
    d.normalize_std = {d.std};
    d.size = o.size;
    d.class_names = train->class_names();
    d.num_classes = train->num_classes();
    d.train_size = d.train_images.size(0);
    d.val_size = d.val_images.size(0);
    d.describe = {{"layout", d.layout}, {"dir", o.dir}, {"train", d.train_size},
                  {"validation", "the test split (t10k)"}, {"val", d.val_size}, {"classes", d.class_names},
                  {"normalize", {d.mean, d.std}}, {"size", o.size}};
    return d;
}

void add_image_transforms(ClassificationData& d, const ClassificationDataOptions& o) {
    d.in_channels = o.channels;
    const std::vector<double> mean = o.channels == 3 ? std::vector<double>{0.485, 0.456, 0.406}
                                                     : std::vector<double>{0.5};
    const std::vector<double> std = o.channels == 3 ? std::vector<double>{0.229, 0.224, 0.225}
                                                    : std::vector<double>{0.5};
    d.normalize_mean = mean;
    d.normalize_std = std;
    d.train_transform = data::transforms::compose({data::transforms::resize(o.size, o.size),
                                                   data::transforms::horizontal_flip(0.5),
                                                   data::transforms::normalize(mean, std)});
    d.val_transform = data::transforms::compose(
        {data::transforms::resize(o.size, o.size), data::transforms::normalize(mean, std)});
    d.describe["size"] = o.size;
    d.describe["channels"] = o.channels;
    d.describe["augmentation"] = "resize, horizontal flip";
}

ClassificationData folders(const ClassificationDataOptions& o) {
    ClassificationData d;
    d.layout = "image-folder";
    const fs::path root(o.dir);
    std::error_code ec;
    data::DatasetPtr train, val;
    std::string validation;
    if (fs::is_directory(root / "train", ec)) {
        train = data::image_folder((root / "train").string(), o.channels);
        for (const char* name : {"val", "test"})
            if (!val && fs::is_directory(root / name, ec)) {
                val = data::image_folder((root / name).string(), o.channels);
                validation = std::string(name) + "/";
            }
        ENGINE_CHECK(!val || val->class_names() == train->class_names(), "data: ", o.dir, ": the class folders of ",
                     validation, " differ from those of train/");
        if (!val) {
            std::tie(train, val) = split(train, o.val_fraction, o.dir + "/train");
            validation = "the last part of train/";
        }
    } else {
        std::tie(train, val) = split(data::image_folder(o.dir, o.channels), o.val_fraction, o.dir);
        validation = "the last part of each listing";
    }
    d.class_names = train->class_names();
    d.num_classes = train->num_classes();
    d.train = limited(train, o.limit);
    d.val = limited(val, o.val_limit);
    d.train_size = d.train->size();
    d.val_size = d.val->size();
    d.describe = {{"layout", d.layout}, {"dir", o.dir},     {"train", d.train_size},
                  {"validation", validation}, {"val", d.val_size}, {"classes", d.class_names}};
    add_image_transforms(d, o);
    return d;
}

ClassificationData csv(const ClassificationDataOptions& o) {
    ClassificationData d;
    d.layout = "multilabel-csv";
    d.multilabel = true;
    std::error_code ec;
    ENGINE_CHECK(fs::is_regular_file(o.dir, ec), "data: ", o.dir, ": --multilabel needs --data to be a CSV file");
    data::MultiLabelCsvOptions options;
    options.channels = o.channels;
    data::DatasetPtr train = data::multilabel_csv(o.dir, options), val;
    std::string validation;
    if (!o.val_data.empty()) {
        options.class_names = train->class_names();  // the same class ids; unknown labels are errors
        val = data::multilabel_csv(o.val_data, options);
        validation = o.val_data;
    } else {
        std::tie(train, val) = split(train, o.val_fraction, o.dir);
        validation = "the last part of the CSV";
    }
    d.class_names = train->class_names();
    d.num_classes = train->num_classes();
    ENGINE_CHECK(d.num_classes > 0, "data: ", o.dir, ": no labels in the CSV");
    d.train = limited(train, o.limit);
    d.val = limited(val, o.val_limit);
    d.train_size = d.train->size();
    d.val_size = d.val->size();
    d.describe = {{"layout", d.layout}, {"csv", o.dir},     {"train", d.train_size},
                  {"validation", validation}, {"val", d.val_size}, {"classes", d.class_names}};
    add_image_transforms(d, o);
    return d;
}

}  // namespace

std::unique_ptr<BatchSource> ClassificationData::make_train(int64_t batch, uint64_t seed, int64_t workers) const {
    if (layout == "idx")
        return std::make_unique<TensorBatches>(train_images, train_labels, loader_options(batch, true, seed, 0), mean,
                                               std, size);
    return std::make_unique<LoaderBatches>(train, loader_options(batch, true, seed, workers), train_transform);
}

std::unique_ptr<BatchSource> ClassificationData::make_val(int64_t batch, int64_t workers) const {
    if (layout == "idx")
        return std::make_unique<TensorBatches>(val_images, val_labels, loader_options(batch, false, 0, 0), mean, std,
                                               size);
    return std::make_unique<LoaderBatches>(val, loader_options(batch, false, 0, workers), val_transform);
}

ClassificationData load_classification_data(const ClassificationDataOptions& options) {
    ClassificationDataOptions o = options;
    std::error_code ec;
    ENGINE_CHECK(fs::exists(o.dir, ec), "data: ", o.dir, ": no such file or folder");
    if (o.multilabel) {
        if (o.channels == 0) o.channels = 3;
        return csv(o);
    }
    ENGINE_CHECK(fs::is_directory(o.dir, ec), "data: ", o.dir,
                 ": expected a folder (IDX files or one sub-folder per class); a CSV needs --multilabel");
    if (has_idx(o.dir)) return idx(o);
    if (o.channels == 0) o.channels = 3;
    return folders(o);
}

}  // namespace engine::apps
