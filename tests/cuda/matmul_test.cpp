// matmul on the CUDA backend against the CPU backend, through every path the build has: our GEMM always, and
// cuBLAS too on a real GPU. Sizes are awkward on purpose (1, primes, not multiples of the 64/128 tiles), and the
// operands come transposed, sliced, broadcast and batched. Sizes stay small for the emulator.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "autograd/ops.h"
#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"
#include "runtime/settings.h"

#if ENGINE_WITH_CUDA
#include "kernels/cuda/kernel_choice.h"

using namespace engine;
using namespace engine::test;

namespace {

std::vector<cuda::GemmImpl> gemm_paths() {
    if (cuda::vendor_libraries_available()) return {cuda::GemmImpl::Own, cuda::GemmImpl::Cublas};
    return {cuda::GemmImpl::Own};
}

// float32 sums of k products of values in [-1, 1]: the rounding error grows with k.
double atol_for(DType dtype, int64_t k) { return dtype == DType::Float32 ? 1e-6 * (k + 1) : 1e-12 * (k + 1); }
double rtol_for(DType dtype) { return dtype == DType::Float32 ? 1e-4 : 1e-10; }

// a and b are CPU tensors (any strides); the CUDA operands are the same views of device copies of their storage.
::testing::AssertionResult matmul_matches(const Tensor& a, const Tensor& b, int64_t k) {
    const Tensor expected = cpu_backend().matmul(a, b);
    const Tensor got = backend_for(cuda_device()).matmul(to_cuda(a), to_cuda(b));
    return matches_cpu(got, expected, atol_for(a.dtype(), k), rtol_for(a.dtype()));
}

// A strided device view: the same geometry as `view` over a device copy of its base tensor.
Tensor same_view_on_device(const Tensor& base, const Tensor& view) {
    return make_view(to_cuda(base), view.shape(), view.strides(), view.offset());
}

struct Size {
    int64_t m, k, n;
};

class CudaMatmulTest : public CudaParamTest<cuda::GemmImpl> {};

std::string path_name(const ::testing::TestParamInfo<cuda::GemmImpl>& info) {
    return cuda::gemm_impl_name(info.param);
}

TEST_P(CudaMatmulTest, MatchesCpuOnAwkwardSizes) {
    cuda::KernelChoiceGuard guard(GetParam());
    const std::vector<Size> sizes = {{1, 1, 1},   {17, 31, 65}, {129, 257, 33}, {64, 64, 64}, {3, 130, 7},
                                     {1, 300, 5}, {200, 1, 9},  {5, 9, 1},      {67, 8, 129}};
    uint64_t seed = 1;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Size& s : sizes) {
            const Tensor a = random_tensor({s.m, s.k}, seed++, dtype);
            const Tensor b = random_tensor({s.k, s.n}, seed++, dtype);
            EXPECT_TRUE(matmul_matches(a, b, s.k)) << dtype_name(dtype) << " " << s.m << "x" << s.k << " @ " << s.k
                                                   << "x" << s.n;
            EXPECT_EQ(cuda::last_gemm_impl(), GetParam()) << "the product ran on another path";
        }
    }
}

TEST_P(CudaMatmulTest, LongReductionsSplitAcrossBlocks) {
    cuda::KernelChoiceGuard guard(GetParam());
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor a = random_tensor({6, 2100}, 11, dtype), b = random_tensor({2100, 10}, 12, dtype);
        EXPECT_TRUE(matmul_matches(a, b, 2100)) << dtype_name(dtype);
        const Tensor a3 = random_tensor({2, 3, 1500}, 13, dtype), b3 = random_tensor({2, 1500, 4}, 14, dtype);
        EXPECT_TRUE(matmul_matches(a3, b3, 1500)) << dtype_name(dtype) << " batched";
    }
}

