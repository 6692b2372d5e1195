// Streams: the per-device default stream, explicit streams, and StreamGuard's per-thread current stream; work
// queued under a guard runs on that stream and its results are right after synchronising it.
#include <gtest/gtest.h>

#include <thread>
#include <utility>

#include "autograd/ops.h"
#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

#if ENGINE_WITH_CUDA
#include "runtime/cuda/stream.h"

using namespace engine;
using namespace engine::test;

namespace {

class CudaStreamTest : public CudaTest {};

TEST_F(CudaStreamTest, DefaultStreamIsOwnedByTheDeviceAndStable) {
    const cudaStream_t s = cuda::default_stream(0);
    EXPECT_NE(s, nullptr) << "the default stream must be a created (non-blocking) stream, not the legacy one";
    EXPECT_EQ(cuda::default_stream(0), s);
    EXPECT_EQ(cuda::current_stream(0), s);
    cuda::synchronize_stream(0, s);
}

TEST_F(CudaStreamTest, GuardsNestAndRestore) {
    const cudaStream_t base = cuda::current_stream(0);
    cuda::Stream a(0), b(0);
    EXPECT_NE(a.handle(), b.handle());
    {
        cuda::StreamGuard ga(a);
        EXPECT_EQ(cuda::current_stream(0), a.handle());
        {
            cuda::StreamGuard gb(b);
            EXPECT_EQ(cuda::current_stream(0), b.handle());
        }
        EXPECT_EQ(cuda::current_stream(0), a.handle());
    }
    EXPECT_EQ(cuda::current_stream(0), base);
}

TEST_F(CudaStreamTest, GuardsArePerThread) {
    cuda::Stream mine(0);
    cuda::StreamGuard guard(mine);
    cudaStream_t seen = nullptr;
    std::thread([&] { seen = cuda::current_stream(0); }).join();
    EXPECT_EQ(seen, cuda::default_stream(0));
    EXPECT_EQ(cuda::current_stream(0), mine.handle());
}

TEST_F(CudaStreamTest, MovedStreamKeepsItsHandle) {
    cuda::Stream a(0);
    const cudaStream_t handle = a.handle();
    cuda::Stream b = std::move(a);
    EXPECT_EQ(b.handle(), handle);
    EXPECT_EQ(a.handle(), nullptr);
    cuda::Stream c(0);
    c = std::move(b);
    EXPECT_EQ(c.handle(), handle);
    EXPECT_EQ(c.device_index(), 0);
}

TEST_F(CudaStreamTest, WorkUnderAGuardRunsOnThatStream) {
    const Tensor a = random_tensor({33, 20}, 1, DType::Float64), b = random_tensor({20, 17}, 2, DType::Float64);
    const Tensor expected = matmul(a, b);
    cuda::Stream side(0);
    Tensor result;
    {
        cuda::StreamGuard guard(side);
        const Tensor ad = a.to(cuda_device()), bd = b.to(cuda_device());
        result = matmul(ad, bd);
        side.synchronize();
        EXPECT_TRUE(side.query());
        EXPECT_TRUE(matches_cpu(result, expected, 1e-12, 1e-12));
    }
    EXPECT_TRUE(matches_cpu(result, expected, 1e-12, 1e-12));
}

TEST_F(CudaStreamTest, MissingDeviceIsReported) {
    if (cuda::device_count() > 1) GTEST_SKIP() << "more than one device present";
    EXPECT_ENGINE_ERROR(cuda::Stream(1), "no CUDA device cuda:1");
    EXPECT_ENGINE_ERROR(cuda::current_stream(1), "no CUDA device cuda:1");
}

}  // namespace

#endif  // ENGINE_WITH_CUDA
