// Transforms (image and mask move together, reproducible randomness) and the DataLoader (batches, shuffling,
// determinism with and without prefetching, errors from worker threads, shutdown mid-epoch).
#include "models/data/loader.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/test_util.h"
#include "datasets/data_test_util.h"
#include "models/data/datasets.h"

namespace engine::data {
namespace {

using test::TempDir;

// Sample i: a (1,H,W) image whose pixel (y, x) is (i * 1000 + y * W + x) / 1e6, and a mask holding the same
// numbers as int64 (so every transform must move both alike), or the class id i.
class SyntheticDataset final : public Dataset {
public:
    SyntheticDataset(int64_t n, int64_t h, int64_t w, bool masks, int64_t fail_at = -1, int delay_ms = 0)
        : n_(n), h_(h), w_(w), masks_(masks), fail_at_(fail_at), delay_ms_(delay_ms) {}
    int64_t size() const override { return n_; }
    Sample get(int64_t i) const override {
        ++calls;
        if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
        if (i == fail_at_) throw Error("data: sample_" + std::to_string(i) + ".png: corrupt file");
        Sample s;
        s.image = empty({1, h_, w_}, DType::Float32);
        Tensor mask = empty({h_, w_}, DType::Int64);
        for (int64_t k = 0; k < h_ * w_; ++k) {
            mask.data<int64_t>()[k] = i * 1000 + k;
            s.image.data<float>()[k] = static_cast<float>(i * 1000 + k) * 1e-6f;
        }
        s.target = masks_ ? mask : scalar_tensor(static_cast<double>(i), DType::Int64);
        return s;
    }
    std::string source(int64_t i) const override { return "sample_" + std::to_string(i) + ".png"; }
    TargetKind target_kind() const override { return masks_ ? TargetKind::Mask : TargetKind::Class; }
    const std::vector<std::string>& class_names() const override { return names_; }
    mutable std::atomic<int64_t> calls{0};

private:
    int64_t n_, h_, w_;
    bool masks_;
    int64_t fail_at_;
    int delay_ms_;
    std::vector<std::string> names_ = {"a", "b"};
};

std::vector<Batch> whole_epoch(DataLoader& loader, int64_t epoch) {
    loader.start_epoch(epoch);
    std::vector<Batch> batches;
    Batch b;
    while (loader.next(b)) batches.push_back(b);
    return batches;
}

void expect_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].indices, b[i].indices) << "batch " << i;
        EXPECT_EQ(a[i].index, b[i].index);
        EXPECT_TRUE(test::all_close(a[i].images, b[i].images, 0, 0)) << "batch " << i;
        EXPECT_TRUE(test::all_close(a[i].targets, b[i].targets, 0, 0)) << "batch " << i;
    }
}

TransformPtr augment() {
    return transforms::compose({transforms::random_crop(5, 6), transforms::horizontal_flip(0.5),
                                transforms::vertical_flip(0.5), nullptr, transforms::normalize({0.5}, {0.25})});
}

TEST(RngTest, StreamsAreReproducible) {
    Rng a(7, 3), b(7, 3), c(7, 4), d(8, 3);
    int differ_stream = 0, differ_seed = 0;
    for (int i = 0; i < 100; ++i) {
        const uint32_t x = a.next_u32();
        EXPECT_EQ(x, b.next_u32());
        differ_stream += x != c.next_u32();
        differ_seed += x != d.next_u32();
    }
    EXPECT_GT(differ_stream, 90);
    EXPECT_GT(differ_seed, 90);
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 5000; ++i) {
        const int64_t v = a.uniform_int(5);
        ASSERT_TRUE(v >= 0 && v < 5);
        ++counts[static_cast<size_t>(v)];
        const double u = a.uniform();
        ASSERT_TRUE(u >= 0 && u < 1);
    }
    for (int n : counts) EXPECT_NEAR(n, 1000, 150);
    Generator gen(5);
    Rng first = Rng::from(gen), second = Rng::from(gen);
    EXPECT_NE(first.next_u32(), second.next_u32());
    EXPECT_EQ(gen.offset(), 2u);
}

