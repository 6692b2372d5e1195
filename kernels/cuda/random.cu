// CUDA random fills from the Philox counter stream: element i uses counter (offset + i) under key `seed`, the
// formula of the CPU backend (runtime/philox.h), so uniform and Bernoulli values equal the CPU's bit for bit and
// normal values agree to the last bits of log / cos. The affine maps a + scale * u are one fused multiply-add,
// because that is what the CPU build computes: g++ contracts the CPU kernel's expression to an FMA under its
// default -ffp-contract=fast with -march=x86-64-v3 (an unfused product and sum differs in the last bit).
#include "runtime/cuda_api.h"

#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/elementwise.cuh"
#include "runtime/philox.h"

namespace engine::cuda {
namespace {

__device__ inline double affine(double a, double scale, double u) { return fma(scale, u, a); }

template <class T>
__global__ void random_kernel(T* out, int64_t n, RandomKind kind, double a, double b, uint64_t seed,
                              uint64_t offset) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        const philox::Block block = philox::generate(offset + static_cast<uint64_t>(i), seed);
        switch (kind) {
            case RandomKind::Uniform: {
                const double u = std::is_same_v<T, float> ? static_cast<double>(philox::uniform_float(block))
                                                          : philox::uniform_double(block);
                out[i] = static_cast<T>(affine(a, b - a, u));
                break;
            }
            case RandomKind::Normal:
                out[i] = static_cast<T>(affine(a, b, philox::normal(block)));
                break;
            case RandomKind::Bernoulli:
                out[i] = philox::bernoulli(block, a) ? T(1) : T(0);
                break;
        }
    }
}

}  // namespace

void CudaBackend::random_(Tensor& out, RandomKind kind, double a, double b, uint64_t seed, uint64_t offset) {
    set_device(device_index_, "random_");
    if (out.numel() == 0) return;
    ENGINE_DISPATCH_FLOATING(out.dtype(), "random_", [&] {
        launch("random_", out.shape(), config_1d(device_index_, out.numel()), random_kernel<scalar_t>,
               out.data<scalar_t>(), out.numel(), kind, a, b, seed, offset);
    });
}

}  // namespace engine::cuda
