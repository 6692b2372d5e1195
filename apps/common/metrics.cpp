// Confusion-matrix metrics and multi-label threshold tuning.
#include "apps/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "runtime/error.h"

namespace engine::apps {

namespace {

std::vector<int64_t> as_int64(const Tensor& t) { return t.to_vector<int64_t>(); }

double ratio(double num, double den) { return den > 0 ? num / den : std::nan(""); }

}  // namespace

ConfusionMatrix::ConfusionMatrix(int64_t num_classes, int64_t ignore_index)
    : n_(num_classes), ignore_index_(ignore_index), counts_(static_cast<size_t>(num_classes * num_classes), 0) {
    ENGINE_CHECK(num_classes > 0, "ConfusionMatrix: num_classes must be positive, got ", num_classes);
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

void ConfusionMatrix::add(int64_t predicted, int64_t target) {
    if (target == ignore_index_) return;
    ENGINE_CHECK(target >= 0 && target < n_, "metrics: target class ", target, " out of range [0, ", n_, ")");
    ENGINE_CHECK(predicted >= 0 && predicted < n_, "metrics: predicted class ", predicted, " out of range [0, ", n_,
                 ")");
    ++counts_[static_cast<size_t>(target * n_ + predicted)];
}

void ConfusionMatrix::add(const Tensor& predicted, const Tensor& target) {
    ENGINE_CHECK(predicted.numel() == target.numel(), "metrics: ", predicted.numel(), " predictions (shape ",
                 shape_str(predicted.shape()), ") for ", target.numel(), " targets (shape ",
                 shape_str(target.shape()), ")");
    const std::vector<int64_t> p = as_int64(predicted), t = as_int64(target);
    for (size_t i = 0; i < p.size(); ++i) add(p[i], t[i]);
}

int64_t ConfusionMatrix::total() const { return std::accumulate(counts_.begin(), counts_.end(), int64_t{0}); }

int64_t ConfusionMatrix::target_count(int64_t c) const {
    int64_t s = 0;
    for (int64_t p = 0; p < n_; ++p) s += at(c, p);
    return s;
}

int64_t ConfusionMatrix::predicted_count(int64_t c) const {
    int64_t s = 0;
    for (int64_t t = 0; t < n_; ++t) s += at(t, c);
    return s;
}

double ConfusionMatrix::accuracy() const {
    int64_t correct = 0;
    for (int64_t c = 0; c < n_; ++c) correct += at(c, c);
    return ratio(static_cast<double>(correct), static_cast<double>(total()));
}

std::vector<double> ConfusionMatrix::iou() const {
    std::vector<double> out(static_cast<size_t>(n_));
    for (int64_t c = 0; c < n_; ++c) {
        const double tp = static_cast<double>(at(c, c));
        const double uni = static_cast<double>(target_count(c) + predicted_count(c)) - tp;
        out[static_cast<size_t>(c)] = ratio(tp, uni);
    }
    return out;
}

std::vector<double> ConfusionMatrix::dice() const {
    std::vector<double> out(static_cast<size_t>(n_));
    for (int64_t c = 0; c < n_; ++c) {
        const double tp = static_cast<double>(at(c, c));
        out[static_cast<size_t>(c)] = ratio(2 * tp, static_cast<double>(target_count(c) + predicted_count(c)));
    }
    return out;
}

double ConfusionMatrix::mean_iou() const { return nan_mean(iou()); }
double ConfusionMatrix::mean_dice() const { return nan_mean(dice()); }

nlohmann::json ConfusionMatrix::to_json(bool with_matrix) const {
    nlohmann::json j = {{"accuracy", json_number(accuracy())},
                        {"mean_iou", json_number(mean_iou())},
                        {"mean_dice", json_number(mean_dice())},
                        {"iou", json_numbers(iou())},
                        {"dice", json_numbers(dice())}};
    if (with_matrix) {
        nlohmann::json rows = nlohmann::json::array();
        for (int64_t t = 0; t < n_; ++t) {
            nlohmann::json row = nlohmann::json::array();
            for (int64_t p = 0; p < n_; ++p) row.push_back(at(t, p));
            rows.push_back(row);
        }
        j["matrix"] = rows;
    }
    return j;
}

std::string ConfusionMatrix::table(const std::vector<std::string>& names) const {
    auto name = [&](int64_t c) {
        std::string s = c < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(c)] : std::to_string(c);
        return s.size() > 10 ? s.substr(0, 10) : s;
    };
    size_t label_width = 4, cell = 3;
    for (int64_t c = 0; c < n_; ++c) label_width = std::max(label_width, name(c).size());
    for (int64_t v : counts_) cell = std::max(cell, std::to_string(v).size());
    std::ostringstream os;
    os << "confusion (rows true, columns predicted):\n";
    os << std::string(label_width, ' ');
    for (int64_t p = 0; p < n_; ++p) {
        std::string s = std::to_string(p);
        os << ' ' << std::string(cell - std::min(cell, s.size()), ' ') << s;
    }
    os << "  recall\n";
    const std::vector<double> none;
    for (int64_t t = 0; t < n_; ++t) {
        std::string label = name(t);
        os << label << std::string(label_width - label.size(), ' ');
        for (int64_t p = 0; p < n_; ++p) {
            std::string s = std::to_string(at(t, p));
            os << ' ' << std::string(cell - s.size(), ' ') << s;
        }
        const double recall = ratio(static_cast<double>(at(t, t)), static_cast<double>(target_count(t)));
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "  %5.1f%%", 100.0 * recall);
        os << (std::isnan(recall) ? std::string("       -") : std::string(buffer)) << '\n';
    }
    return os.str();
}

