// Batch sources of the training apps.
#include "apps/common/batches.h"

#include "autograd/ops.h"

namespace engine::apps {

LoaderBatches::LoaderBatches(data::DatasetPtr dataset, data::DataLoaderOptions options, data::TransformPtr transform)
    : loader_(std::move(dataset), options, std::move(transform)) {}

void LoaderBatches::start_epoch(int64_t epoch, int64_t first_batch) {
    epoch_ = epoch;
    next_batch_ = first_batch;
    resumed_epoch_ = first_batch > 0;
    if (resumed_epoch_)
        order_ = loader_.epoch_order(epoch);
    else
        loader_.start_epoch(epoch);
}

bool LoaderBatches::next(data::Batch& batch) {
    if (!resumed_epoch_) return loader_.next(batch);
    if (next_batch_ >= loader_.batches_per_epoch()) return false;
    const int64_t size = loader_.options().batch_size, first = next_batch_ * size;
    const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order_.size()) - first);
    const std::vector<int64_t> indices(order_.begin() + first, order_.begin() + first + n);
    batch = loader_.make_batch(indices, epoch_, first);
    batch.index = next_batch_++;
    return true;
}

namespace {

// A dataset of N placeholder samples: DataLoader::epoch_order needs only the count.
class CountDataset final : public data::Dataset {
public:
    explicit CountDataset(int64_t n) : n_(n) {}
    int64_t size() const override { return n_; }
    data::Sample get(int64_t) const override { return {}; }
    std::string source(int64_t index) const override { return std::to_string(index); }
    data::TargetKind target_kind() const override { return data::TargetKind::Class; }
    const std::vector<std::string>& class_names() const override { return names_; }

private:
    int64_t n_;
    std::vector<std::string> names_;
};

}  // namespace

TensorBatches::TensorBatches(Tensor images, Tensor labels, data::DataLoaderOptions options, double mean, double std,
                             int64_t size)
    : images_(std::move(images)), labels_(std::move(labels)), options_(options), mean_(mean), std_(std), size_(size) {
    ENGINE_CHECK(images_.dim() == 3 && labels_.dim() == 1 && images_.size(0) == labels_.size(0),
                 "TensorBatches: images ", shape_str(images_.shape()), " and labels ", shape_str(labels_.shape()),
                 " do not match");
    data::DataLoaderOptions o = options;
    o.prefetch = 0;
    o.workers = 1;
    orders_ = std::make_unique<data::DataLoader>(std::make_shared<CountDataset>(images_.size(0)), o);
}

int64_t TensorBatches::batches_per_epoch() const { return orders_->batches_per_epoch(); }

void TensorBatches::start_epoch(int64_t epoch, int64_t first_batch) {
    order_ = orders_->epoch_order(epoch);
    next_batch_ = first_batch;
}

data::Batch TensorBatches::make(const std::vector<int64_t>& indices) const {
    const Tensor index = from_vector<int64_t>(indices, {static_cast<int64_t>(indices.size())});
    data::Batch batch;
    Tensor x = index_select(images_, 0, index).to(DType::Float32).unsqueeze(1);
    x = (x * (1.0 / 255.0) - mean_) * (1.0 / std_);
    if (size_ > 0 && (size_ != x.size(2) || size_ != x.size(3)))
        x = interpolate(x, size_, size_, InterpMode::Bilinear, false);
    batch.images = x;
    batch.targets = index_select(labels_, 0, index);
    batch.indices = indices;
    return batch;
}

bool TensorBatches::next(data::Batch& batch) {
    if (next_batch_ >= batches_per_epoch()) return false;
    const int64_t size = options_.batch_size, first = next_batch_ * size;
    const int64_t n = std::min<int64_t>(size, static_cast<int64_t>(order_.size()) - first);
    batch = make(std::vector<int64_t>(order_.begin() + first, order_.begin() + first + n));
    batch.index = next_batch_++;
    return true;
}

}  // namespace engine::apps
