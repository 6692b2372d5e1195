// Reductions (sum, mean, max / min, amax / amin, argmax / argmin, var, std) and their gradients. Ties share
// the gradient evenly for max() over all elements and amax / amin, as in PyTorch; max / min along a dim send
// it to the returned index.
#include <algorithm>
#include <cmath>

#include "autograd/finite.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

// x's shape with the reduced dims set to 1 (all of them when dims is empty).
Shape kept_shape(const Shape& shape, const std::vector<int64_t>& dims) {
    Shape out = shape;
    for (size_t d = 0; d < out.size(); ++d) {
        if (dims.empty() || std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end()) out[d] = 1;
    }
    return out;
}

// Number of elements folded into each output element.
int64_t reduced_count(const Shape& shape, const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (dims.empty() || std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end()) n *= shape[d];
    }
    return n;
}

// A reduction result (or its gradient) viewed with the reduced dims restored as size 1.
Tensor with_kept_dims(const Tensor& t, const Shape& x_shape, const std::vector<int64_t>& dims) {
    return t.reshape(kept_shape(x_shape, dims));
}

// Gradient of a reduction whose output broadcasts back over the reduced dims.
Tensor broadcast_back(const Tensor& g, const Shape& x_shape, const std::vector<int64_t>& dims) {
    return with_kept_dims(g, x_shape, dims).expand(x_shape);
}

void check_input(const char* op, const Tensor& x) { ENGINE_CHECK(x.defined(), op, ": the input is undefined"); }

// max / min / amax / amin / argmax / argmin refuse to reduce over an empty extent.
void check_nonempty_dims(const char* op, const Tensor& x, const std::vector<int64_t>& dims) {
    for (int64_t d : dims) {
        ENGINE_CHECK(x.dim() == 0 || x.shape()[d] > 0, op, ": cannot reduce over dim ", d, " of size 0 (input shape ",
                     shape_str(x.shape()), ")");
    }
    if (dims.empty()) {
        ENGINE_CHECK(x.numel() > 0, op, ": cannot reduce an empty tensor of shape ", shape_str(x.shape()),
                     " over all dims; pass a dim");
    }
}

Tensor extreme_all(const char* op, ReduceOp rop, const Tensor& x) {
    check_input(op, x);
    check_nonempty_dims(op, x, {});
    Tensor y = backend_for(x).reduce(rop, x, {}, false);
    if (needs_grad({x})) {
        record(op, {x}, {y}, [xs = SavedTensor(x), ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
            const Tensor xv = xs.get(), yv = ys.get();
            // Every element equal to the result shares the gradient (NaN matches NaN, as in PyTorch); no
            // host round trip, so this also suits device tensors.
            const Tensor mask = where(ne(yv, yv), ne(xv, xv), eq(xv, yv));
            const Tensor count = sum(mask).to(g[0].dtype());
            return TensorList{where(mask, div(g[0], count), 0.0)};
        });
    }
    return y;
}

std::pair<Tensor, Tensor> extreme_dim(const char* op, ReduceOp rop, const Tensor& x, int64_t dim, bool keepdim) {
    check_input(op, x);
    const int64_t d = normalize_dim(dim, x.dim(), op);
    check_nonempty_dims(op, x, {d});
    auto [values, indices] = backend_for(x).reduce_with_index(rop, x, d, keepdim);
    if (needs_grad({x})) {
        record(
            op, {x}, {values, indices},
            [d, keepdim, shape = x.shape(), is = SavedTensor(indices)](const TensorList& g, const std::vector<bool>&) {
                if (shape.empty()) return TensorList{g[0]};
                const Tensor idx = keepdim ? is.get() : is.get().unsqueeze(d);
                const Tensor gk = keepdim ? g[0] : g[0].unsqueeze(d);
                const Tensor zero = zeros(shape, g[0].dtype(), g[0].device());
                return TensorList{backend_for(gk).scatter(zero, d, idx, gk, ScatterReduce::None)};
            });
    }
    return {values, indices};
}

