// Matrix products: torch.matmul (1-D promotion, batch broadcasting) built from recorded views around one
// differentiable batched product, and linear (x @ weight^T + bias) as a single node.
#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

Shape leading(const Shape& s, size_t drop) { return Shape(s.begin(), s.end() - static_cast<std::ptrdiff_t>(drop)); }

// a (B, M, K) @ b (B, K, N), or 2-D @ 2-D: the differentiable core that the backend computes. The gradients
// are products with transposed views, which the backend reads in place (no copies).
Tensor product(const Tensor& a, const Tensor& b) {
    Tensor out = backend_for(a).matmul(a, b);
    if (needs_grad({a, b})) {
        // Each operand is only needed for the other's gradient.
        record("matmul", {a, b}, {out},
               [as = b.requires_grad() ? SavedTensor(a) : SavedTensor(),
                bs = a.requires_grad() ? SavedTensor(b) : SavedTensor()](const TensorList& g,
                                                                         const std::vector<bool>& needs) {
                   Backend& backend = backend_for(g[0]);
                   Tensor ga, gb;
                   if (needs[0]) ga = backend.matmul(g[0], bs.get().transpose(-1, -2));
                   if (needs[1]) gb = backend.matmul(as.get().transpose(-1, -2), g[0]);
                   return TensorList{ga, gb};
               });
    }
    return out;
}

void check_operands(const char* op, const Tensor& a, const Tensor& b, const char* a_name, const char* b_name) {
    check_floating(op, a, a_name);
    check_floating(op, b, b_name);
    check_same_device(op, a, b);
    ENGINE_CHECK(a.dtype() == b.dtype(), op, ": ", a_name, " and ", b_name, " must have the same dtype, got ",
                 dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
    if (const std::optional<DType> low = autocast_dtype()) {  // autocast: the product in 16 bits
        const AutocastGuard off(std::nullopt);
        return matmul(autocast::cast_floating(a_in, *low), autocast::cast_floating(b_in, *low));
    }
    check_operands("matmul", a_in, b_in, "the first operand", "the second operand");
    ENGINE_CHECK(a_in.dim() >= 1 && b_in.dim() >= 1, "matmul: both operands need at least 1 dim, got shapes ",
                 shape_str(a_in.shape()), " and ", shape_str(b_in.shape()));
    const bool a_vector = a_in.dim() == 1, b_vector = b_in.dim() == 1;
    const Tensor a = a_vector ? a_in.unsqueeze(0) : a_in;   // (K) -> (1, K)
    const Tensor b = b_vector ? b_in.unsqueeze(-1) : b_in;  // (K) -> (K, 1)
    const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    ENGINE_CHECK(b.size(-2) == k, "matmul: shapes ", shape_str(a_in.shape()), " and ", shape_str(b_in.shape()),
                 " cannot be multiplied (", k, " vs ", b.size(-2), " in the contracted dim)");

    Tensor out;
    if (a.dim() == 2 && b.dim() == 2) {
        out = product(a, b);
    } else if (b.dim() == 2) {
        // Batch of a times one matrix: fold the batch into the rows, one large GEMM.
        const Shape batch = leading(a.shape(), 2);
        const int64_t rows = shape_numel(batch) * m;
        Shape out_shape = batch;
        out_shape.insert(out_shape.end(), {m, n});
        out = product(a.reshape({rows, k}), b).view(out_shape);
    } else {
        const Shape batch = broadcast_shapes(leading(a.shape(), 2), leading(b.shape(), 2), "matmul");
        const int64_t count = shape_numel(batch);
        Shape a_shape = batch, b_shape = batch, out_shape = batch;
        a_shape.insert(a_shape.end(), {m, k});
        b_shape.insert(b_shape.end(), {k, n});
        out_shape.insert(out_shape.end(), {m, n});
        // Broadcast batches stay stride-0 views when the reshape can keep them so; the backend reads them as is.
        const Tensor a3 = a.expand(a_shape).reshape({count, m, k});
        const Tensor b3 = b.expand(b_shape).reshape({count, k, n});
        out = product(a3, b3).view(out_shape);
    }
    if (a_vector) out = out.squeeze(-2);
    if (b_vector) out = out.squeeze(-1);
    return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    if (const std::optional<DType> low = autocast_dtype()) {  // autocast: the product in 16 bits
        const AutocastGuard off(std::nullopt);
        return linear(autocast::cast_floating(x, *low), autocast::cast_floating(weight, *low),
                      autocast::cast_floating(bias, *low));
    }
    check_operands("linear", x, weight, "input", "weight");
    check_dim("linear", weight, 2, "weight");
    ENGINE_CHECK(x.dim() >= 1, "linear: the input needs at least 1 dim, got shape ", shape_str(x.shape()));
    const int64_t in = weight.size(1), out_features = weight.size(0);
    ENGINE_CHECK(x.size(-1) == in, "linear: input of shape ", shape_str(x.shape()), " has ", x.size(-1),
                 " features but weight of shape ", shape_str(weight.shape()), " expects ", in);
    if (bias.defined()) {
        check_operands("linear", x, bias, "input", "bias");
        ENGINE_CHECK(bias.dim() == 1 && bias.size(0) == out_features, "linear: bias must have shape [",
                     out_features, "] for weight of shape ", shape_str(weight.shape()), ", got ",
                     shape_str(bias.shape()));
    }
    const Shape lead = leading(x.shape(), 1);
    const int64_t rows = shape_numel(lead);
    Backend& backend = backend_for(x);
    const Tensor x2 = x.detach().reshape({rows, in});
    Tensor y2 = backend.matmul(x2, weight.detach().t());
    if (bias.defined()) backend.binary_(BinaryOp::Add, y2, bias.detach());
    Shape y_shape = lead;
    y_shape.push_back(out_features);
    Tensor y = make_view(y2, y_shape, contiguous_strides(y_shape), y2.offset());
    if (needs_grad({x, weight, bias})) {
        record("linear", {x, weight, bias}, {y},
               [x_shape = x.shape(), rows, out_features,
                xs = weight.requires_grad() ? SavedTensor(x2) : SavedTensor(),
                ws = x.requires_grad() ? SavedTensor(weight) : SavedTensor()](const TensorList& g,
                                                                               const std::vector<bool>& needs) {
                   Backend& be = backend_for(g[0]);
                   const Tensor g2 = g[0].reshape({rows, out_features});
                   Tensor gx, gw, gb;
                   if (needs[0]) {
                       const Tensor gx2 = be.matmul(g2, ws.get());
                       gx = make_view(gx2, x_shape, contiguous_strides(x_shape), gx2.offset());
                   }
                   if (needs[1]) gw = be.matmul(g2.t(), xs.get());
                   if (needs[2]) gb = be.reduce(ReduceOp::Sum, g2, {0}, false);
                   return TensorList{gx, gw, gb};
               });
    }
    return y;
}

}  // namespace engine
