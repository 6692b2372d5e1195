// train_unet's half of the training loop: the cross-entropy loss with the data's ignore index, validation
// (pixel accuracy, per-class IoU and Dice, their means) and the validation grid (image | label | prediction).
#pragma once

#include <memory>

#include "apps/common/batches.h"
#include "apps/common/trainer.h"
#include "apps/train_unet/segmentation_data.h"
#include "layers/loss.h"

namespace engine::apps {

class SegmentationTask : public TrainingTask {
public:
    SegmentationTask(const SegmentationData& data, models::Model& model, Device device, int64_t batch_size,
                     uint64_t seed, int64_t workers, int64_t grid_rows);

    int64_t batches_per_epoch() const override { return train_.batches_per_epoch(); }
    void start_epoch(int64_t epoch, int64_t first_batch) override { train_.start_epoch(epoch, first_batch); }
    bool next_batch(data::Batch& batch) override { return train_.next(batch); }
    Tensor loss(const data::Batch& batch) override;
    Evaluation evaluate() override;
    void write_pictures(const std::string& out_dir) override;

private:
    const SegmentationData& data_;
    models::Model& model_;
    Device device_;
    LoaderBatches train_;
    std::unique_ptr<data::DataLoader> val_;
    nn::CrossEntropyLoss loss_, loss_sum_;
    int64_t grid_rows_;
    struct GridRow {
        Tensor image, label, prediction;  // CPU: (C,H,W) normalised, (H,W), (H,W)
    };
    std::vector<GridRow> grid_;
};

}  // namespace engine::apps
