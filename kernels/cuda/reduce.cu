// CUDA reductions: sum / mean / max / min over any set of dims, and max / min with first-occurrence indices
// along one dim, with the CPU backend's conventions: float sums accumulate in double, integer sums give int64,
// max / min propagate NaN, bool reduces as uint8.
#include "runtime/cuda_api.h"

#include <limits>

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/reduce.cuh"
#include "kernels/kernel_elem.h"

namespace engine::cuda {
namespace {

template <class T, bool IsMax>
struct StoreIndexed {
    T* values;
    int64_t* indices;
    __device__ void operator()(int64_t pos, const IndexAcc<T>& a) const {
        values[pos] = a.value;
        indices[pos] = a.index;
    }
};

}  // namespace

Tensor CudaBackend::reduce(ReduceOp op, const Tensor& input, const std::vector<int64_t>& dims_in, bool keepdim) {
    if (is_half(input.dtype()))
        return in_float32(*this, input.dtype(), {input},
                          [&](const std::vector<Tensor>& f) { return reduce(op, f[0], dims_in, keepdim); });
    const char* name = reduce_op_name(op);
    set_device(device_index_, name);
    const ReduceCall call = reduce_call(op, input, dims_in, keepdim);
    const std::vector<int64_t>& dims = call.dims;
    Tensor out = empty(call.out_shape, call.out_dtype, input.device());
    if (out.numel() == 0) return out;
    check_reduce_input(op, input);
    if (input.numel() == 0) {
        fill_(out, empty_reduce_value(op));
        return out;
    }
    const Tensor x = dense(input);
    const double count = static_cast<double>(x.numel() / out.numel());
    ENGINE_DISPATCH_ALL(x.dtype(), name, [&] {
        using T = KernelElem<scalar_t>;
        const T* data = static_cast<const T*>(x.raw_data());
        switch (op) {
            case ReduceOp::Sum:
            case ReduceOp::Mean:
                if constexpr (std::is_floating_point_v<T>) {
                    reduce_all_passes<SumPolicy<T, double>>(
                        name, device_index_, data, x.shape(), dims,
                        StoreValue<T>{out.data<T>(), op == ReduceOp::Mean ? count : 1.0});
                } else {
                    reduce_all_passes<SumPolicy<T, int64_t>>(name, device_index_, data, x.shape(), dims,
                                                             StoreValue<int64_t>{out.data<int64_t>(), 1.0});
                }
                break;
            case ReduceOp::Max:
                reduce_all_passes<ExtremePolicy<T, true>>(name, device_index_, data, x.shape(), dims,
                                                          StoreValue<T>{static_cast<T*>(out.raw_data()), 1.0});
                break;
            case ReduceOp::Min:
                reduce_all_passes<ExtremePolicy<T, false>>(name, device_index_, data, x.shape(), dims,
                                                           StoreValue<T>{static_cast<T*>(out.raw_data()), 1.0});
                break;
        }
    });
    return out;
}

std::pair<Tensor, Tensor> CudaBackend::reduce_with_index(ReduceOp op, const Tensor& input, int64_t dim,
                                                         bool keepdim) {
    if (is_half(input.dtype())) {  // as in_float32, for a pair of results
        auto [values, indices] = reduce_with_index(op, converted_to(*this, input, DType::Float32), dim, keepdim);
        return {converted_to(*this, values, input.dtype()), indices};
    }
    const char* name = reduce_op_name(op);
    set_device(device_index_, name);
    ENGINE_CHECK(op == ReduceOp::Max || op == ReduceOp::Min, name, ": reduce_with_index supports max and min only");
    const std::vector<int64_t> dims = input.dim() == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{dim};
    const Shape out_shape = reduced_shape(input.shape(), dims, keepdim);
    Tensor values = empty(out_shape, input.dtype(), input.device());
    Tensor indices = empty(out_shape, DType::Int64, input.device());
    if (values.numel() == 0) return {values, indices};
    ENGINE_CHECK(input.numel() > 0, name, ": cannot reduce input of shape ", shape_str(input.shape()),
                 " over its empty dim ", dim);
    const Tensor x = dense(input);
    ENGINE_DISPATCH_ALL(x.dtype(), name, [&] {
        using T = KernelElem<scalar_t>;
        const T* data = static_cast<const T*>(x.raw_data());
        T* v = static_cast<T*>(values.raw_data());
        int64_t* idx = indices.data<int64_t>();
        if (op == ReduceOp::Max) {
            reduce_all_passes<IndexPolicy<T, true>>(name, device_index_, data, x.shape(), dims,
                                                    StoreIndexed<T, true>{v, idx});
        } else {
            reduce_all_passes<IndexPolicy<T, false>>(name, device_index_, data, x.shape(), dims,
                                                     StoreIndexed<T, false>{v, idx});
        }
    });
    return {values, indices};
}

}  // namespace engine::cuda
