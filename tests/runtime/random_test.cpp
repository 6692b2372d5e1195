#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"
#include "runtime/philox.h"

using namespace engine;

TEST(PhiloxTest, MatchesTheReferenceKnownAnswer) {
    // Known-answer vector of Random123's kat_vectors for philox4x32-10: counter 0, key 0.
    const philox::Block b = philox::generate(0, 0);
    EXPECT_EQ(b.x[0], 0x6627e8d5u);
    EXPECT_EQ(b.x[1], 0xe169c58du);
    EXPECT_EQ(b.x[2], 0xbc57ac4cu);
    EXPECT_EQ(b.x[3], 0x9b00dbd8u);
}

TEST(RandomTest, SameSeedSameNumbersAndStreamAdvances) {
    Generator a(42), b(42);
    const auto first = rand({1000}, a).to_vector<float>();
    EXPECT_EQ(first, rand({1000}, b).to_vector<float>());
    EXPECT_NE(first, rand({1000}, a).to_vector<float>());
    Generator c(43);
    EXPECT_NE(first, rand({1000}, c).to_vector<float>());
}

TEST(RandomTest, IndependentOfThreadSplit) {
    Generator a(7), b(7);
    const auto big = rand({100000}, a).to_vector<float>();  // parallel fill
    const auto head = rand({10}, b).to_vector<float>();     // serial fill
    for (int i = 0; i < 10; ++i) EXPECT_EQ(big[i], head[i]);
}

TEST(RandomTest, DistributionsHaveTheRightMoments) {
    Generator gen(1);
    const auto u = uniform({200000}, -2.0, 4.0, gen, DType::Float64).to_vector<double>();
    double mean = 0, lo = 1e9, hi = -1e9;
    for (double v : u) {
        mean += v;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    mean /= u.size();
    EXPECT_NEAR(mean, 1.0, 0.02);
    EXPECT_GE(lo, -2.0);
    EXPECT_LT(hi, 4.0);

    const auto n = randn({200000}, gen, DType::Float64).to_vector<double>();
    double m = 0, sq = 0;
    for (double v : n) m += v;
    m /= n.size();
    for (double v : n) sq += (v - m) * (v - m);
    EXPECT_NEAR(m, 0.0, 0.01);
    EXPECT_NEAR(std::sqrt(sq / n.size()), 1.0, 0.01);

    const auto bits = bernoulli({200000}, 0.3, gen).to_vector<float>();
    double ones = 0;
    for (float v : bits) {
        EXPECT_TRUE(v == 0.0f || v == 1.0f);
        ones += v;
    }
    EXPECT_NEAR(ones / bits.size(), 0.3, 0.005);
}

TEST(RandomTest, DropoutScalesKeptValuesAndIsIdentityInEval) {
    Generator gen(3);
    Tensor x = ones({10000});
    const auto y = dropout(x, 0.25, true, gen).to_vector<float>();
    double kept = 0;
    for (float v : y) {
        EXPECT_TRUE(v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6f);
        kept += v != 0.0f;
    }
    EXPECT_NEAR(kept / y.size(), 0.75, 0.02);
    EXPECT_TRUE(dropout(x, 0.25, false, gen).is_same(x));
    EXPECT_ENGINE_ERROR(dropout(x, 1.5, true, gen), "dropout: p must be in [0, 1]");
}