TEST(TransformsTest, ImageAndMaskMoveTogether) {
    const SyntheticDataset set(4, 9, 11, true);
    for (uint64_t stream = 0; stream < 20; ++stream) {
        Sample s = set.get(2);
        Rng rng(1, stream);
        augment()->apply(s, rng);
        ASSERT_EQ(s.image.shape(), (Shape{1, 5, 6}));
        ASSERT_EQ(s.target.shape(), (Shape{5, 6}));
        const std::vector<float> image = s.image.to_vector<float>();
        const std::vector<int64_t> mask = s.target.to_vector<int64_t>();
        for (size_t k = 0; k < mask.size(); ++k)  // normalize((v * 1e-6), 0.5, 0.25) for the mask's number v
            ASSERT_NEAR(image[k], (static_cast<float>(mask[k]) * 1e-6f - 0.5f) / 0.25f, 1e-5);
        // The window is contiguous in the source: neighbours differ by 1 across, by 11 down (or flipped).
        EXPECT_EQ(std::abs(mask[1] - mask[0]), 1);
        EXPECT_EQ(std::abs(mask[6] - mask[0]), 11);
    }
    // Resize: bilinear image, nearest mask; center crop: torchvision's offsets round((9-2)/2)=4, round((11-2)/2)=4.
    Sample s = set.get(1);
    Rng rng(0, 0);
    transforms::compose({transforms::center_crop(2, 2)})->apply(s, rng);
    EXPECT_EQ(s.target.to_vector<int64_t>(), (std::vector<int64_t>{1000 + 48, 1000 + 49, 1000 + 59, 1000 + 60}));
    Sample r = set.get(1);
    transforms::resize(18, 22)->apply(r, rng);
    EXPECT_TRUE(test::all_close(r.target, resize_nearest(set.get(1).target, 18, 22), 0, 0));
    EXPECT_TRUE(test::all_close(r.image, resize_bilinear(set.get(1).image, 18, 22), 0, 0));
    // A class target is left alone by spatial transforms.
    const SyntheticDataset classes(2, 9, 11, false);
    Sample c = classes.get(1);
    augment()->apply(c, rng);
    EXPECT_EQ(c.target.item<int64_t>(), 1);
    Sample small = set.get(0);
    EXPECT_ENGINE_ERROR(transforms::random_crop(10, 10)->apply(small, rng), "smaller than the 10x10 window");
}

TEST(TransformsTest, FlipsAndCrops) {
    const Tensor t = arange(0, 12).reshape({2, 2, 3});
    EXPECT_EQ(flip_horizontal(t).to_vector<int64_t>(), (std::vector<int64_t>{2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9}));
    EXPECT_EQ(flip_vertical(t).to_vector<int64_t>(), (std::vector<int64_t>{3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8}));
    EXPECT_EQ(crop(t, 1, 1, 1, 2).to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 10, 11}));
    EXPECT_EQ(crop(t.select(0, 1), 0, 2, 2, 1).to_vector<int64_t>(), (std::vector<int64_t>{8, 11}));
    EXPECT_ENGINE_ERROR(crop(t, 1, 1, 2, 2), "outside a 2x3 image");
    // Flip probabilities: p = 0 never, p = 1 always.
    Sample s{arange(0, 6).reshape({1, 2, 3}).to(DType::Float32), Tensor()};
    Rng rng(3, 3);
    transforms::horizontal_flip(0.0)->apply(s, rng);
    EXPECT_EQ(s.image.to_vector<float>()[0], 0.0f);
    transforms::horizontal_flip(1.0)->apply(s, rng);
    EXPECT_EQ(s.image.to_vector<float>()[0], 2.0f);
}

TEST(DataLoaderTest, BatchesCoverTheEpoch) {
    const auto set = std::make_shared<SyntheticDataset>(10, 4, 4, false);
    DataLoaderOptions options;
    options.batch_size = 3;
    options.prefetch = 0;
    DataLoader loader(set, options);
    EXPECT_EQ(loader.batches_per_epoch(), 4);
    const std::vector<Batch> batches = whole_epoch(loader, 0);
    ASSERT_EQ(batches.size(), 4u);
    EXPECT_EQ(batches[0].images.shape(), (Shape{3, 1, 4, 4}));
    EXPECT_EQ(batches[0].targets.shape(), (Shape{3}));
    EXPECT_EQ(batches[3].size(), 1);
    EXPECT_EQ(batches[3].targets.to_vector<int64_t>(), (std::vector<int64_t>{9}));
    options.drop_last = true;
    options.shuffle = true;
    DataLoader dropping(set, options);
    EXPECT_EQ(dropping.batches_per_epoch(), 3);
    std::vector<int64_t> seen;
    for (const Batch& b : whole_epoch(dropping, 5)) {
        EXPECT_EQ(b.size(), 3);
        seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    }
    EXPECT_EQ(seen.size(), 9u);
    std::vector<int64_t> order = dropping.epoch_order(5);
    std::sort(order.begin(), order.end());
    for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
    EXPECT_NE(dropping.epoch_order(5), dropping.epoch_order(6));
    Batch b;
    DataLoader fresh(set, options);
    EXPECT_FALSE(fresh.next(b));  // before start_epoch
}

