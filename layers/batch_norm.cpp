// BatchNorm2d over the batch_norm op; the module owns the running statistics and the batch counter.
#include "layers/batch_norm.h"

#include <sstream>

namespace engine::nn {

BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& options) : options_(options) {
    const int64_t c = options_.num_features();
    ENGINE_CHECK(c > 0, "BatchNorm2d: num_features must be positive, got ", c);
    ENGINE_CHECK(options_.eps() >= 0, "BatchNorm2d: eps must be non-negative, got ", options_.eps());
    if (options_.affine()) {
        weight_ = register_parameter("weight", ones({c}));
        bias_ = register_parameter("bias", zeros({c}));
    }
    if (options_.track_running_stats()) {
        running_mean_ = register_buffer("running_mean", zeros({c}));
        running_var_ = register_buffer("running_var", ones({c}));
        num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
    }
}

void BatchNorm2d::reset_running_stats() {
    if (!options_.track_running_stats()) return;
    NoGradGuard no_grad;
    running_mean_.fill_(0.0);
    running_var_.fill_(1.0);
    num_batches_tracked_.fill_(0.0);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
    const int64_t c = options_.num_features();
    ENGINE_CHECK(x.defined() && x.dim() == 4 && x.size(1) == c, "BatchNorm2d(", c, "): expected an input of shape (N, ",
                 c, ", H, W), got ", x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    const bool tracking = options_.track_running_stats();
    if (!is_training() && tracking)
        return batch_norm(x, running_mean_, running_var_, weight_, bias_, false, 0.0, options_.eps());

    double momentum = options_.momentum().value_or(0.0);
    if (is_training() && tracking) {
        NoGradGuard no_grad;
        add_(num_batches_tracked_, ones({}, DType::Int64, num_batches_tracked_.device()));
        if (!options_.momentum()) momentum = 1.0 / static_cast<double>(num_batches_tracked_.item<int64_t>());
    }
    // In training the running statistics are updated; with track_running_stats false there are none.
    const bool update = is_training() && tracking;
    return batch_norm(x, update ? running_mean_ : Tensor(), update ? running_var_ : Tensor(), weight_, bias_, true,
                      momentum, options_.eps());
}

std::string BatchNorm2d::extra_repr() const {
    std::ostringstream s;
    s << options_.num_features() << ", eps=" << options_.eps() << ", momentum=";
    if (options_.momentum())
        s << *options_.momentum();
    else
        s << "None";
    s << ", affine=" << (options_.affine() ? "True" : "False")
      << ", track_running_stats=" << (options_.track_running_stats() ? "True" : "False");
    return s.str();
}

}  // namespace engine::nn