double nan_mean(const std::vector<double>& values) {
    double s = 0;
    int64_t n = 0;
    for (double v : values)
        if (std::isfinite(v)) s += v, ++n;
    return n ? s / static_cast<double>(n) : std::nan("");
}

nlohmann::json json_number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

nlohmann::json json_numbers(const std::vector<double>& values) {
    nlohmann::json out = nlohmann::json::array();
    for (double v : values) out.push_back(json_number(v));
    return out;
}

// ---------------------------------------------------------------- multi-label

double BinaryScores::precision() const { return ratio(static_cast<double>(tp), static_cast<double>(tp + fp)); }
double BinaryScores::recall() const { return ratio(static_cast<double>(tp), static_cast<double>(tp + fn)); }
double BinaryScores::f1() const { return ratio(2.0 * static_cast<double>(tp), static_cast<double>(2 * tp + fp + fn)); }

namespace {

struct Columns {
    int64_t n = 0, c = 0;
    std::vector<double> scores;
    std::vector<double> targets;
};

Columns read_columns(const Tensor& scores, const Tensor& targets, const char* what) {
    ENGINE_CHECK(scores.dim() == 2 && scores.shape() == targets.shape(), what, ": scores ",
                 shape_str(scores.shape()), " and targets ", shape_str(targets.shape()),
                 " must be (N, C) of the same shape");
    return {scores.size(0), scores.size(1), scores.to_vector<double>(), targets.to_vector<double>()};
}

}  // namespace

std::vector<BinaryScores> tune_thresholds(const Tensor& scores, const Tensor& targets) {
    const Columns m = read_columns(scores, targets, "tune_thresholds");
    std::vector<BinaryScores> out(static_cast<size_t>(m.c));
    std::vector<int64_t> order(static_cast<size_t>(m.n));
    for (int64_t c = 0; c < m.c; ++c) {
        auto score = [&](int64_t i) { return m.scores[static_cast<size_t>(i * m.c + c)]; };
        auto positive = [&](int64_t i) { return m.targets[static_cast<size_t>(i * m.c + c)] >= 0.5; };
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score(a) > score(b); });
        int64_t positives = 0;
        for (int64_t i = 0; i < m.n; ++i) positives += positive(i);
        BinaryScores best;
        best.fn = positives;
        best.tn = m.n - positives;
        if (positives == 0) {  // nothing to find: keep the neutral threshold
            out[static_cast<size_t>(c)] = score_at(scores.narrow(1, c, 1), targets.narrow(1, c, 1), {0.5})[0];
            continue;
        }
        double best_f1 = -1;
        int64_t tp = 0, fp = 0;
        // Predicting the top k as positive; only cut between distinct scores so that a threshold can realise it.
        for (int64_t k = 1; k <= m.n; ++k) {
            const int64_t i = order[static_cast<size_t>(k - 1)];
            (positive(i) ? tp : fp) += 1;
            if (k < m.n && score(order[static_cast<size_t>(k)]) == score(i)) continue;
            const double f1 = 2.0 * static_cast<double>(tp) / static_cast<double>(tp + fp + positives);
            if (f1 > best_f1) {
                best_f1 = f1;
                const double next = k < m.n ? score(order[static_cast<size_t>(k)]) : score(i) - 1e-6;
                best.threshold = 0.5 * (score(i) + next);
                best.tp = tp;
                best.fp = fp;
                best.fn = positives - tp;
                best.tn = m.n - positives - fp;
            }
        }
        out[static_cast<size_t>(c)] = best;
    }
    return out;
}

std::vector<BinaryScores> score_at(const Tensor& scores, const Tensor& targets, const std::vector<double>& thresholds) {
    const Columns m = read_columns(scores, targets, "score_at");
    ENGINE_CHECK(static_cast<int64_t>(thresholds.size()) == m.c, "score_at: ", thresholds.size(),
                 " thresholds for ", m.c, " classes");
    std::vector<BinaryScores> out(static_cast<size_t>(m.c));
    for (int64_t c = 0; c < m.c; ++c) {
        BinaryScores& s = out[static_cast<size_t>(c)];
        s.threshold = thresholds[static_cast<size_t>(c)];
        for (int64_t i = 0; i < m.n; ++i) {
            const bool predicted = m.scores[static_cast<size_t>(i * m.c + c)] >= s.threshold;
            const bool actual = m.targets[static_cast<size_t>(i * m.c + c)] >= 0.5;
            (predicted ? (actual ? s.tp : s.fp) : (actual ? s.fn : s.tn)) += 1;
        }
    }
    return out;
}

MultiLabelSummary summarize(const Tensor& scores, const Tensor& targets, const std::vector<double>& thresholds) {
    const std::vector<BinaryScores> per_class = score_at(scores, targets, thresholds);
    const Columns m = read_columns(scores, targets, "summarize");
    MultiLabelSummary out;
    BinaryScores all;
    std::vector<double> f1s;
    for (const BinaryScores& s : per_class) {
        all.tp += s.tp, all.fp += s.fp, all.fn += s.fn;
        f1s.push_back(s.f1());
    }
    out.micro_f1 = all.f1();
    out.macro_f1 = nan_mean(f1s);
    int64_t exact = 0;
    for (int64_t i = 0; i < m.n; ++i) {
        bool same = true;
        for (int64_t c = 0; c < m.c && same; ++c) {
            const size_t k = static_cast<size_t>(i * m.c + c);
            same = (m.scores[k] >= thresholds[static_cast<size_t>(c)]) == (m.targets[k] >= 0.5);
        }
        exact += same;
    }
    out.exact_match = m.n ? static_cast<double>(exact) / static_cast<double>(m.n) : std::nan("");
    return out;
}

}  // namespace engine::apps
