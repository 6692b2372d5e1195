// train_classifier's half of the training loop: cross-entropy (or BCE-with-logits for multi-label data), and
// validation: accuracy and the confusion matrix, or per-class F1 with thresholds tuned on the validation set.
#pragma once

#include <memory>

#include "apps/common/trainer.h"
#include "apps/train_classifier/classification_data.h"
#include "layers/loss.h"

namespace engine::apps {

class ClassificationTask : public TrainingTask {
public:
    ClassificationTask(const ClassificationData& data, models::Model& model, Device device, int64_t batch_size,
                       uint64_t seed, int64_t workers);

    int64_t batches_per_epoch() const override { return train_->batches_per_epoch(); }
    void start_epoch(int64_t epoch, int64_t first_batch) override { train_->start_epoch(epoch, first_batch); }
    bool next_batch(data::Batch& batch) override { return train_->next(batch); }
    Tensor loss(const data::Batch& batch) override;
    Evaluation evaluate() override;

private:
    Evaluation evaluate_single(const Tensor& logits, const Tensor& targets, double loss_sum) const;
    Evaluation evaluate_multi(const Tensor& logits, const Tensor& targets, double loss_sum) const;

    const ClassificationData& data_;
    models::Model& model_;
    Device device_;
    std::unique_ptr<BatchSource> train_, val_;
    nn::CrossEntropyLoss cross_entropy_, cross_entropy_sum_;
    nn::BCEWithLogitsLoss bce_, bce_sum_;
};

}  // namespace engine::apps
