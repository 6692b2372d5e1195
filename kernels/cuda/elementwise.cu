// Elementwise CUDA kernels: unary ops and their gradients, binary ops with broadcasting (also in place and with
// a scalar), comparisons, where and clamp. One functor per family; the op is a runtime switch inside it.
#include "runtime/cuda_api.h"

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "kernels/scalar_math.h"

namespace engine::cuda {
namespace {

// The device's integer pow (see scalar_math.h): its double pow is not exact on integers.
constexpr scalar::IntegerPow kIntegerPow = scalar::IntegerPow::BySquaring;

// Each functor computes in M = OpMath<T> (float for the 16-bit types) and rounds to T once.
template <class T, class M = OpMath<T>>
struct UnaryFn {
    UnaryOp op;
    __device__ T operator()(T x) const { return static_cast<T>(scalar::unary_value<M>(op, M(x))); }
};

template <class T, class M = OpMath<T>>
struct UnaryGradFn {
    UnaryOp op;
    __device__ T operator()(T x, T y, T g) const {
        return static_cast<T>(scalar::unary_grad<M>(op, M(x), M(y), M(g)));
    }
};

template <class T, class M = OpMath<T>>
struct BinaryFn {
    BinaryOp op;
    __device__ T operator()(T a, T b) const {
        return static_cast<T>(scalar::binary_value<kIntegerPow, M>(op, M(a), M(b)));
    }
};

template <class T, bool ScalarFirst, class M = OpMath<T>>
struct BinaryScalarFn {
    BinaryOp op;
    M s;  // as PyTorch: the scalar is not rounded to a 16-bit type first
    __device__ T operator()(T a) const {
        return static_cast<T>(ScalarFirst ? scalar::binary_value<kIntegerPow, M>(op, s, M(a))
                                          : scalar::binary_value<kIntegerPow, M>(op, M(a), s));
    }
};

template <class T, class M = OpMath<T>>
struct CompareFn {
    CompareOp op;
    __device__ bool operator()(T a, T b) const { return scalar::compare_value<M>(op, M(a), M(b)); }
};

// Compares in double so that e.g. an int tensor against 0.5 behaves as in PyTorch (and as the CPU backend).
template <class T>
struct CompareScalarFn {
    CompareOp op;
    double s;
    __device__ bool operator()(T a) const { return scalar::compare_value<double>(op, static_cast<double>(a), s); }
};

template <class T>
struct WhereFn {
    __device__ T operator()(bool c, T a, T b) const { return c ? a : b; }
};

template <class T>
struct ClampFn {
    double lo, hi;
    __device__ T operator()(T v) const {
        const double d = static_cast<double>(v);
        if (d != d) return v;  // NaN passes through, as in PyTorch
        return static_cast<T>(d < lo ? lo : (d > hi ? hi : d));
    }
};

template <class T>
struct ClampGradFn {
    double lo, hi;
    __device__ T operator()(T v, T g) const {
        const double d = static_cast<double>(v);
        return d >= lo && d <= hi ? g : T(0);
    }
};

}  // namespace

Tensor CudaBackend::unary(UnaryOp op, const Tensor& x) {
    const char* name = unary_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(x.shape(), x.dtype(), x.device());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), name, [&] {
        map<scalar_t, scalar_t>(name, device_index_, out, UnaryFn<scalar_t>{op}, {&x});
    });
    return out;
}

Tensor CudaBackend::unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y) {
    const char* name = unary_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(grad_y.shape(), grad_y.dtype(), grad_y.device());
    ENGINE_DISPATCH_FLOATING_AND_HALF(grad_y.dtype(), name, [&] {
        map<scalar_t, scalar_t, scalar_t, scalar_t>(name, device_index_, out, UnaryGradFn<scalar_t>{op},
                                                    {&x, &y, &grad_y});
    });
    return out;
}

Tensor CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b) {
    const char* name = binary_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), a.dtype(), a.device());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), name, [&] {
        map<scalar_t, scalar_t, scalar_t>(name, device_index_, out, BinaryFn<scalar_t>{op}, {&a, &b});
    });
    return out;
}

Tensor CudaBackend::binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first) {
    const char* name = binary_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(a.shape(), a.dtype(), a.device());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), name, [&] {
        const OpMath<scalar_t> sv = static_cast<OpMath<scalar_t>>(s);
        if (scalar_first) {
            map<scalar_t, scalar_t>(name, device_index_, out, BinaryScalarFn<scalar_t, true>{op, sv}, {&a});
        } else {
            map<scalar_t, scalar_t>(name, device_index_, out, BinaryScalarFn<scalar_t, false>{op, sv}, {&a});
        }
    });
    return out;
}

void CudaBackend::binary_(BinaryOp op, Tensor& a, const Tensor& b) {
    const char* name = binary_op_name(op);
    set_device(device_index_, name);
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), name, [&] {
        map<scalar_t, scalar_t, scalar_t>(name, device_index_, a, BinaryFn<scalar_t>{op}, {&a, &b});
    });
}

Tensor CudaBackend::compare(CompareOp op, const Tensor& a, const Tensor& b) {
    const char* name = compare_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), name), DType::Bool, a.device());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), name, [&] {
        map<bool, scalar_t, scalar_t>(name, device_index_, out, CompareFn<scalar_t>{op}, {&a, &b});
    });
    return out;
}

Tensor CudaBackend::compare_scalar(CompareOp op, const Tensor& a, double s) {
    const char* name = compare_op_name(op);
    set_device(device_index_, name);
    Tensor out = empty(a.shape(), DType::Bool, a.device());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), name, [&] {
        map<bool, scalar_t>(name, device_index_, out, CompareScalarFn<scalar_t>{op, s}, {&a});
    });
    return out;
}

Tensor CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    set_device(device_index_, "where");
    const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
    Tensor out = empty(shape, a.dtype(), a.device());
    ENGINE_DISPATCH_ALL_AND_HALF(a.dtype(), "where", [&] {
        map<scalar_t, bool, scalar_t, scalar_t>("where", device_index_, out, WhereFn<scalar_t>{}, {&cond, &a, &b});
    });
    return out;
}

Tensor CudaBackend::clamp(const Tensor& x, double lo, double hi) {
    set_device(device_index_, "clamp");
    Tensor out = empty(x.shape(), x.dtype(), x.device());
    ENGINE_DISPATCH_ALL_AND_HALF(x.dtype(), "clamp", [&] {
        map<scalar_t, scalar_t>("clamp", device_index_, out, ClampFn<scalar_t>{lo, hi}, {&x});
    });
    return out;
}

Tensor CudaBackend::clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y) {
    set_device(device_index_, "clamp_backward");
    Tensor out = empty(grad_y.shape(), grad_y.dtype(), grad_y.device());
    ENGINE_DISPATCH_FLOATING_AND_HALF(grad_y.dtype(), "clamp_backward", [&] {
        map<scalar_t, scalar_t, scalar_t>("clamp_backward", device_index_, out, ClampGradFn<scalar_t>{lo, hi},
                                          {&x, &grad_y});
    });
    return out;
}

}  // namespace engine::cuda
