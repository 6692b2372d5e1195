// Loss, validation metrics and the validation grid of train_unet.
#include "apps/train_unet/segmentation_task.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "apps/common/metrics.h"
#include "apps/common/draw.h"

namespace engine::apps {

namespace {

data::DataLoaderOptions loader_options(int64_t batch_size, bool shuffle, uint64_t seed, int64_t workers) {
    data::DataLoaderOptions o;
    o.batch_size = batch_size;
    o.shuffle = shuffle;
    o.seed = seed;
    o.workers = std::max<int64_t>(workers, 1);
    o.prefetch = workers > 0 ? 2 : 0;  // 0: batches are built on the training thread
    return o;
}

nn::CrossEntropyLossOptions loss_options(int64_t ignore_index, Reduction reduction) {
    nn::CrossEntropyLossOptions o;
    o.ignore_index(ignore_index >= 0 ? ignore_index : -100);
    o.reduction(reduction);
    return o;
}

nlohmann::json by_class(const std::vector<std::string>& names, const std::vector<double>& values) {
    nlohmann::json out = nlohmann::json::object();
    for (size_t c = 0; c < values.size(); ++c) out[c < names.size() ? names[c] : std::to_string(c)] = json_number(values[c]);
    return out;
}

// Display size: at most 256 pixels on the longer side.
data::Image shrink(const data::Image& image, bool nearest) {
    const int64_t side = std::max(image.height, image.width);
    if (side <= 256) return image;
    const int64_t h = std::max<int64_t>(1, image.height * 256 / side), w = std::max<int64_t>(1, image.width * 256 / side);
    return nearest ? data::resize_nearest(image, h, w) : data::resize_bilinear(image, h, w);
}

}  // namespace

SegmentationTask::SegmentationTask(const SegmentationData& data, models::Model& model, Device device,
                                   int64_t batch_size, uint64_t seed, int64_t workers, int64_t grid_rows)
    : data_(data),
      model_(model),
      device_(device),
      train_(data.train, loader_options(batch_size, true, seed, workers), data.train_transform),
      loss_(loss_options(data.ignore_index, Reduction::Mean)),
      loss_sum_(loss_options(data.ignore_index, Reduction::Sum)),
      grid_rows_(grid_rows) {
    // Whole validation images can be large: one at a time unless they are the training size.
    const int64_t val_batch = data.layout == "cityscapes-pairs" ? batch_size : 1;
    val_ = std::make_unique<data::DataLoader>(data.val, loader_options(val_batch, false, seed, workers),
                                              data.val_transform);
}

Tensor SegmentationTask::loss(const data::Batch& batch) { return loss_(model_(batch.images), batch.targets); }

Evaluation SegmentationTask::evaluate() {
    ConfusionMatrix confusion(data_.num_classes, data_.ignore_index >= 0 ? data_.ignore_index : -100);
    double loss_total = 0;
    grid_.clear();
    val_->start_epoch(0);
    data::Batch batch;
    while (val_->next(batch)) {
        Tensor x = batch.images, y = batch.targets;
        if (!device_.is_cpu()) x = x.to(device_), y = y.to(device_);
        const Tensor logits = model_(x);
        loss_total += loss_sum_(logits, y).item<double>();
        const Tensor predicted = argmax(logits, 1).to(Device::cpu());
        confusion.add(predicted, batch.targets);
        for (int64_t i = 0; i < batch.size() && static_cast<int64_t>(grid_.size()) < grid_rows_; ++i)
            grid_.push_back({batch.images.select(0, i), batch.targets.select(0, i), predicted.select(0, i)});
    }
    Evaluation e;
    const int64_t pixels = confusion.total();
    e.loss = pixels ? loss_total / static_cast<double>(pixels) : std::nan("");
    e.score = confusion.mean_iou();
    const std::vector<double> iou = confusion.iou(), dice = confusion.dice();
    e.metrics = {{"pixel_accuracy", json_number(confusion.accuracy())},
                 {"mean_iou", json_number(confusion.mean_iou())},
                 {"mean_dice", json_number(confusion.mean_dice())},
                 {"iou", by_class(data_.class_names, iou)},
                 {"dice", by_class(data_.class_names, dice)},
                 {"val_pixels", pixels},
                 {"confusion", confusion.to_json(true).at("matrix")}};
    std::ostringstream summary;
    summary << "pixel acc " << percent(confusion.accuracy()) << ", mIoU " << fixed(confusion.mean_iou())
            << ", Dice " << fixed(confusion.mean_dice());
    std::ostringstream per_class;
    for (size_t c = 0; c < iou.size(); ++c)
        per_class << (c ? ", " : "") << data_.class_names[c] << ' ' << fixed(iou[c], 3);
    if (iou.size() <= 4)
        summary << " (IoU " << per_class.str() << ")";
    else
        e.details = "  IoU per class: " + per_class.str() + "\n";
    e.summary = summary.str();
    return e;
}

void SegmentationTask::write_pictures(const std::string& out_dir) {
    if (grid_.empty()) return;
    std::vector<std::vector<data::Image>> rows;
    for (const GridRow& r : grid_) {
        rows.push_back({shrink(data::to_rgb(data::tensor_to_image(r.image, data_.mean, data_.std)), false),
                        shrink(data::colorize(r.label, data_.colors, data_.ignore_color), true),
                        shrink(data::colorize(r.prediction, data_.colors, data_.ignore_color), true)});
    }
    data::write_png(out_dir + "/val_grid.png", data::make_grid(rows));
}

}  // namespace engine::apps