TEST(DataLoaderTest, SameSeedSameBatchesWithAndWithoutPrefetch) {
    const auto set = std::make_shared<SyntheticDataset>(23, 8, 9, true);
    DataLoaderOptions options;
    options.batch_size = 4;
    options.shuffle = true;
    options.seed = 11;
    options.prefetch = 0;
    DataLoader sync(set, options, augment());
    const std::vector<Batch> e0 = whole_epoch(sync, 0), e1 = whole_epoch(sync, 1);
    ASSERT_EQ(e0.size(), 6u);
    EXPECT_EQ(e0[0].images.shape(), (Shape{4, 1, 5, 6}));
    EXPECT_EQ(e0[0].targets.shape(), (Shape{4, 5, 6}));
    EXPECT_NE(e0[0].indices, e1[0].indices);
    for (auto [prefetch, workers] : {std::pair<int64_t, int64_t>{1, 1}, {2, 1}, {3, 3}, {8, 2}}) {
        options.prefetch = prefetch;
        options.workers = workers;
        DataLoader async(set, options, augment());
        expect_same(whole_epoch(async, 0), e0);
        expect_same(whole_epoch(async, 1), e1);
        // Restarting an epoch half-way gives it again from the start.
        async.start_epoch(0);
        Batch b;
        ASSERT_TRUE(async.next(b));
        expect_same(whole_epoch(async, 0), e0);
    }
    // The same batch built directly.
    const Batch direct = sync.make_batch(e1[2].indices, 1, 2 * 4);
    EXPECT_TRUE(test::all_close(direct.images, e1[2].images, 0, 0));
    options.seed = 12;
    DataLoader other(set, options, augment());
    EXPECT_FALSE(test::all_close(whole_epoch(other, 0)[0].images, e0[0].images, 0, 0));
}

TEST(DataLoaderTest, WorkerErrorsReachTheConsumerWithTheFileName) {
    TempDir dir;
    for (int i = 0; i < 6; ++i)
        test::save_png(dir.file("cls/" + std::to_string(i) + ".png"), test::pattern_image(4, 4, 3));
    std::string broken = data::encode_png(test::pattern_image(4, 4, 3));
    broken.resize(broken.size() / 2);
    test::write_bytes(dir.file("cls/3.png"), broken);
    for (int64_t prefetch : {0, 2}) {
        DataLoaderOptions options;
        options.batch_size = 2;
        options.prefetch = prefetch;
        DataLoader loader(image_folder(dir.path()), options);
        for (int attempt = 0; attempt < 2; ++attempt) {
            loader.start_epoch(0);
            Batch b;
            ASSERT_TRUE(loader.next(b));  // 0.png, 1.png
            const std::string message = test::error_message([&] { loader.next(b); });
            EXPECT_NE(message.find("cls/3.png"), std::string::npos) << message;
            EXPECT_FALSE(loader.next(b));  // the epoch ended with the error
        }
    }
    const auto failing = std::make_shared<SyntheticDataset>(8, 4, 4, false, 5);
    DataLoaderOptions options;
    options.batch_size = 2;
    options.prefetch = 4;
    options.workers = 2;
    DataLoader loader(failing, options);
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
    ASSERT_TRUE(loader.next(b));
    EXPECT_ENGINE_ERROR(loader.next(b), "sample_5.png: corrupt file");
    // Errors raised by a transform are named too.
    DataLoader too_small(std::make_shared<SyntheticDataset>(2, 4, 4, true), options, transforms::random_crop(8, 8));
    too_small.start_epoch(0);
    EXPECT_ENGINE_ERROR(too_small.next(b), "sample_0.png: transforms::random_crop");
    // Mismatched shapes in one batch name two samples.
    EXPECT_ENGINE_ERROR(
        collate({SyntheticDataset(1, 2, 2, false).get(0), SyntheticDataset(1, 3, 2, false).get(0)}, {"x.png", "y.png"}),
        "the image of y.png is float32 [1, 3, 2] but that of x.png is float32 [1, 2, 2]");
}

TEST(DataLoaderTest, ShutsDownMidEpoch) {
    const auto slow = std::make_shared<SyntheticDataset>(64, 8, 8, false, -1, 20);
    DataLoaderOptions options;
    options.batch_size = 2;
    options.prefetch = 4;
    options.workers = 2;
    const auto start = std::chrono::steady_clock::now();
    {
        DataLoader loader(slow, options);
        loader.start_epoch(0);
        Batch b;
        ASSERT_TRUE(loader.next(b));
        EXPECT_EQ(b.index, 0);
    }  // destroyed with batches in flight
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 2.0);
    EXPECT_LT(slow->calls.load(), 64);   // the bounded queue did not read ahead through the epoch
    { DataLoader idle(slow, options); }  // never started
}

}  // namespace
}  // namespace engine::data
