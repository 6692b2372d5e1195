// The apps' metrics against hand-counted references: confusion matrix, accuracy, IoU, Dice with an ignore index,
// and multi-label threshold tuning against a brute-force search.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "apps/common/metrics.h"
#include "common/test_util.h"

using namespace engine;
using namespace engine::apps;

TEST(ConfusionMatrixTest, CountsAndScoresWithIgnoreIndex) {
    ConfusionMatrix m(3, 255);
    // targets:    0 0 1 1 1 255 2
    // predicted:  0 1 1 1 0 2   0
    m.add(from_vector<int64_t>({0, 1, 1, 1, 0, 2, 0}, {7}), from_vector<int64_t>({0, 0, 1, 1, 1, 255, 2}, {7}));
    EXPECT_EQ(m.total(), 6);
    EXPECT_EQ(m.at(0, 0), 1);
    EXPECT_EQ(m.at(0, 1), 1);
    EXPECT_EQ(m.at(1, 1), 2);
    EXPECT_EQ(m.at(1, 0), 1);
    EXPECT_EQ(m.at(2, 0), 1);
    EXPECT_DOUBLE_EQ(m.accuracy(), 3.0 / 6.0);
    const std::vector<double> iou = m.iou();
    // class 0: tp 1, in targets 2, predicted 3 -> 1 / 4; class 1: tp 2, 3 + 3 - 2 = 4 -> 1/2; class 2: tp 0 of 1.
    EXPECT_DOUBLE_EQ(iou[0], 0.25);
    EXPECT_DOUBLE_EQ(iou[1], 0.5);
    EXPECT_DOUBLE_EQ(iou[2], 0.0);
    EXPECT_DOUBLE_EQ(m.mean_iou(), 0.75 / 3.0);
    const std::vector<double> dice = m.dice();
    EXPECT_DOUBLE_EQ(dice[0], 2.0 / 5.0);
    EXPECT_DOUBLE_EQ(dice[1], 4.0 / 6.0);
    EXPECT_DOUBLE_EQ(dice[2], 0.0);
}

TEST(ConfusionMatrixTest, AbsentClassesLeaveTheMeans) {
    ConfusionMatrix m(4);
    m.add(from_vector<int64_t>({0, 0, 1}, {3}), from_vector<int64_t>({0, 0, 1}, {3}));
    const std::vector<double> iou = m.iou();
    EXPECT_TRUE(std::isnan(iou[2]));
    EXPECT_TRUE(std::isnan(iou[3]));
    EXPECT_DOUBLE_EQ(m.mean_iou(), 1.0);
    EXPECT_DOUBLE_EQ(m.mean_dice(), 1.0);
    EXPECT_TRUE(m.to_json()["iou"][2].is_null());
}

TEST(ConfusionMatrixTest, MatchesDirectCountsOnRandomMaps) {
    std::mt19937 rng(3);
    std::vector<int64_t> p(500), t(500);
    for (size_t i = 0; i < p.size(); ++i) p[i] = rng() % 5, t[i] = rng() % 6 == 5 ? -1 : rng() % 5;
    ConfusionMatrix m(5, -1);
    m.add(from_vector<int64_t>(p, {20, 25}), from_vector<int64_t>(t, {20, 25}));
    for (int64_t c = 0; c < 5; ++c) {
        double tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < p.size(); ++i) {
            if (t[i] < 0) continue;
            tp += p[i] == c && t[i] == c;
            fp += p[i] == c && t[i] != c;
            fn += p[i] != c && t[i] == c;
        }
        EXPECT_DOUBLE_EQ(m.iou()[c], tp / (tp + fp + fn));
        EXPECT_DOUBLE_EQ(m.dice()[c], 2 * tp / (2 * tp + fp + fn));
    }
}

TEST(ConfusionMatrixTest, RejectsOutOfRangeClassesAndSizeMismatch) {
    ConfusionMatrix m(3, 255);
    EXPECT_ENGINE_ERROR(m.add(from_vector<int64_t>({0}, {1}), from_vector<int64_t>({3}, {1})), "target class 3");
    EXPECT_ENGINE_ERROR(m.add(from_vector<int64_t>({7}, {1}), from_vector<int64_t>({0}, {1})), "predicted class 7");
    EXPECT_ENGINE_ERROR(m.add(from_vector<int64_t>({0, 1}, {2}), from_vector<int64_t>({0}, {1})), "2 predictions");
}

TEST(ConfusionMatrixTest, TableNamesClassesAndRecall) {
    ConfusionMatrix m(2);
    m.add(from_vector<int64_t>({0, 1, 1}, {3}), from_vector<int64_t>({0, 1, 0}, {3}));
    const std::string table = m.table({"cat", "dog"});
    EXPECT_NE(table.find("cat"), std::string::npos);
    EXPECT_NE(table.find("50.0%"), std::string::npos);
    EXPECT_NE(table.find("100.0%"), std::string::npos);
}

TEST(MultiLabelTest, TunedThresholdsMaximiseF1) {
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(0.0, 0.25);
    const int64_t n = 60, c = 3;
    std::vector<double> scores(n * c), targets(n * c);
    for (int64_t i = 0; i < n * c; ++i) {
        targets[i] = rng() % 3 == 0;
        scores[i] = 1.0 / (1.0 + std::exp(-(targets[i] * 1.5 - 0.7 + noise(rng))));
    }
    const Tensor s = from_vector<double>(scores, {n, c}), t = from_vector<double>(targets, {n, c});
    const std::vector<BinaryScores> tuned = tune_thresholds(s, t);
    for (int64_t k = 0; k < c; ++k) {
        double best = 0;  // brute force over every candidate threshold
        for (int64_t i = 0; i < n; ++i) {
            std::vector<double> th(c, 0.5);
            th[k] = scores[i * c + k];
            best = std::max(best, score_at(s, t, th)[k].f1());
        }
        EXPECT_NEAR(tuned[k].f1(), best, 1e-12) << "class " << k;
        std::vector<double> th(c, 0.5);
        th[k] = tuned[k].threshold;
        EXPECT_NEAR(score_at(s, t, th)[k].f1(), best, 1e-12) << "the threshold realises the F1, class " << k;
    }
    const MultiLabelSummary summary = summarize(s, t, {tuned[0].threshold, tuned[1].threshold, tuned[2].threshold});
    EXPECT_GT(summary.micro_f1, 0.5);
    EXPECT_LE(summary.exact_match, 1.0);
}

TEST(MultiLabelTest, ClassWithoutPositivesKeepsNeutralThreshold) {
    const Tensor s = from_vector<double>({0.2, 0.9, 0.4, 0.1}, {4, 1});
    const Tensor t = from_vector<double>({0, 0, 0, 0}, {4, 1});
    const std::vector<BinaryScores> tuned = tune_thresholds(s, t);
    EXPECT_DOUBLE_EQ(tuned[0].threshold, 0.5);
    EXPECT_EQ(tuned[0].fp, 1);
}
