// Random tensors and dropout. All draws come from a Generator's Philox stream (runtime/philox.h).
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

Tensor random_tensor(const char* op, const Shape& shape, RandomKind kind, double a, double b, Generator& gen,
                     DType dtype, Device device) {
    ENGINE_CHECK(is_floating(dtype), op, ": dtype must be float32 or float64, got ", dtype_name(dtype));
    Tensor out = empty(shape, dtype, device);
    const uint64_t offset = gen.reserve(static_cast<uint64_t>(out.numel()));
    backend_for(device).random_(out, kind, a, b, gen.seed(), offset);
    return out;
}

}  // namespace

Tensor rand(const Shape& shape, Generator& gen, DType dtype, Device device) {
    return random_tensor("rand", shape, RandomKind::Uniform, 0.0, 1.0, gen, dtype, device);
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, Device device) {
    return random_tensor("randn", shape, RandomKind::Normal, 0.0, 1.0, gen, dtype, device);
}

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype, Device device) {
    ENGINE_CHECK(low <= high, "uniform: low ", low, " is above high ", high);
    return random_tensor("uniform", shape, RandomKind::Uniform, low, high, gen, dtype, device);
}

Tensor bernoulli(const Shape& shape, double p, Generator& gen, DType dtype, Device device) {
    ENGINE_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: p must be in [0, 1], got ", p);
    return random_tensor("bernoulli", shape, RandomKind::Bernoulli, p, 0.0, gen, dtype, device);
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
    check_floating("dropout", x);
    ENGINE_CHECK(p >= 0.0 && p <= 1.0, "dropout: p must be in [0, 1], got ", p);
    if (!training || p == 0.0) return x;
    // The mask already carries the 1/(1-p) scale, so backward is one multiplication.
    const double keep = 1.0 - p;
    Tensor mask = bernoulli(x.shape(), keep, gen, x.dtype(), x.device());
    if (keep > 0.0) mask = backend_for(x).binary_scalar(BinaryOp::Mul, mask, 1.0 / keep, false);
    return mul(x, mask);
}

}  // namespace engine
