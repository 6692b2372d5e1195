// Pooling parameters for the pooling tests of both backends: a one-line builder for Pool2dParams and the
// (input shape, parameters) case the case tables are made of.
#pragma once

#include <cstdint>

#include "kernels/params.h"
#include "runtime/shape.h"

namespace engine::test {

// Kernel, stride (0 = the kernel size), padding and dilation per axis, in PyTorch's argument order.
inline Pool2dParams pool(int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh = 1,
                         int64_t dw = 1, bool ceil_mode = false, bool count_include_pad = true) {
    Pool2dParams p;
    p.kernel_h = kh;
    p.kernel_w = kw;
    p.stride_h = sh;
    p.stride_w = sw;
    p.pad_h = ph;
    p.pad_w = pw;
    p.dilation_h = dh;
    p.dilation_w = dw;
    p.ceil_mode = ceil_mode;
    p.count_include_pad = count_include_pad;
    return p;
}

struct PoolCase {
    Shape shape;
    Pool2dParams params;
};

}  // namespace engine::test
