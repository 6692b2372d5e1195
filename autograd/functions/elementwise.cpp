// Elementwise ops with broadcasting and dtype promotion, and their gradients.
#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

bool is_whole(double s) { return std::isfinite(s) && std::floor(s) == s; }

// Ops that only make sense on floats compute integer inputs in float32, as PyTorch does for exp(int).
bool unary_needs_float(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg:
        case UnaryOp::Abs:
        case UnaryOp::Sign:
        case UnaryOp::Relu:
        case UnaryOp::Square:
        case UnaryOp::Floor:
        case UnaryOp::Ceil:
        case UnaryOp::Round: return false;
        default: return true;
    }
}

Tensor unary_op(UnaryOp op, const Tensor& input) {
    const char* name = unary_op_name(op);
    ENGINE_CHECK(input.defined(), name, ": the input is undefined");
    ENGINE_CHECK(input.dtype() != DType::Bool, name, ": not defined for bool tensors");
    const Tensor x = unary_needs_float(op) && is_integral(input.dtype()) ? input.to(DType::Float32) : input;
    Tensor y = backend_for(x).unary(op, x);
    if (needs_grad({x})) {
        if (op == UnaryOp::Relu) {
            // relu(x) > 0 exactly where x > 0 (NaN included: relu(NaN) is 0), so y stands in for x and x (in a
            // network, a convolution's output nothing else keeps) is freed after the forward.
            record(name, {x}, {y}, [ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
                const Tensor yv = ys.get();
                return TensorList{backend_for(g[0]).unary_backward(UnaryOp::Relu, yv, yv, g[0])};
            });
            return y;
        }
        record(name, {x}, {y}, [op, xs = SavedTensor(x), ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
            const Tensor xv = xs.get(), yv = ys.get();
            return TensorList{backend_for(g[0]).unary_backward(op, xv, yv, g[0])};
        });
    }
    return y;
}

DType binary_result_dtype(BinaryOp op, DType a, DType b) {
    const DType t = promote_types(a, b);
    return op == BinaryOp::Div && is_integral(t) ? DType::Float32 : t;  // true division, as PyTorch
}

TensorList binary_grads(BinaryOp op, const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& out,
                        const std::vector<bool>& needs) {
    Tensor ga, gb;
    switch (op) {
        case BinaryOp::Add:
            if (needs[0]) ga = g;
            if (needs[1]) gb = g;
            break;
        case BinaryOp::Sub:
            if (needs[0]) ga = g;
            if (needs[1]) gb = neg(g);
            break;
        case BinaryOp::Mul:
            if (needs[0]) ga = mul(g, b);
            if (needs[1]) gb = mul(g, a);
            break;
        case BinaryOp::Div:
            if (needs[0]) ga = div(g, b);
            if (needs[1]) gb = neg(div(mul(g, out), b));
            break;
        case BinaryOp::Pow:
            if (needs[0]) ga = mul(mul(g, b), pow(a, sub(b, 1.0)));
            if (needs[1]) {
                // 0^b with b >= 0 has zero gradient w.r.t. b (log 0 would make it NaN).
                Tensor raw = mul(mul(g, out), log(a));
                gb = where(mul(eq(a, 0.0), ge(b, 0.0)), zeros_like(raw), raw);  // bool * bool is "and"
            }
            break;
        case BinaryOp::Maximum:
        case BinaryOp::Minimum: {
            // Ties split the gradient evenly, as PyTorch does.
            const Tensor loses = op == BinaryOp::Maximum ? lt(a, b) : gt(a, b);
            const Tensor shared = where(eq(a, b), mul(g, 0.5), g);
            if (needs[0]) ga = where(loses, zeros_like(shared), shared);
            if (needs[1]) gb = where(loses, shared, where(eq(a, b), shared, zeros_like(shared)));
            break;
        }
    }
    if (ga.defined()) ga = sum_to_shape(ga, a.shape());
    if (gb.defined()) gb = sum_to_shape(gb, b.shape());
    return {ga, gb};
}

Tensor binary_op(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
    const char* name = binary_op_name(op);
    ENGINE_CHECK(a_in.defined() && b_in.defined(), name, ": an input is undefined");
    check_same_device(name, a_in, b_in);
    broadcast_shapes(a_in.shape(), b_in.shape(), name);
    const DType t = binary_result_dtype(op, a_in.dtype(), b_in.dtype());
    const Tensor a = a_in.to(t), b = b_in.to(t);
    Tensor out = backend_for(a).binary(op, a, b);
    if (needs_grad({a, b})) {
        record(name, {a, b}, {out},
               [op, as = SavedTensor(a), bs = SavedTensor(b), os = SavedTensor(out)](
                   const TensorList& g, const std::vector<bool>& needs) {
                   return binary_grads(op, g[0], as.get(), bs.get(), os.get(), needs);
               });
    }
    return out;
}