TEST_P(CudaMatmulTest, TransposedSlicedAndBroadcastOperands) {
    cuda::KernelChoiceGuard guard(GetParam());
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double atol = atol_for(dtype, 70), rtol = rtol_for(dtype);
        // Column-major operands (M and N multiples of 4: the vector loads along M and K are taken).
        const Tensor at = random_tensor({36, 20}, 21, dtype), bt = random_tensor({24, 36}, 22, dtype);
        const Tensor a = at.t(), b = bt.t();  // a (20, 36), b (36, 24)
        EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).matmul(same_view_on_device(at, a), same_view_on_device(bt, b)),
                                cpu_backend().matmul(a, b), atol, rtol))
            << dtype_name(dtype) << " transposed";
        // Column-major with odd sizes, and slices whose rows are longer than the matrix.
        const Tensor ct = random_tensor({19, 13}, 23, dtype), wide = random_tensor({19, 40}, 24, dtype);
        const Tensor c = ct.t(), d = wide.narrow(1, 3, 29);  // c (13, 19), d (19, 29) with row stride 40
        EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).matmul(same_view_on_device(ct, c), same_view_on_device(wide, d)),
                                cpu_backend().matmul(c, d), atol, rtol))
            << dtype_name(dtype) << " sliced";
        // Every other column (no unit stride at all) and a column broadcast along N (stride 0).
        const Tensor base = random_tensor({11, 34}, 25, dtype);
        const Tensor every_other = make_view(base, {11, 17}, {34, 2}, 0);
        const Tensor column = random_tensor({17, 1}, 26, dtype);
        const Tensor broadcast = column.expand({17, 9});
        EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).matmul(same_view_on_device(base, every_other),
                                                                  same_view_on_device(column, broadcast)),
                                cpu_backend().matmul(every_other, broadcast), atol, rtol))
            << dtype_name(dtype) << " strided";
    }
}

TEST_P(CudaMatmulTest, BatchedIncludingBroadcastAndPermutedBatches) {
    cuda::KernelChoiceGuard guard(GetParam());
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const double atol = atol_for(dtype, 40), rtol = rtol_for(dtype);
        const Tensor a = random_tensor({3, 17, 40}, 31, dtype), b = random_tensor({3, 40, 23}, 32, dtype);
        EXPECT_TRUE(matmul_matches(a, b, 40)) << dtype_name(dtype);
        // The same B for every batch (batch stride 0).
        const Tensor shared = random_tensor({1, 40, 23}, 33, dtype);
        const Tensor expanded = shared.expand({3, 40, 23});
        EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).matmul(to_cuda(a), same_view_on_device(shared, expanded)),
                                cpu_backend().matmul(a, expanded), atol, rtol))
            << dtype_name(dtype) << " broadcast batch";
        // Batch as the middle dimension of the storage.
        const Tensor storage = random_tensor({17, 3, 40}, 34, dtype);
        const Tensor permuted = storage.transpose(0, 1);
        EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).matmul(same_view_on_device(storage, permuted), to_cuda(b)),
                                cpu_backend().matmul(permuted, b), atol, rtol))
            << dtype_name(dtype) << " permuted batch";
    }
}

TEST_P(CudaMatmulTest, MoreBatchesThanTheGridsZLimit) {
    if (is_emulated_cuda()) GTEST_SKIP() << "65537 blocks take seconds under the emulator";
    cuda::KernelChoiceGuard guard(GetParam());
    const Tensor a = random_tensor({65537, 2, 3}, 35, DType::Float32), b = random_tensor({65537, 3, 1}, 36, DType::Float32);
    EXPECT_TRUE(matmul_matches(a, b, 3));
}

TEST_P(CudaMatmulTest, EmptyAndZeroDepthProducts) {
    cuda::KernelChoiceGuard guard(GetParam());
    const Tensor zero_k = backend_for(cuda_device()).matmul(to_cuda(ones({3, 0})), to_cuda(ones({0, 4})));
    EXPECT_TRUE(matches_cpu(zero_k, zeros({3, 4})));
    const Tensor no_rows = backend_for(cuda_device()).matmul(to_cuda(ones({2, 0, 5})), to_cuda(ones({2, 5, 3})));
    EXPECT_EQ(no_rows.shape(), (Shape{2, 0, 3}));
}

