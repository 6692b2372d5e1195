// What both backends' pad kernels share: the padded shape, the (planes, H, W) view of a reflect / replicate pad
// of the last one or two dims, and which input index each padded position reads.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/host_device.h"
#include "kernels/params.h"
#include "runtime/shape.h"

namespace engine {

// pads holds (before, after) pairs from the last dim backwards, as torch.nn.functional.pad.
inline Shape padded_shape(const Shape& x_shape, const std::vector<int64_t>& pads) {
    Shape out = x_shape;
    for (size_t i = 0; 2 * i < pads.size(); ++i) out[out.size() - 1 - i] += pads[2 * i] + pads[2 * i + 1];
    return out;
}

// The last one or two dims as (planes, H, W); a 1-D pad has H = 1 and no top/bottom padding.
struct PadPlanes {
    int64_t planes, in_h, in_w, out_h, out_w, top, left;
    bool reflect;  // else replicate
};

inline PadPlanes pad_planes(const Shape& x_shape, const std::vector<int64_t>& pads, PadMode mode) {
    const size_t nd = x_shape.size();
    const bool two_d = pads.size() == 4;
    PadPlanes p{1, two_d ? x_shape[nd - 2] : 1, x_shape[nd - 1], 1,
                1, two_d ? pads[2] : 0,         pads[0],         mode == PadMode::Reflect};
    for (size_t d = 0; d < nd - (two_d ? 2 : 1); ++d) p.planes *= x_shape[d];
    p.out_w = p.in_w + pads[0] + pads[1];
    p.out_h = two_d ? p.in_h + pads[2] + pads[3] : 1;
    return p;
}

// Input index that padded position j (in input coordinates, j = output index - left pad) reads from an axis of
// n >= 1 elements: the nearest edge (replicate) or the mirror image without repeating the edge (reflect).
ENGINE_HOST_DEVICE inline int64_t pad_source(int64_t j, int64_t n, bool reflect) {
    if (!reflect) return j < 0 ? 0 : (j >= n ? n - 1 : j);
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    return j;
}

}  // namespace engine