Tensor scalar_op(BinaryOp op, const Tensor& input, double s, bool scalar_first) {
    const char* name = binary_op_name(op);
    ENGINE_CHECK(input.defined(), name, ": the input is undefined");
    const bool to_float = is_integral(input.dtype()) && (!is_whole(s) || op == BinaryOp::Div);
    const Tensor a = to_float ? input.to(DType::Float32) : input;
    Tensor out = backend_for(a).binary_scalar(op, a, s, scalar_first);
    if (needs_grad({a})) {
        record(name, {a}, {out},
               [op, s, scalar_first, as = SavedTensor(a), os = SavedTensor(out)](const TensorList& g,
                                                                                 const std::vector<bool>&) {
                   const Tensor& gy = g[0];
                   Tensor ga;
                   switch (op) {
                       case BinaryOp::Add: ga = gy; break;
                       case BinaryOp::Sub: ga = scalar_first ? neg(gy) : gy; break;
                       case BinaryOp::Mul: ga = mul(gy, s); break;
                       case BinaryOp::Div: ga = scalar_first ? neg(div(mul(gy, os.get()), as.get())) : div(gy, s); break;
                       case BinaryOp::Pow:
                           ga = scalar_first ? mul(mul(gy, os.get()), std::log(s))
                                             : (s == 0.0 ? zeros_like(gy) : mul(mul(gy, pow(as.get(), s - 1.0)), s));
                           break;
                       case BinaryOp::Maximum:
                       case BinaryOp::Minimum:  // ops.h has no scalar form of these
                           throw Error(detail::concat(binary_op_name(op), ": no scalar form"));
                   }
                   return TensorList{ga};
               });
    }
    return out;
}

Tensor compare_op(CompareOp op, const Tensor& a, const Tensor& b) {
    const char* name = compare_op_name(op);
    ENGINE_CHECK(a.defined() && b.defined(), name, ": an input is undefined");
    check_same_device(name, a, b);
    broadcast_shapes(a.shape(), b.shape(), name);
    const DType t = promote_types(a.dtype(), b.dtype());
    return backend_for(a).compare(op, a.detach().to(t), b.detach().to(t));
}

Tensor compare_scalar_op(CompareOp op, const Tensor& a, double s) {
    ENGINE_CHECK(a.defined(), compare_op_name(op), ": the input is undefined");
    return backend_for(a).compare_scalar(op, a.detach(), s);
}

Tensor& inplace_op(BinaryOp op, Tensor& a, const Tensor& b, const char* name) {
    ENGINE_CHECK(a.defined() && b.defined(), name, ": an input is undefined");
    check_inplace_allowed(a, name);
    check_same_device(name, a, b);
    ENGINE_CHECK(broadcast_shapes(a.shape(), b.shape(), name) == a.shape(), name, ": shape ", shape_str(b.shape()),
                 " does not broadcast to the destination shape ", shape_str(a.shape()));
    backend_for(a).binary_(op, a, b.detach().to(a.dtype()));
    a.bump_version();
    return a;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Div, a, b); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Pow, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Minimum, a, b); }

