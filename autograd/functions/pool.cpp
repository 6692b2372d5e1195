// Pooling ops (max, average, adaptive average) over (N,C,H,W) or (C,H,W) inputs: PyTorch's parameter checks
// and the gradients of the pooled values.
#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "kernels/pool_shape.h"

namespace engine {
namespace {

// 3-D (C,H,W) or 4-D (N,C,H,W) with non-empty C, H, W (the batch may be empty), as PyTorch requires.
void check_pool_input(const char* op, const Tensor& x) {
    ENGINE_CHECK(x.defined(), op, ": the input is undefined");
    ENGINE_CHECK(x.dim() == 3 || x.dim() == 4, op, ": expected a 3-D (C,H,W) or 4-D (N,C,H,W) input, got shape ",
                 shape_str(x.shape()));
    for (int64_t d = x.dim() - 3; d < x.dim(); ++d)
        ENGINE_CHECK(x.size(d) > 0, op, ": expected non-zero sizes for the non-batch dims, got shape ",
                     shape_str(x.shape()));
}

void check_pool_params(const char* op, const Tensor& x, const Pool2dParams& p, bool max_pool) {
    ENGINE_CHECK(p.kernel_h > 0 && p.kernel_w > 0, op, ": kernel size must be greater than zero, got kernel_h=",
                 p.kernel_h, ", kernel_w=", p.kernel_w);
    ENGINE_CHECK(p.stride_h >= 0 && p.stride_w >= 0, op, ": stride must be greater than zero (0 means the kernel ",
                 "size), got stride_h=", p.stride_h, ", stride_w=", p.stride_w);
    ENGINE_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op, ": padding must be non-negative, got pad_h=", p.pad_h,
                 ", pad_w=", p.pad_w);
    if (max_pool) {
        ENGINE_CHECK(p.dilation_h > 0 && p.dilation_w > 0, op, ": dilation must be greater than zero, got dilation_h=",
                     p.dilation_h, ", dilation_w=", p.dilation_w);
    } else {
        ENGINE_CHECK(p.dilation_h == 1 && p.dilation_w == 1, op, ": dilation is not supported (got dilation_h=",
                     p.dilation_h, ", dilation_w=", p.dilation_w, "); it applies to max pooling only");
    }
    ENGINE_CHECK(p.pad_h <= p.kernel_h / 2 && p.pad_w <= p.kernel_w / 2, op,
                 ": pad should be at most half of kernel size, but got pad_h=", p.pad_h, ", pad_w=", p.pad_w,
                 ", kernel_h=", p.kernel_h, ", kernel_w=", p.kernel_w);
    const int64_t dil_h = max_pool ? p.dilation_h : 1, dil_w = max_pool ? p.dilation_w : 1;
    const int64_t in_h = x.size(-2), in_w = x.size(-1), channels = x.size(-3);
    const int64_t out_h = pool_out_h(in_h, p, dil_h), out_w = pool_out_w(in_w, p, dil_w);
    ENGINE_CHECK(out_h >= 1 && out_w >= 1, op, ": Given input size: (", channels, "x", in_h, "x", in_w,
                 "). Calculated output size: (", channels, "x", out_h, "x", out_w,
                 "). Output size is too small (kernel ", p.kernel_h, "x", p.kernel_w, ", stride ", pool_stride_h(p),
                 "x", pool_stride_w(p), ", padding ", p.pad_h, "x", p.pad_w, ", dilation ", dil_h, "x", dil_w, ")");
}

std::pair<Tensor, Tensor> max_pool2d_4d(const Tensor& x, const Pool2dParams& p) {
    auto [y, indices] = backend_for(x).max_pool2d_forward(x, p);
    if (needs_grad({x})) {
        record("max_pool2d", {x}, {y, indices},
               [is = SavedTensor(indices), x_shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
                   return TensorList{backend_for(g[0]).max_pool2d_backward(g[0], is.get(), x_shape)};
               });
    }
    return {y, indices};
}

Tensor avg_pool2d_4d(const Tensor& x, const Pool2dParams& p) {
    Tensor y = backend_for(x).avg_pool2d_forward(x, p);
    if (needs_grad({x})) {
        record("avg_pool2d", {x}, {y}, [p, x_shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).avg_pool2d_backward(g[0], x_shape, p)};
        });
    }
    return y;
}

Tensor adaptive_avg_pool2d_4d(const Tensor& x, int64_t out_h, int64_t out_w) {
    Tensor y = backend_for(x).adaptive_avg_pool2d_forward(x, out_h, out_w);
    if (needs_grad({x})) {
        record("adaptive_avg_pool2d", {x}, {y}, [x_shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).adaptive_avg_pool2d_backward(g[0], x_shape)};
        });
    }
    return y;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = autocast::float32_input(x_in);
    check_pool_input("max_pool2d", x);
    ENGINE_CHECK(x.dtype() != DType::Bool, "max_pool2d: not implemented for bool tensors");
    check_pool_params("max_pool2d", x, p, /*max_pool=*/true);
    if (x.dim() == 3) {
        auto [y, indices] = max_pool2d_4d(x.unsqueeze(0), p);
        return {y.squeeze(0), indices.squeeze(0)};
    }
    return max_pool2d_4d(x, p);
}

Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) { return max_pool2d_with_indices(x, p).first; }

Tensor avg_pool2d(const Tensor& x_in, const Pool2dParams& p) {
    const Tensor x = autocast::float32_input(x_in);
    check_pool_input("avg_pool2d", x);
    ENGINE_CHECK(is_floating(x.dtype()) || x.dtype() == DType::Int64,
                 "avg_pool2d: expected a float32, float64 or int64 input, got ", dtype_name(x.dtype()));
    check_pool_params("avg_pool2d", x, p, /*max_pool=*/false);
    if (x.dim() == 3) return avg_pool2d_4d(x.unsqueeze(0), p).squeeze(0);
    return avg_pool2d_4d(x, p);
}

Tensor adaptive_avg_pool2d(const Tensor& x_in, int64_t out_h, int64_t out_w) {
    const Tensor x = autocast::float32_input(x_in);
    check_pool_input("adaptive_avg_pool2d", x);
    check_floating("adaptive_avg_pool2d", x);
    ENGINE_CHECK(out_h >= 0 && out_w >= 0, "adaptive_avg_pool2d: output size must be non-negative, got (", out_h,
                 ", ", out_w, ") for input shape ", shape_str(x.shape()));
    if (x.dim() == 3) return adaptive_avg_pool2d_4d(x.unsqueeze(0), out_h, out_w).squeeze(0);
    return adaptive_avg_pool2d_4d(x, out_h, out_w);
}

}  // namespace engine
