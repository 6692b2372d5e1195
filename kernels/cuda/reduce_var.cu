// CUDA variance over any set of dims: Welford within each thread and Chan's pairwise merge across threads,
// blocks and passes, all in double; PyTorch's clamp of the degrees of freedom at 0.
#include "runtime/cuda_api.h"

#include <limits>
#include <numeric>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/reduce.cuh"

namespace engine {
namespace {

using namespace cuda_kernels;

template <class T>
struct StoreVariance {
    T* out;
    double correction;
    __device__ void operator()(int64_t pos, const VarAcc& a) const {
        const double dof = a.n - correction;
        out[pos] = static_cast<T>(a.m2 / (dof > 0.0 ? dof : 0.0));  // inf, or nan for 0/0, as PyTorch
    }
};

}  // namespace

Tensor CudaBackend::var(const Tensor& input, const std::vector<int64_t>& dims_in, double correction, bool keepdim) {
    set_device(device_index_, "var");
    std::vector<int64_t> dims = dims_in;
    if (dims.empty()) {
        dims.resize(static_cast<size_t>(input.dim()));
        std::iota(dims.begin(), dims.end(), 0);
    }
    Tensor out = empty(cuda_kernels::reduced_shape(input.shape(), dims, keepdim), input.dtype(), input.device());
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

}  // namespace engine
