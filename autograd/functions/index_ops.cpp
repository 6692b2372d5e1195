// Indexing ops with PyTorch's shape rules: gather, scatter (src or value), scatter_add, index_select and
// one_hot. Index ranges are checked by the kernels (they read the data); shapes and dtypes here.
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

void check_index_tensor(const char* op, const Tensor& index, const Tensor& x) {
    ENGINE_CHECK(index.defined(), op, ": index is undefined");
    ENGINE_CHECK(index.dtype() == DType::Int64 || index.dtype() == DType::Int32, op,
                 ": index must be int64 or int32, got ", dtype_name(index.dtype()));
    check_same_device(op, x, index);
}

// gather / scatter: index has x's rank and, outside `dim`, sizes no larger than x's (`what` names x).
void check_index_fits(const char* op, const Tensor& index, const Tensor& x, int64_t dim, bool including_dim,
                      const char* what) {
    ENGINE_CHECK(index.dim() == x.dim(), op, ": index of shape ", shape_str(index.shape()),
                 " must have as many dims as ", what, " of shape ", shape_str(x.shape()));
    for (int64_t d = 0; d < x.dim(); ++d) {
        if (d == dim && !including_dim) continue;
        ENGINE_CHECK(index.shape()[d] <= x.shape()[d], op, ": index of shape ", shape_str(index.shape()),
                     " is larger than ", what, " of shape ", shape_str(x.shape()), " at dim ", d);
    }
}

// gather(g) as a gradient of src, zero outside the part of src that index covers.
Tensor src_grad(const Tensor& g, int64_t dim, const Tensor& index, const Shape& src_shape) {
    Tensor picked = backend_for(g).gather(g, dim, index);
    if (picked.shape() == src_shape) return picked;
    Tensor full_grad = zeros(src_shape, g.dtype(), g.device());
    make_view(full_grad, index.shape(), full_grad.strides(), 0).copy_(picked);
    return full_grad;
}

Tensor scatter_op(const char* op, const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                  ScatterReduce reduce) {
    ENGINE_CHECK(self.defined() && src.defined(), op, ": an input is undefined");
    check_index_tensor(op, index, self);
    check_same_device(op, self, src);
    ENGINE_CHECK(self.dtype() == src.dtype(), op, ": self (", dtype_name(self.dtype()), ") and src (",
                 dtype_name(src.dtype()), ") must have the same dtype");
    const int64_t d = normalize_dim(dim, self.dim(), op);
    check_index_fits(op, index, self, d, false, "self");
    check_index_fits(op, index, src, d, true, "src");
    Tensor out = backend_for(self).scatter(self, d, index, src, reduce);
    if (needs_grad({self, src})) {
        record(op, {self, src}, {out},
               [d, reduce, is = SavedTensor(index), src_shape = src.shape()](const TensorList& g,
                                                                             const std::vector<bool>& needs) {
                   const Tensor idx = is.get();
                   Tensor g_self, g_src;
                   if (needs[0]) {
                       // Overwritten positions lose their gradient; added ones keep it.
                       g_self =
                           reduce == ScatterReduce::Add ? g[0] : backend_for(g[0]).scatter_value(g[0], d, idx, 0.0);
                   }
                   if (needs[1]) g_src = src_grad(g[0], d, idx, src_shape);
                   return TensorList{g_self, g_src};
               });
    }
    return out;
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
    ENGINE_CHECK(x.defined(), "gather: the input is undefined");
    check_index_tensor("gather", index, x);
    const int64_t d = normalize_dim(dim, x.dim(), "gather");
    check_index_fits("gather", index, x, d, false, "the input");
    Tensor out = backend_for(x).gather(x, d, index);
    if (needs_grad({x})) {
        record("gather", {x}, {out},
               [d, is = SavedTensor(index), shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
                   const Tensor zero = zeros(shape, g[0].dtype(), g[0].device());
                   return TensorList{backend_for(g[0]).scatter(zero, d, is.get(), g[0], ScatterReduce::Add)};
               });
    }
    return out;
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
    return scatter_op("scatter", self, dim, index, src, ScatterReduce::None);
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
    return scatter_op("scatter_add", self, dim, index, src, ScatterReduce::Add);
}

Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, double value) {
    ENGINE_CHECK(self.defined(), "scatter: the input is undefined");
    check_index_tensor("scatter", index, self);
    const int64_t d = normalize_dim(dim, self.dim(), "scatter");
    check_index_fits("scatter", index, self, d, false, "self");
    Tensor out = backend_for(self).scatter_value(self, d, index, value);
    if (needs_grad({self})) {
        record("scatter", {self}, {out}, [d, is = SavedTensor(index)](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).scatter_value(g[0], d, is.get(), 0.0)};
        });
    }
    return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
    ENGINE_CHECK(x.defined(), "index_select: the input is undefined");
    check_index_tensor("index_select", index, x);
    ENGINE_CHECK(index.dim() <= 1, "index_select: index must be 0-d or 1-d, got shape ", shape_str(index.shape()));
    const int64_t d = normalize_dim(dim, x.dim(), "index_select");
    ENGINE_CHECK(x.dim() > 0 || index.numel() == 1, "index_select: index into a 0-d tensor can have only 1 value, got ",
                 index.numel());
    Tensor out = backend_for(x).index_select(x, d, index);
    if (needs_grad({x})) {
        record("index_select", {x}, {out},
               [d, is = SavedTensor(index), shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
                   const Tensor zero = zeros(shape, g[0].dtype(), g[0].device());
                   return TensorList{backend_for(g[0]).index_add(zero, d, is.get(), g[0])};
               });
    }
    return out;
}

Tensor one_hot(const Tensor& index, int64_t num_classes) {
    ENGINE_CHECK(index.defined(), "one_hot: the input is undefined");
    ENGINE_CHECK(index.dtype() == DType::Int64 || index.dtype() == DType::Int32,
                 "one_hot: expected an int64 class-index tensor, got ", dtype_name(index.dtype()));
    ENGINE_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 or non-negative, got ", num_classes);
    const Tensor idx = index.detach().to(DType::Int64);
    if (idx.numel() > 0) {
        const int64_t lowest = backend_for(idx).reduce(ReduceOp::Min, idx, {}, false).item<int64_t>();
        const int64_t highest = backend_for(idx).reduce(ReduceOp::Max, idx, {}, false).item<int64_t>();
        ENGINE_CHECK(lowest >= 0, "one_hot: class values must be non-negative, got ", lowest);
        if (num_classes == -1) num_classes = highest + 1;
        ENGINE_CHECK(highest < num_classes, "one_hot: class value ", highest, " is not smaller than num_classes ",
                     num_classes);
    } else {
        ENGINE_CHECK(num_classes != -1, "one_hot: cannot infer the number of classes from an empty tensor; pass ",
                     "num_classes");
    }
    Shape shape = idx.shape();
    shape.push_back(num_classes);
    Tensor out = zeros(shape, DType::Int64, idx.device());
    if (out.numel() == 0) return out;
    return backend_for(idx).scatter_value(out, idx.dim(), idx.unsqueeze(-1), 1.0);
}

}  // namespace engine
