// interpolate / interpolate_scale: nearest and bilinear resampling of (N,C,H,W) inputs to a size or by scale
// factors (as F.interpolate), with PyTorch's argument checks and the gradient w.r.t. the input.
#include <cmath>

#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

const char* mode_name(InterpMode mode) { return mode == InterpMode::Nearest ? "nearest" : "bilinear"; }

void check_interp_input(const Tensor& x, InterpMode mode, bool align_corners) {
    check_floating("interpolate", x);
    ENGINE_CHECK(x.dim() == 4, "interpolate: expected a 4-D (N,C,H,W) input for ", mode_name(mode),
                 " mode, got shape ", shape_str(x.shape()));
    ENGINE_CHECK(x.size(1) > 0 && x.size(2) > 0 && x.size(3) > 0,
                 "interpolate: expected non-zero sizes for the non-batch dims, got shape ", shape_str(x.shape()));
    ENGINE_CHECK(!(align_corners && mode == InterpMode::Nearest),
                 "interpolate: align_corners option can only be set with the interpolating modes (bilinear), not "
                 "with nearest");
}

Tensor interpolate_impl(const Tensor& x, int64_t out_h, int64_t out_w, const InterpParams& p) {
    ENGINE_CHECK(out_h > 0 && out_w > 0, "interpolate: input and output sizes should be greater than 0, but got "
                 "input (H: ", x.size(2), ", W: ", x.size(3), ") output (H: ", out_h, ", W: ", out_w, ")");
    Tensor y = backend_for(x).interpolate_forward(x, out_h, out_w, p);
    if (needs_grad({x})) {
        record("interpolate", {x}, {y}, [p, x_shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).interpolate_backward(g[0], x_shape, p)};
        });
    }
    return y;
}

}  // namespace

Tensor interpolate(const Tensor& x_in, int64_t out_h, int64_t out_w, InterpMode mode, bool align_corners) {
    const Tensor x = autocast::float32_input(x_in);
    check_interp_input(x, mode, align_corners);
    InterpParams p;
    p.mode = mode;
    p.align_corners = align_corners;
    return interpolate_impl(x, out_h, out_w, p);
}

Tensor interpolate_scale(const Tensor& x_in, double scale_h, double scale_w, InterpMode mode,
                         bool align_corners) {
    const Tensor x = autocast::float32_input(x_in);
    check_interp_input(x, mode, align_corners);
    ENGINE_CHECK(std::isfinite(scale_h) && std::isfinite(scale_w) && scale_h > 0 && scale_w > 0,
                 "interpolate: scale factors must be positive and finite, got (", scale_h, ", ", scale_w, ")");
    InterpParams p;
    p.mode = mode;
    p.align_corners = align_corners;
    p.scale_h = scale_h;
    p.scale_w = scale_w;
    const auto out_h = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale_h));
    const auto out_w = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale_w));
    return interpolate_impl(x, out_h, out_w, p);
}

}  // namespace engine
