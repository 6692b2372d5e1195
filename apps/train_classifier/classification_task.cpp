// Loss and validation metrics of train_classifier.
#include "apps/train_classifier/classification_task.h"

#include <cmath>
#include <sstream>

#include "apps/common/metrics.h"

namespace engine::apps {

namespace {

nn::CrossEntropyLossOptions ce_options(Reduction reduction) {
    nn::CrossEntropyLossOptions o;
    o.reduction(reduction);
    return o;
}

nn::BCEWithLogitsLossOptions bce_options(Reduction reduction) {
    nn::BCEWithLogitsLossOptions o;
    o.reduction(reduction);
    return o;
}

constexpr int64_t kEvalBatch = 500;
constexpr int64_t kMaxPrintedClasses = 20;

}  // namespace

ClassificationTask::ClassificationTask(const ClassificationData& data, models::Model& model, Device device,
                                       int64_t batch_size, uint64_t seed, int64_t workers)
    : data_(data),
      model_(model),
      device_(device),
      train_(data.make_train(batch_size, seed, workers)),
      val_(data.make_val(data.layout == "idx" ? kEvalBatch : batch_size, workers)),
      cross_entropy_(ce_options(Reduction::Mean)),
      cross_entropy_sum_(ce_options(Reduction::Sum)),
      bce_(bce_options(Reduction::Mean)),
      bce_sum_(bce_options(Reduction::Sum)) {}

Tensor ClassificationTask::loss(const data::Batch& batch) {
    const Tensor logits = model_(batch.images);
    return data_.multilabel ? bce_(logits, batch.targets) : cross_entropy_(logits, batch.targets);
}

Evaluation ClassificationTask::evaluate() {
    std::vector<Tensor> all_logits, all_targets;
    double loss_sum = 0;
    val_->start_epoch(0, 0);
    data::Batch batch;
    while (val_->next(batch)) {
        Tensor x = batch.images, y = batch.targets;
        if (!device_.is_cpu()) x = x.to(device_), y = y.to(device_);
        const Tensor logits = model_(x);
        loss_sum += (data_.multilabel ? bce_sum_(logits, y) : cross_entropy_sum_(logits, y)).item<double>();
        all_logits.push_back(logits.to(Device::cpu()));
        all_targets.push_back(batch.targets);
    }
    if (all_logits.empty()) return {};
    const Tensor logits = cat(all_logits, 0), targets = cat(all_targets, 0);
    return data_.multilabel ? evaluate_multi(logits, targets, loss_sum) : evaluate_single(logits, targets, loss_sum);
}

Evaluation ClassificationTask::evaluate_single(const Tensor& logits, const Tensor& targets, double loss_sum) const {
    ConfusionMatrix confusion(data_.num_classes);
    confusion.add(argmax(logits, 1), targets);
    Evaluation e;
    e.loss = loss_sum / static_cast<double>(targets.size(0));
    e.score = confusion.accuracy();
    std::vector<double> recall;
    for (int64_t c = 0; c < data_.num_classes; ++c)
        recall.push_back(confusion.target_count(c)
                             ? static_cast<double>(confusion.at(c, c)) / static_cast<double>(confusion.target_count(c))
                             : std::nan(""));
    e.metrics = {{"accuracy", json_number(confusion.accuracy())},
                 {"per_class_accuracy", json_numbers(recall)},
                 {"confusion", confusion.to_json(true).at("matrix")},
                 {"val_samples", confusion.total()}};
    e.summary = "accuracy " + percent(confusion.accuracy());
    if (data_.num_classes <= kMaxPrintedClasses) e.details = confusion.table(data_.class_names);
    return e;
}

Evaluation ClassificationTask::evaluate_multi(const Tensor& logits, const Tensor& targets, double loss_sum) const {
    const Tensor scores = sigmoid(logits);
    const std::vector<BinaryScores> tuned = tune_thresholds(scores, targets);
    std::vector<double> thresholds, half(static_cast<size_t>(data_.num_classes), 0.5);
    for (const BinaryScores& s : tuned) thresholds.push_back(s.threshold);
    const MultiLabelSummary at_tuned = summarize(scores, targets, thresholds);
    const MultiLabelSummary at_half = summarize(scores, targets, half);
    Evaluation e;
    e.loss = loss_sum / static_cast<double>(targets.numel());
    e.score = at_tuned.macro_f1;
    nlohmann::json per_class = nlohmann::json::object();
    std::ostringstream details;
    details << "  per class (F1 @ tuned threshold):";
    for (size_t c = 0; c < tuned.size(); ++c) {
        const BinaryScores& s = tuned[c];
        per_class[data_.class_names[c]] = {{"threshold", s.threshold},   {"f1", json_number(s.f1())},
                                           {"precision", json_number(s.precision())},
                                           {"recall", json_number(s.recall())},
                                           {"positives", s.tp + s.fn}};
        if (static_cast<int64_t>(c) < kMaxPrintedClasses)
            details << (c ? ", " : " ") << data_.class_names[c] << ' ' << fixed(s.f1(), 3) << " @" << fixed(s.threshold, 2);
    }
    details << '\n';
    e.metrics = {{"macro_f1", json_number(at_tuned.macro_f1)},
                 {"micro_f1", json_number(at_tuned.micro_f1)},
                 {"exact_match", json_number(at_tuned.exact_match)},
                 {"macro_f1_at_0.5", json_number(at_half.macro_f1)},
                 {"micro_f1_at_0.5", json_number(at_half.micro_f1)},
                 {"thresholds", thresholds},
                 {"per_class", per_class},
                 {"val_samples", targets.size(0)}};
    e.summary = "macro F1 " + fixed(at_tuned.macro_f1) + " (tuned thresholds; " + fixed(at_half.macro_f1) +
                " at 0.5), micro F1 " + fixed(at_tuned.micro_f1) + ", exact match " + percent(at_tuned.exact_match);
    e.details = details.str();
    return e;
}

}  // namespace engine::apps
