// CUDA variance over any set of dims: Welford within each thread and Chan's pairwise merge across threads,
// blocks and passes, all in double; PyTorch's clamp of the degrees of freedom at 0.
#include "runtime/cuda_api.h"

#include <limits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/reduce.cuh"

namespace engine::cuda {
namespace {

template <class T>
struct StoreVariance {
    T* out;
    double correction;
    __device__ void operator()(int64_t pos, const VarAcc& a) const {
        out[pos] = static_cast<T>(var_value(a, correction));
    }
};

}  // namespace

Tensor CudaBackend::var(const Tensor& input, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
    if (is_half(input.dtype()))
        return in_float32(*this, input.dtype(), {input},
                          [&](const std::vector<Tensor>& f) { return var(f[0], dims_in, correction, keepdim); });
    set_device(device_index_, "var");
    const std::vector<int64_t> dims = reduce_dims_or_all(dims_in, input.dim());
    Tensor out = empty(reduced_shape(input.shape(), dims, keepdim), input.dtype(), input.device());
    if (out.numel() == 0) return out;
    if (input.numel() == 0) {
        fill_(out, std::numeric_limits<double>::quiet_NaN());
        return out;
    }
    const Tensor x = dense(input);
    ENGINE_DISPATCH_FLOATING(x.dtype(), "var", [&] {
        using T = scalar_t;
        reduce_all_passes<VarPolicy<T>>("var", device_index_, x.data<T>(), x.shape(), dims,
                                        StoreVariance<T>{out.data<T>(), correction});
    });
    return out;
}

}  // namespace engine::cuda
