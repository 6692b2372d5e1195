// fill_ and copy_ (any strides, broadcast sources, dtype conversion) on the CUDA device, through the
// elementwise engine: contiguous operands take the vectorised path, the rest the strided one.
#include "runtime/cuda_api.h"

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"

namespace engine::cuda {
namespace {

template <class T>
struct FillValue {
    T value;
    __device__ T operator()() const { return value; }
};

template <class Dst, class Src>
struct Convert {
    __device__ Dst operator()(Src v) const { return static_cast<Dst>(v); }
};

}  // namespace

void CudaBackend::fill_(Tensor& out, double value) {
    set_device(device_index_, "fill_");
    ENGINE_DISPATCH_ALL_AND_HALF(out.dtype(), "fill_", [&] {
        map<scalar_t>("fill_", device_index_, out, FillValue<scalar_t>{static_cast<scalar_t>(value)}, {});
    });
}

void CudaBackend::copy_(Tensor& dst, const Tensor& src) {
    set_device(device_index_, "copy_");
    ENGINE_DISPATCH_ALL_AND_HALF(dst.dtype(), "copy_", [&] {
        using dst_t = scalar_t;
        ENGINE_DISPATCH_ALL_AND_HALF(src.dtype(), "copy_", [&] {
            map<dst_t, scalar_t>("copy_", device_index_, dst, Convert<dst_t, scalar_t>{}, {&src});
        });
    });
}

}  // namespace engine::cuda