Tensor add(const Tensor& a, double s) { return scalar_op(BinaryOp::Add, a, s, false); }
Tensor sub(const Tensor& a, double s) { return scalar_op(BinaryOp::Sub, a, s, false); }
Tensor rsub(const Tensor& a, double s) { return scalar_op(BinaryOp::Sub, a, s, true); }
Tensor mul(const Tensor& a, double s) { return scalar_op(BinaryOp::Mul, a, s, false); }
Tensor div(const Tensor& a, double s) { return scalar_op(BinaryOp::Div, a, s, false); }
Tensor rdiv(const Tensor& a, double s) { return scalar_op(BinaryOp::Div, a, s, true); }
Tensor pow(const Tensor& a, double exponent) { return scalar_op(BinaryOp::Pow, a, exponent, false); }
Tensor rpow(const Tensor& a, double base) { return scalar_op(BinaryOp::Pow, a, base, true); }

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::Log, x); }
Tensor log1p(const Tensor& x) { return unary_op(UnaryOp::Log1p, x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::Sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary_op(UnaryOp::Rsqrt, x); }
Tensor abs(const Tensor& x) { return unary_op(UnaryOp::Abs, x); }
Tensor sign(const Tensor& x) { return unary_op(UnaryOp::Sign, x); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::Relu, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::Sigmoid, x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::Tanh, x); }
Tensor floor(const Tensor& x) { return unary_op(UnaryOp::Floor, x); }
Tensor ceil(const Tensor& x) { return unary_op(UnaryOp::Ceil, x); }
Tensor round(const Tensor& x) { return unary_op(UnaryOp::Round, x); }
Tensor sin(const Tensor& x) { return unary_op(UnaryOp::Sin, x); }
Tensor cos(const Tensor& x) { return unary_op(UnaryOp::Cos, x); }
Tensor square(const Tensor& x) { return unary_op(UnaryOp::Square, x); }
Tensor reciprocal(const Tensor& x) { return unary_op(UnaryOp::Reciprocal, x); }

Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
    ENGINE_CHECK(x.defined(), "clamp: the input is undefined");
    ENGINE_CHECK(x.dtype() != DType::Bool, "clamp: not defined for bool tensors");
    const double low = lo.value_or(-std::numeric_limits<double>::infinity());
    const double high = hi.value_or(std::numeric_limits<double>::infinity());
    Tensor y = backend_for(x).clamp(x, low, high);
    if (needs_grad({x})) {
        record("clamp", {x}, {y}, [low, high, xs = SavedTensor(x)](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).clamp_backward(xs.get(), low, high, g[0])};
        });
    }
    return y;
}

Tensor eq(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare_op(CompareOp::Ge, a, b); }
Tensor eq(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Eq, a, s); }
Tensor ne(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Ne, a, s); }
Tensor lt(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Lt, a, s); }
Tensor le(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Le, a, s); }
Tensor gt(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Gt, a, s); }
Tensor ge(const Tensor& a, double s) { return compare_scalar_op(CompareOp::Ge, a, s); }

Tensor where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
    ENGINE_CHECK(cond_in.defined() && a_in.defined() && b_in.defined(), "where: an input is undefined");
    check_same_device("where", cond_in, a_in);
    check_same_device("where", a_in, b_in);
    ENGINE_CHECK(cond_in.dtype() == DType::Bool || cond_in.dtype() == DType::UInt8,
                 "where: the condition must be bool or uint8, got ", dtype_name(cond_in.dtype()));
    const Tensor cond = cond_in.dtype() == DType::Bool ? cond_in.detach() : ne(cond_in, 0.0);
    const DType t = promote_types(a_in.dtype(), b_in.dtype());
    const Tensor a = a_in.to(t), b = b_in.to(t);
    broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
    Tensor out = backend_for(a).where(cond, a, b);
    if (needs_grad({a, b})) {
        const Shape a_shape = a.shape(), b_shape = b.shape();
        record("where", {a, b}, {out},
               [cs = SavedTensor(cond), a_shape, b_shape](const TensorList& g, const std::vector<bool>& needs) {
                   const Tensor c = cs.get();
                   const Tensor zero = zeros({}, g[0].dtype(), g[0].device());
                   Tensor ga, gb;
                   if (needs[0]) ga = sum_to_shape(backend_for(g[0]).where(c, g[0], zero), a_shape);
                   if (needs[1]) gb = sum_to_shape(backend_for(g[0]).where(c, zero, g[0]), b_shape);
                   return TensorList{ga, gb};
               });
    }
    return out;
}

Tensor where(const Tensor& cond, const Tensor& a, double b) {
    ENGINE_CHECK(a.defined(), "where: an input is undefined");
    return where(cond, a, full({}, b, a.dtype(), a.device()));
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
    ENGINE_CHECK(x.defined(), "masked_fill: the input is undefined");
    ENGINE_CHECK(mask.defined() && broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(),
                 "masked_fill: mask of shape ", shape_str(mask.shape()), " does not broadcast to ",
                 shape_str(x.shape()));
    return where(mask, full({}, value, x.dtype(), x.device()), x);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return sub(a, s); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return div(a, s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(double s, const Tensor& a) { return rsub(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(double s, const Tensor& a) { return rdiv(a, s); }

Tensor& add_(Tensor& a, const Tensor& b) { return inplace_op(BinaryOp::Add, a, b, "add_"); }
Tensor& mul_(Tensor& a, const Tensor& b) { return inplace_op(BinaryOp::Mul, a, b, "mul_"); }
Tensor& mul_(Tensor& a, double s) { return inplace_op(BinaryOp::Mul, a, full({}, s, a.dtype(), a.device()), "mul_"); }

}  // namespace engine
