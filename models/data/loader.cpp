// DataLoader: epoch orders, collation, and the bounded prefetch queue filled by background threads.
#include "models/data/loader.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"

namespace engine::data {
namespace {

// Streams of the per-sample Rngs are (epoch << 40) | position; shuffling uses its own seed.
constexpr uint64_t kShuffleSalt = 0x53485546464C4521ull;

uint64_t sample_stream(int64_t epoch, int64_t position) {
    return (static_cast<uint64_t>(epoch) << 40) ^ static_cast<uint64_t>(position);
}

Tensor stack_all(const std::vector<Tensor>& parts, const std::vector<std::string>& sources, const char* what) {
    const Tensor& first = parts.front();
    for (size_t i = 1; i < parts.size(); ++i)
        ENGINE_CHECK(parts[i].shape() == first.shape() && parts[i].dtype() == first.dtype(), "DataLoader: ", what,
                     " of ", sources[i], " is ", dtype_name(parts[i].dtype()), " ", shape_str(parts[i].shape()),
                     " but that of ", sources[0], " is ", dtype_name(first.dtype()), " ", shape_str(first.shape()),
                     " in one batch; add a resize or crop transform");
    for (size_t i = 0; i < parts.size(); ++i)
        ENGINE_CHECK(parts[i].device().is_cpu(), "DataLoader: ", what, " of ", sources[i], " is not on the CPU");
    NoGradGuard no_grad;
    return stack(parts);
}

}  // namespace

// The prefetch state. Batches are claimed in order by the workers (at most `prefetch` ahead of the consumer)
// and posted by number; the consumer takes them in order, so the thread timing never changes a batch.
struct DataLoader::Queue {
    struct Slot {
        Batch batch;
        std::exception_ptr error;
    };
    std::mutex mutex;
    std::condition_variable work, ready_cv;
    bool stop = false;
    bool active = false;      // an epoch is running and has not failed
    uint64_t generation = 0;  // bumped by start_epoch and by a failure: late results of older ones are dropped
    int64_t epoch = 0;
    std::vector<int64_t> order;
    int64_t num_batches = 0, next_claim = 0, next_consume = 0;
    std::map<int64_t, Slot> ready;
    std::vector<std::thread> threads;
};

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options, TransformPtr transform)
    : dataset_(std::move(dataset)),
      options_(options),
      transform_(std::move(transform)),
      queue_(std::make_unique<Queue>()) {
    ENGINE_CHECK(dataset_ != nullptr, "DataLoader: null dataset");
    ENGINE_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size);
    ENGINE_CHECK(options_.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options_.prefetch);
    ENGINE_CHECK(options_.workers >= 1 && options_.workers <= 64, "DataLoader: workers must be in [1, 64], got ",
                 options_.workers);
    if (options_.prefetch > 0)
        for (int64_t t = 0; t < options_.workers; ++t) queue_->threads.emplace_back([this] { worker_loop(); });
}

DataLoader::~DataLoader() {
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        queue_->stop = true;
    }
    queue_->work.notify_all();
    for (std::thread& t : queue_->threads) t.join();
}

int64_t DataLoader::batches_per_epoch() const {
    const int64_t n = dataset_->size(), b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
    std::vector<int64_t> order(static_cast<size_t>(dataset_->size()));
    std::iota(order.begin(), order.end(), 0);
    if (options_.shuffle) {  // Fisher-Yates
        Rng rng(options_.seed ^ kShuffleSalt, static_cast<uint64_t>(epoch));
        for (size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[static_cast<size_t>(rng.uniform_int(static_cast<int64_t>(i)))]);
    }
    return order;
}

Batch DataLoader::make_batch(const std::vector<int64_t>& indices, int64_t epoch, int64_t first_position) const {
    ENGINE_CHECK(!indices.empty(), "DataLoader: empty batch");
    std::vector<Sample> samples;
    std::vector<std::string> sources;
    samples.reserve(indices.size());
    for (size_t k = 0; k < indices.size(); ++k) {
        Sample sample = dataset_->get(indices[k]);  // its errors name the file already
        sources.push_back(dataset_->source(indices[k]));
        if (transform_) {
            Rng rng(options_.seed, sample_stream(epoch, first_position + static_cast<int64_t>(k)));
            try {
                transform_->apply(sample, rng);
            } catch (const Error& e) {
                throw Error("data: " + sources.back() + ": " + e.what());
            }
        }
        samples.push_back(std::move(sample));
    }
    Batch batch = collate(samples, sources);
    batch.indices = indices;
    return batch;
}

