// CrossEntropyLoss and BCEWithLogitsLoss over the fused ops; class weights follow the logits' device and dtype.
#include "layers/loss.h"

namespace engine::nn {
namespace {

// A weight given on another device or in another dtype than the logits (e.g. built on the CPU for a model
// moved to CUDA) is converted, as PyTorch users expect after model.to(device).
Tensor like_input(const Tensor& weight, const Tensor& input) {
    if (!weight.defined()) return weight;
    Tensor w = weight.device() == input.device() ? weight : weight.to(input.device());
    return w.dtype() == input.dtype() ? w : w.to(input.dtype());
}

}  // namespace

Tensor CrossEntropyLoss::operator()(const Tensor& logits, const Tensor& target) const {
    ENGINE_CHECK(logits.defined() && target.defined(), "CrossEntropyLoss: logits and target must be defined");
    return cross_entropy(logits, target, like_input(options_.weight(), logits), options_.ignore_index(),
                         options_.reduction());
}

Tensor BCEWithLogitsLoss::operator()(const Tensor& logits, const Tensor& target) const {
    ENGINE_CHECK(logits.defined() && target.defined(), "BCEWithLogitsLoss: logits and target must be defined");
    return binary_cross_entropy_with_logits(logits, target, like_input(options_.weight(), logits),
                                            like_input(options_.pos_weight(), logits), options_.reduction());
}

}  // namespace engine::nn
