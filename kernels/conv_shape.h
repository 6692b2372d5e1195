// The sizes of one 2-D convolution, shared by the CPU and CUDA convolution implementations: input (n, c, h, w),
// weight (o, c / groups, kh, kw), output (n, o, oh, ow) and the parameters.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/params.h"
#include "runtime/error.h"
#include "runtime/shape.h"

namespace engine {

// The input may be larger than the output needs (transposed convolution's output_padding): rows and columns
// that no output reaches get zero gradient.
struct ConvShape {
    int64_t n, c, h, w;
    int64_t o, kh, kw;
    int64_t oh, ow;
    Conv2dParams p;

    int64_t group_in() const { return c / p.groups; }
    int64_t group_out() const { return o / p.groups; }
    // Right/bottom padding that makes (h + pad_h + pad_bottom - kernel extent) / stride + 1 == oh exactly;
    // negative when trailing input rows are unused.
    int64_t pad_bottom() const { return (oh - 1) * p.stride_h + (kh - 1) * p.dilation_h + 1 - h - p.pad_h; }
    int64_t pad_right() const { return (ow - 1) * p.stride_w + (kw - 1) * p.dilation_w + 1 - w - p.pad_w; }
    // "x [2, 3, 9, 9], w [4, 3, 3, 3], y [2, 4, 9, 9], stride 1x1, ..." for errors.
    std::string str() const {
        return detail::concat("x ", shape_str({n, c, h, w}), ", w ", shape_str({o, group_in(), kh, kw}), ", y ",
                              shape_str({n, o, oh, ow}), ", stride ", p.stride_h, "x", p.stride_w, ", padding ",
                              p.pad_h, "x", p.pad_w, ", dilation ", p.dilation_h, "x", p.dilation_w, ", groups ",
                              p.groups);
    }
};

inline ConvShape conv_shape(const Shape& x_shape, const Shape& w_shape, int64_t oh, int64_t ow,
                            const Conv2dParams& p) {
    return ConvShape{x_shape[0], x_shape[1], x_shape[2], x_shape[3], w_shape[0], w_shape[2], w_shape[3], oh, ow, p};
}

}  // namespace engine