void DataLoader::start_epoch(int64_t epoch) {
    std::vector<int64_t> order = epoch_order(epoch);
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        Queue& q = *queue_;
        ++q.generation;
        q.ready.clear();
        q.epoch = epoch;
        q.order = std::move(order);
        q.num_batches = batches_per_epoch();
        q.next_claim = q.next_consume = 0;
        q.active = true;
    }
    queue_->work.notify_all();
}

void DataLoader::worker_loop() {
    Queue& q = *queue_;
    std::unique_lock<std::mutex> lock(q.mutex);
    while (true) {
        q.work.wait(lock, [&] {
            return q.stop ||
                   (q.active && q.next_claim < q.num_batches && q.next_claim < q.next_consume + options_.prefetch);
        });
        if (q.stop) return;
        const int64_t b = q.next_claim++;
        const uint64_t generation = q.generation;
        const int64_t epoch = q.epoch;
        const int64_t first = b * options_.batch_size;
        const int64_t count = std::min<int64_t>(options_.batch_size, static_cast<int64_t>(q.order.size()) - first);
        const std::vector<int64_t> indices(q.order.begin() + first, q.order.begin() + first + count);
        lock.unlock();
        Queue::Slot slot;
        try {
            slot.batch = make_batch(indices, epoch, first);
            slot.batch.index = b;
        } catch (...) {
            slot.error = std::current_exception();
        }
        lock.lock();
        if (generation == q.generation) {
            q.ready.emplace(b, std::move(slot));
            q.ready_cv.notify_all();
        }
    }
}

bool DataLoader::next(Batch& batch) {
    Queue& q = *queue_;
    std::unique_lock<std::mutex> lock(q.mutex);
    if (!q.active || q.next_consume >= q.num_batches) return false;
    const int64_t b = q.next_consume;
    if (options_.prefetch == 0) {
        const int64_t first = b * options_.batch_size;
        const int64_t count = std::min<int64_t>(options_.batch_size, static_cast<int64_t>(q.order.size()) - first);
        const std::vector<int64_t> indices(q.order.begin() + first, q.order.begin() + first + count);
        const int64_t epoch = q.epoch;
        ++q.next_consume;
        lock.unlock();
        try {
            batch = make_batch(indices, epoch, first);
        } catch (...) {
            lock.lock();
            q.active = false;
            throw;
        }
        batch.index = b;
        return true;
    }
    q.ready_cv.wait(lock, [&] { return q.ready.count(b) > 0; });
    auto it = q.ready.find(b);
    Queue::Slot slot = std::move(it->second);
    q.ready.erase(it);
    ++q.next_consume;
    if (slot.error) {
        q.active = false;
        ++q.generation;
        q.ready.clear();
        lock.unlock();
        std::rethrow_exception(slot.error);
    }
    lock.unlock();
    q.work.notify_all();
    batch = std::move(slot.batch);
    return true;
}

Batch collate(const std::vector<Sample>& samples, const std::vector<std::string>& sources) {
    ENGINE_CHECK(!samples.empty() && samples.size() == sources.size(), "collate: ", samples.size(), " samples and ",
                 sources.size(), " sources");
    std::vector<Tensor> images, targets;
    for (size_t i = 0; i < samples.size(); ++i) {
        ENGINE_CHECK(samples[i].image.defined() && samples[i].target.defined(), "DataLoader: sample ", sources[i],
                     " has no image or no target");
        images.push_back(samples[i].image);
        targets.push_back(samples[i].target);
    }
    Batch batch;
    batch.images = stack_all(images, sources, "the image");
    batch.targets = stack_all(targets, sources, "the target");
    return batch;
}

}  // namespace engine::data
