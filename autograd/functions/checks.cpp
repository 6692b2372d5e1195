// Input checks shared by the op implementations: each names the op and the offending shapes or dtypes.
#include <algorithm>

#include "autograd/ops.h"

namespace engine {

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
    ENGINE_CHECK(a.device() == b.device(), op, ": tensors on different devices (", a.device().str(), " and ",
                 b.device().str(), "); move one with to()");
}

void check_floating(const char* op, const Tensor& t, const char* what) {
    ENGINE_CHECK(t.defined(), op, ": ", what, " is undefined");
    ENGINE_CHECK(is_floating(t.dtype()), op, ": ", what, " must be float32 or float64, got ", dtype_name(t.dtype()));
}

void check_dim(const char* op, const Tensor& t, int64_t ndim, const char* what) {
    ENGINE_CHECK(t.defined(), op, ": ", what, " is undefined");
    ENGINE_CHECK(t.dim() == ndim, op, ": ", what, " must have ", ndim, " dims, got shape ", shape_str(t.shape()));
}

std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
    std::vector<int64_t> out;
    out.reserve(dims.size());
    for (int64_t d : dims) out.push_back(normalize_dim(d, ndim, op));
    std::sort(out.begin(), out.end());
    ENGINE_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": a dim appears twice in ",
                 shape_str(dims));
    return out;
}

}  // namespace engine
