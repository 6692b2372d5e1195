// Evaluation metrics of the training apps: a confusion matrix with an ignore index (accuracy, pixel accuracy,
// per-class IoU and Dice, their means over the classes present) and multi-label F1 with per-class thresholds.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine::apps {

class ConfusionMatrix {
public:
    explicit ConfusionMatrix(int64_t num_classes, int64_t ignore_index = -100);

    // Integer tensors of the same number of elements (any shapes, any device); targets equal to the ignore index
    // are skipped. A target or prediction outside [0, num_classes) is an error naming the value.
    void add(const Tensor& predicted, const Tensor& target);
    void add(int64_t predicted, int64_t target);
    void reset();

    int64_t num_classes() const { return n_; }
    // Samples (pixels) of true class t predicted as p.
    int64_t at(int64_t t, int64_t p) const { return counts_[static_cast<size_t>(t * n_ + p)]; }
    int64_t total() const;
    int64_t target_count(int64_t c) const;
    int64_t predicted_count(int64_t c) const;

    // Correct / total (classification accuracy, or pixel accuracy for segmentation); NaN when empty.
    double accuracy() const;
    // A class's IoU (Jaccard) and Dice (F1) are NaN when the class appears neither in the targets nor in the
    // predictions: such a class says nothing about the model.
    std::vector<double> iou() const;
    std::vector<double> dice() const;
    // Means over the classes with a defined value (those present in the targets or predicted).
    double mean_iou() const;
    double mean_dice() const;

    // {"accuracy", "mean_iou", "mean_dice", "iou": [...], "dice": [...], "matrix": [[...]]}; NaN becomes null.
    nlohmann::json to_json(bool with_matrix = true) const;
    // A compact text table, rows = true class, columns = predicted; names may be empty.
    std::string table(const std::vector<std::string>& names = {}) const;

private:
    int64_t n_, ignore_index_;
    std::vector<int64_t> counts_;
};

// Mean of the finite values; NaN when there are none.
double nan_mean(const std::vector<double>& values);
// NaN and Inf become JSON null (JSON has no NaN).
nlohmann::json json_number(double value);
nlohmann::json json_numbers(const std::vector<double>& values);

// ---------------------------------------------------------------- multi-label
struct BinaryScores {
    double threshold = 0.5;
    int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    double precision() const;
    double recall() const;
    double f1() const;
};

// Per class: scores (N, C) probabilities and targets (N, C) in {0, 1}. The threshold that maximises F1 on these
// samples (the midpoint between the two scores that bracket it; 0.5 when the class never occurs).
std::vector<BinaryScores> tune_thresholds(const Tensor& scores, const Tensor& targets);
// Per class counts at the given thresholds.
std::vector<BinaryScores> score_at(const Tensor& scores, const Tensor& targets, const std::vector<double>& thresholds);

struct MultiLabelSummary {
    double micro_f1 = 0, macro_f1 = 0;
    double exact_match = 0;  // share of samples whose whole label set is right
};
MultiLabelSummary summarize(const Tensor& scores, const Tensor& targets, const std::vector<double>& thresholds);

}  // namespace engine::apps