Tensor extreme_dims(const char* op, ReduceOp rop, const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
    check_input(op, x);
    const std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), op);
    check_nonempty_dims(op, x, dims);
    Tensor y = backend_for(x).reduce(rop, x, dims, keepdim);
    if (needs_grad({x})) {
        record(op, {x}, {y},
               [dims, xs = SavedTensor(x), ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
                   const Tensor xv = xs.get();
                   const Tensor mask = eq(xv, with_kept_dims(ys.get(), xv.shape(), dims));
                   const Tensor count = sum(mask, dims, true).to(g[0].dtype());
                   const Tensor share = div(with_kept_dims(g[0], xv.shape(), dims), count);
                   // A product, not a select: a NaN result (no element equals it) gives NaN, as in PyTorch.
                   return TensorList{mul(share, mask.to(share.dtype()))};
               });
    }
    return y;
}

Tensor arg_extreme(const char* op, ReduceOp rop, const Tensor& x, int64_t dim, bool keepdim) {
    check_input(op, x);
    const int64_t d = normalize_dim(dim, x.dim(), op);
    check_nonempty_dims(op, x, {d});
    return backend_for(x).reduce_with_index(rop, x.detach(), d, keepdim).second;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
    check_input("sum", x);
    const std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), "sum");
    Tensor y = backend_for(x).reduce(ReduceOp::Sum, x, dims, keepdim);
    if (needs_grad({x})) {
        record("sum", {x}, {y}, [dims, shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{broadcast_back(g[0], shape, dims)};
        });
    }
    return y;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
    check_input("mean", x);
    ENGINE_CHECK(is_floating(x.dtype()), "mean: expected a float32 or float64 input, got ", dtype_name(x.dtype()),
                 " (convert it with to())");
    const std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), "mean");
    Tensor y = backend_for(x).reduce(ReduceOp::Mean, x, dims, keepdim);
    if (needs_grad({x})) {
        const double count = static_cast<double>(reduced_count(x.shape(), dims));
        record("mean", {x}, {y}, [dims, count, shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{broadcast_back(div(g[0], count), shape, dims)};
        });
    }
    return y;
}

Tensor max(const Tensor& x) { return extreme_all("max", ReduceOp::Max, x); }
Tensor min(const Tensor& x) { return extreme_all("min", ReduceOp::Min, x); }

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
    return extreme_dim("max", ReduceOp::Max, x, dim, keepdim);
}

std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
    return extreme_dim("min", ReduceOp::Min, x, dim, keepdim);
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
    return extreme_dims("amax", ReduceOp::Max, x, dims, keepdim);
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
    return extreme_dims("amin", ReduceOp::Min, x, dims, keepdim);
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
    return arg_extreme("argmax", ReduceOp::Max, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
    return arg_extreme("argmin", ReduceOp::Min, x, dim, keepdim);
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
    check_input("var", x);
    ENGINE_CHECK(is_floating(x.dtype()), "var: expected a float32 or float64 input, got ", dtype_name(x.dtype()));
    const std::vector<int64_t> dims = normalize_dims(dims_in, x.dim(), "var");
    Tensor y = backend_for(x).var(x, dims, correction, keepdim);
    if (needs_grad({x})) {
        const double dof = static_cast<double>(reduced_count(x.shape(), dims)) - correction;
        record("var", {x}, {y}, [dims, dof, xs = SavedTensor(x)](const TensorList& g, const std::vector<bool>&) {
            const Tensor xv = xs.get();
            const Tensor centered = sub(xv, mean(xv, dims, true));
            return TensorList{mul(centered, with_kept_dims(mul(g[0], 2.0 / dof), xv.shape(), dims))};
        });
    }
    return y;
}

Tensor std(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) {
    check_input("std", x);
    ENGINE_CHECK(is_floating(x.dtype()), "std: expected a float32 or float64 input, got ", dtype_name(x.dtype()));
    return sqrt(var(x, dims, correction, keepdim));
}

bool all_finite(const Tensor& t) {
    if (!is_floating(t.dtype()) || t.numel() == 0) return true;
    NoGradGuard no_grad;
    // x * 0 is 0 for finite x and NaN for NaN or +-Inf, so one sum answers for the whole tensor.
    return std::isfinite(sum(mul(t, 0.0)).item<double>());
}

}  // namespace engine