TEST_P(CudaMatmulTest, MatmulOpBroadcastsBatchesAndVectors) {
    cuda::KernelChoiceGuard guard(GetParam());
    const Tensor a = random_tensor({2, 1, 5, 7}, 41, DType::Float64), b = random_tensor({3, 7, 4}, 42, DType::Float64);
    EXPECT_TRUE(matches_cpu(matmul(to_cuda(a), to_cuda(b)), matmul(a, b), 1e-12, 1e-10));
    const Tensor v = random_tensor({7}, 43, DType::Float64);
    EXPECT_TRUE(matches_cpu(matmul(to_cuda(a), to_cuda(v)), matmul(a, v), 1e-12, 1e-10));
}

TEST_P(CudaMatmulTest, GradcheckThroughTheDevice) {
    cuda::KernelChoiceGuard guard(GetParam());
    const auto f = [](const TensorList& in) {
        return matmul(in[0].to(cuda_device()), in[1].to(cuda_device())).to(Device::cpu());
    };
    EXPECT_TRUE(passes_gradcheck(f, {random_leaf({3, 5}, 51), random_leaf({5, 4}, 52)}));
    const Tensor at = random_leaf({6, 2}, 53);
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return f({in[0].t(), in[1]}); },
                                 {at, random_leaf({6, 3}, 54)}));
    EXPECT_TRUE(passes_gradcheck(f, {random_leaf({2, 3, 4}, 55), random_leaf({2, 4, 2}, 56)}));
}

INSTANTIATE_TEST_SUITE_P(Paths, CudaMatmulTest, ::testing::ValuesIn(gemm_paths()), path_name);

TEST(CudaKernelChoiceTest, SettingsAndGuardsSelectThePath) {
    {
        ScopedSetting gemm_setting(&Settings::cuda_gemm, cuda::GemmImpl::Own);  // as ENGINE_CUDA_GEMM=own
        EXPECT_EQ(cuda::gemm_impl(), cuda::GemmImpl::Own);
        cuda::KernelChoiceGuard guard(cuda::GemmImpl::Cublas);
        // The guard wins over the setting; without cuBLAS the request falls back quietly.
        EXPECT_EQ(cuda::gemm_impl(), cuda::vendor_libraries_available() ? cuda::GemmImpl::Cublas : cuda::GemmImpl::Own);
    }
    {
        ScopedSetting conv_setting(&Settings::cuda_conv, cuda::ConvImpl::Cudnn);
        EXPECT_EQ(cuda::conv_impl(), cuda::vendor_libraries_available() ? cuda::ConvImpl::Cudnn : cuda::ConvImpl::Own);
        cuda::KernelChoiceGuard outer(cuda::ConvImpl::Own);
        EXPECT_EQ(cuda::conv_impl(), cuda::ConvImpl::Own);
        {
            cuda::KernelChoiceGuard inner(cuda::GemmImpl::Own);
            EXPECT_EQ(cuda::conv_impl(), cuda::ConvImpl::Own);  // untouched by a guard that names only the GEMM
        }
        // Guards are per thread; the setting is the process's.
        cuda::ConvImpl other = cuda::ConvImpl::Own;
        std::thread([&] { other = cuda::conv_impl(); }).join();
        EXPECT_EQ(other, cuda::vendor_libraries_available() ? cuda::ConvImpl::Cudnn : cuda::ConvImpl::Own);
    }
    {
        ScopedSetting tf32(&Settings::cuda_allow_tf32, true);
        EXPECT_TRUE(cuda::allow_tf32());
    }
    EXPECT_EQ(cuda::allow_tf32(), settings().cuda_allow_tf32);
}

}  // namespace

#endif  // ENGINE_WITH_CUDA
