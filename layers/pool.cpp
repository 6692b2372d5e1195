// Pooling modules over the max_pool2d / avg_pool2d / adaptive_avg_pool2d ops.
#include "layers/pool.h"

namespace engine::nn {
namespace {

void check_pool(const char* layer, Size2 kernel, Size2 stride, Size2 padding) {
    ENGINE_CHECK(kernel.h > 0 && kernel.w > 0, layer, ": kernel_size must be positive, got ", kernel.str());
    ENGINE_CHECK(stride.h > 0 && stride.w > 0, layer, ": stride must be positive, got ", stride.str());
    ENGINE_CHECK(padding.h >= 0 && padding.w >= 0 && 2 * padding.h <= kernel.h && 2 * padding.w <= kernel.w, layer,
                 ": padding ", padding.str(), " should be at most half of kernel_size ", kernel.str());
}

Size2 stride_or_kernel(Size2 stride, Size2 kernel) { return stride == Size2(0) ? kernel : stride; }

const char* py_bool(bool b) { return b ? "True" : "False"; }

}  // namespace

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options) : options_(options) {
    check_pool("MaxPool2d", options_.kernel_size(), stride_or_kernel(options_.stride(), options_.kernel_size()),
               options_.padding());
    ENGINE_CHECK(options_.dilation().h > 0 && options_.dilation().w > 0, "MaxPool2d: dilation must be positive, got ",
                 options_.dilation().str());
}

Pool2dParams MaxPool2d::params() const {
    const Size2 k = options_.kernel_size(), s = stride_or_kernel(options_.stride(), k), p = options_.padding(),
                d = options_.dilation();
    Pool2dParams out;
    out.kernel_h = k.h, out.kernel_w = k.w, out.stride_h = s.h, out.stride_w = s.w;
    out.pad_h = p.h, out.pad_w = p.w, out.dilation_h = d.h, out.dilation_w = d.w;
    out.ceil_mode = options_.ceil_mode();
    return out;
}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, params()); }

std::string MaxPool2d::extra_repr() const {
    const Size2 k = options_.kernel_size(), s = stride_or_kernel(options_.stride(), k);
    auto one = [](Size2 v) { return v.h == v.w ? std::to_string(v.h) : v.str(); };
    return "kernel_size=" + one(k) + ", stride=" + one(s) + ", padding=" + one(options_.padding()) +
           ", dilation=" + one(options_.dilation()) + ", ceil_mode=" + py_bool(options_.ceil_mode());
}

AvgPool2d::AvgPool2d(const AvgPool2dOptions& options) : options_(options) {
    check_pool("AvgPool2d", options_.kernel_size(), stride_or_kernel(options_.stride(), options_.kernel_size()),
               options_.padding());
}

Pool2dParams AvgPool2d::params() const {
    const Size2 k = options_.kernel_size(), s = stride_or_kernel(options_.stride(), k), p = options_.padding();
    Pool2dParams out;
    out.kernel_h = k.h, out.kernel_w = k.w, out.stride_h = s.h, out.stride_w = s.w;
    out.pad_h = p.h, out.pad_w = p.w;
    out.ceil_mode = options_.ceil_mode();
    out.count_include_pad = options_.count_include_pad();
    return out;
}

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, params()); }

std::string AvgPool2d::extra_repr() const {
    const Size2 k = options_.kernel_size(), s = stride_or_kernel(options_.stride(), k);
    auto one = [](Size2 v) { return v.h == v.w ? std::to_string(v.h) : v.str(); };
    return "kernel_size=" + one(k) + ", stride=" + one(s) + ", padding=" + one(options_.padding());
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 output_size) : output_size_(output_size) {
    ENGINE_CHECK(output_size.h > 0 && output_size.w > 0, "AdaptiveAvgPool2d: output_size must be positive, got ",
                 output_size.str());
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, output_size_.h, output_size_.w); }

}  // namespace engine::nn
