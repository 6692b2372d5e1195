#include "kernels/cuda/cuda_backend.h"

#include "runtime/cuda_api.h"

#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/fill.cuh"
#include "runtime/cuda_check.h"
#include "runtime/cuda_device.h"

namespace engine {

void CudaBackend::fill_(Tensor& out, double value) {
    ENGINE_CHECK(out.is_contiguous(), "fill_: the cuda backend needs a contiguous tensor, got strides ",
                 shape_str(out.strides()));
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "fill_");
    cuda_kernels::launch_fill(out.raw_data(), out.dtype(), out.numel(), value);
}

void CudaBackend::copy_(Tensor& dst, const Tensor& src) {
    ENGINE_CHECK(dst.is_contiguous() && src.is_contiguous() && dst.dtype() == src.dtype() &&
                     dst.shape() == src.shape(),
                 "copy_: the cuda backend copies only contiguous tensors of one dtype and shape so far (dst ",
                 shape_str(dst.shape()), " ", dtype_name(dst.dtype()), ", src ", shape_str(src.shape()), " ",
                 dtype_name(src.dtype()), ")");
    ENGINE_CUDA_CHECK(cudaSetDevice(device_index_), "copy_");
    ENGINE_CUDA_CHECK(cudaMemcpy(dst.raw_data(), src.raw_data(), dst.numel() * dtype_size(dst.dtype()),
                                 cudaMemcpyDeviceToDevice),
                      "copy_ ", shape_str(dst.shape()));
}

Backend& cuda_backend(int device_index) {
    static std::once_flag once;
    static std::vector<std::unique_ptr<CudaBackend>> backends;
    std::call_once(once, [] {
        for (int i = 0; i < cuda::device_count(); ++i) backends.push_back(std::make_unique<CudaBackend>(i));
    });
    return *backends.at(static_cast<size_t>(device_index));
}

}  // namespace engine
