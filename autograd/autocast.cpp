#include "autograd/autocast.h"

#include "autograd/ops.h"

namespace engine {
namespace {

thread_local std::optional<DType> tls_autocast;

}  // namespace

std::optional<DType> autocast_dtype() { return tls_autocast; }

AutocastGuard::AutocastGuard(std::optional<DType> dtype) : previous_(tls_autocast) {
    ENGINE_CHECK(!dtype || is_half(*dtype), "autocast: the dtype must be bfloat16 or float16, got ",
                 dtype_name(*dtype));
    tls_autocast = dtype;
}

AutocastGuard::~AutocastGuard() { tls_autocast = previous_; }

namespace autocast {

Tensor cast_floating(const Tensor& x, DType dtype) {
    if (!x.defined() || !is_floating(x.dtype()) || x.dtype() == dtype) return x;
    return x.to(dtype);
}

}  // namespace autocast
}  // namespace engine
