// DataLoader: batches of transformed samples, shuffled per epoch from a seed, optionally prepared ahead by
// background threads. The batches are a pure function of (dataset, transform, options, epoch): prefetching
// and the number of threads change only when they are ready, never what they hold.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/data/dataset.h"
#include "models/data/transforms.h"

namespace engine::data {

struct Batch {
    Tensor images;                 // float32 (N,C,H,W)
    Tensor targets;                // int64 (N) | int64 (N,H,W) | float32 (N,K), see TargetKind
    std::vector<int64_t> indices;  // the dataset index of each sample, in batch order
    int64_t index = 0;             // the batch's number within its epoch
    int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

struct DataLoaderOptions {
    int64_t batch_size = 1;
    bool shuffle = false;    // a new permutation every epoch, from (seed, epoch)
    bool drop_last = false;  // drop the last batch when it is smaller than batch_size
    uint64_t seed = 0;       // shuffling and the transforms' Rng streams
    // Batches prepared ahead of the consumer (a bounded queue); 0 builds each batch inside next() on the
    // calling thread, with no background thread at all.
    int64_t prefetch = 2;
    // Background threads when prefetch > 0. They never open OpenMP teams (decoding and transforms run
    // serially per sample), so on a small machine one thread beside the training thread is usually right.
    int64_t workers = 1;
};

// Usage:
//   DataLoader loader(dataset, options, transforms::compose({...}));
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//       loader.start_epoch(epoch);
//       Batch batch;
//       while (loader.next(batch)) { ... batch.images, batch.targets ... }
//   }
// One consumer thread only. An exception while building a batch (a corrupt file: the dataset's message names
// it) is rethrown by next() at that batch; the epoch then ends (next() returns false until start_epoch).
// The destructor stops the threads, waiting at most for the batches they are building.
class DataLoader {
public:
    DataLoader(DatasetPtr dataset, DataLoaderOptions options = {}, TransformPtr transform = nullptr);
    ~DataLoader();
    // Its threads point at it: neither copyable nor movable (hold it in a std::unique_ptr to pass it around).
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;
    DataLoader(DataLoader&&) = delete;
    DataLoader& operator=(DataLoader&&) = delete;

    int64_t batches_per_epoch() const;
    // Begins epoch `epoch` (any number; the same number gives the same batches), abandoning the current one.
    void start_epoch(int64_t epoch);
    // The next batch of the current epoch; false at its end (or before the first start_epoch).
    bool next(Batch& batch);

    // The sample order of an epoch (identity without shuffle).
    std::vector<int64_t> epoch_order(int64_t epoch) const;
    // Builds a batch on the calling thread: samples indices[k] with the Rng stream (epoch, first_position + k),
    // exactly as next() would at those positions. Shapes within a batch must agree (an error names two samples).
    Batch make_batch(const std::vector<int64_t>& indices, int64_t epoch, int64_t first_position = 0) const;

    const Dataset& dataset() const { return *dataset_; }
    const DataLoaderOptions& options() const { return options_; }

private:
    struct Queue;
    void worker_loop();
    DatasetPtr dataset_;
    DataLoaderOptions options_;
    TransformPtr transform_;
    std::unique_ptr<Queue> queue_;
};

// Stacks samples into a batch (images to (N,C,H,W), targets to (N,...)); `sources` name them in errors.
Batch collate(const std::vector<Sample>& samples, const std::vector<std::string>& sources);

}  // namespace engine::data
