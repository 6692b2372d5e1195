// Losses with nn.CrossEntropyLoss / nn.BCEWithLogitsLoss's options and semantics. They are function objects,
// not Modules (they take two inputs): loss(logits, target).
#pragma once

#include "autograd/ops.h"
#include "layers/options.h"

namespace engine::nn {

struct CrossEntropyLossOptions {
    ENGINE_NN_OPTION(Tensor, weight);  // (C) class weights, or undefined
    ENGINE_NN_OPTION(int64_t, ignore_index) = -100;
    ENGINE_NN_OPTION(Reduction, reduction) = Reduction::Mean;
};

// logits (N, C) with int64 targets (N), or spatial logits (N, C, H, W) with targets (N, H, W) (segmentation).
// Mean reduction divides by the summed weights of the targets that are not ignore_index. Targets out of
// [0, C) other than ignore_index are an error naming the value.
class CrossEntropyLoss {
public:
    explicit CrossEntropyLoss(const CrossEntropyLossOptions& options = {}) : options_(options) {}
    Tensor operator()(const Tensor& logits, const Tensor& target) const;
    const CrossEntropyLossOptions& options() const { return options_; }

private:
    CrossEntropyLossOptions options_;
};

struct BCEWithLogitsLossOptions {
    ENGINE_NN_OPTION(Tensor, weight);      // broadcast to the input's shape, or undefined
    ENGINE_NN_OPTION(Tensor, pos_weight);  // per class (broadcast along the last dims), or undefined
    ENGINE_NN_OPTION(Reduction, reduction) = Reduction::Mean;
};

// Multi-label loss on logits; target has the logits' shape with values in [0, 1].
class BCEWithLogitsLoss {
public:
    explicit BCEWithLogitsLoss(const BCEWithLogitsLossOptions& options = {}) : options_(options) {}
    Tensor operator()(const Tensor& logits, const Tensor& target) const;
    const BCEWithLogitsLossOptions& options() const { return options_; }

private:
    BCEWithLogitsLossOptions options_;
};

}  // namespace engine::nn
