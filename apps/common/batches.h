// Where the training apps get their batches: a DataLoader that can also start an epoch in the middle (resume),
// and a fast path for data held as one uint8 tensor (IDX files), batched with index_select on the training
// thread. Both give the same sample order for the same (seed, epoch).
#pragma once

#include <memory>
#include <vector>

#include "models/data/loader.h"

namespace engine::apps {

class BatchSource {
public:
    virtual ~BatchSource() = default;
    virtual int64_t batches_per_epoch() const = 0;
    // Begins epoch `epoch` at batch `first_batch` (non-zero when a run resumes mid-epoch).
    virtual void start_epoch(int64_t epoch, int64_t first_batch) = 0;
    virtual bool next(data::Batch& batch) = 0;
};

// A DataLoader; an epoch resumed in the middle builds its remaining batches on the calling thread, exactly as
// the loader would have built them.
class LoaderBatches : public BatchSource {
public:
    LoaderBatches(data::DatasetPtr dataset, data::DataLoaderOptions options, data::TransformPtr transform);
    int64_t batches_per_epoch() const override { return loader_.batches_per_epoch(); }
    void start_epoch(int64_t epoch, int64_t first_batch) override;
    bool next(data::Batch& batch) override;

private:
    data::DataLoader loader_;
    int64_t epoch_ = 0, next_batch_ = 0;
    bool resumed_epoch_ = false;
    std::vector<int64_t> order_;
};

// uint8 images (N,H,W) and int64 labels (N) in memory: a batch is index_select + scaling to [0, 1] +
// normalisation (+ a bilinear resize to `size` when it differs), with no per-sample work.
class TensorBatches : public BatchSource {
public:
    // Shuffles as a DataLoader with these options would (seed, epoch); size 0 keeps the images' size.
    TensorBatches(Tensor images, Tensor labels, data::DataLoaderOptions options, double mean, double std,
                  int64_t size = 0);
    int64_t batches_per_epoch() const override;
    void start_epoch(int64_t epoch, int64_t first_batch) override;
    bool next(data::Batch& batch) override;
    // The batch of the samples at `indices` (no shuffling), e.g. for evaluation.
    data::Batch make(const std::vector<int64_t>& indices) const;

private:
    Tensor images_, labels_;
    data::DataLoaderOptions options_;
    double mean_, std_;
    int64_t size_;
    std::unique_ptr<data::DataLoader> orders_;  // only for its epoch_order (no threads)
    std::vector<int64_t> order_;
    int64_t next_batch_ = 0;
};

}  // namespace engine::apps
