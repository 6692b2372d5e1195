// CUDA fill_ and copy_: contiguous and strided destinations, broadcast sources, every dtype conversion, against
// the CPU backend.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

const DType kAllTypes[] = {DType::Float32, DType::Float64, DType::Int64, DType::Int32, DType::UInt8, DType::Bool};

}  // namespace

TEST(CudaFillTest, ContiguousAndStridedOutputs) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : kAllTypes) {
        for (int64_t n : {1, 3, 31, 257, 4099}) {
            Tensor t = empty({n}, dt, cuda_device());
            gpu().fill_(t, 3.0);
            EXPECT_TRUE(matches_cpu(t, full({n}, 3.0, dt), 0, 0)) << dtype_name(dt) << " n=" << n;
        }
        // Every other column of a (7, 10) matrix, and a transposed view.
        Tensor host = zeros({7, 10}, dt), dev = zeros({7, 10}, dt, cuda_device());
        Tensor hv = make_view(host, {7, 5}, {10, 2}, 1), dv = make_view(dev, {7, 5}, {10, 2}, 1);
        cpu_backend().fill_(hv, 1.0);
        gpu().fill_(dv, 1.0);
        Tensor ht = host.t().narrow(0, 0, 3), dt_view = dev.t().narrow(0, 0, 3);
        cpu_backend().fill_(ht, 2.0);
        gpu().fill_(dt_view, 2.0);
        EXPECT_TRUE(matches_cpu(dev, host, 0, 0)) << dtype_name(dt);
    }
}

TEST(CudaCopyTest, EveryDtypeConversion) {
    REQUIRE_CUDA_DEVICE();
    // Values every dtype holds (non-negative integers below 128, plus 0 for bool false).
    const Tensor values = random_tensor({257}, 1, DType::Float64, 0.0, 100.0).to(DType::Int64).to(DType::Float64);
    for (DType from : kAllTypes) {
        const Tensor src = values.to(from);
        const Tensor dsrc = to_cuda(src);
        for (DType to : kAllTypes) {
            Tensor expected = empty({257}, to), actual = empty({257}, to, cuda_device());
            cpu_backend().copy_(expected, src);
            gpu().copy_(actual, dsrc);
            EXPECT_TRUE(matches_cpu(actual, expected, 0, 0)) << dtype_name(from) << " -> " << dtype_name(to);
        }
    }
    const Tensor fractions = from_vector<double>({-2.75, -0.5, 0.25, 0.0, 1.5, 2.9}, {6});
    for (DType to : {DType::Float32, DType::Int64, DType::Int32, DType::Bool}) {
        Tensor expected = empty({6}, to), actual = empty({6}, to, cuda_device());
        cpu_backend().copy_(expected, fractions);
        gpu().copy_(actual, to_cuda(fractions));
        EXPECT_TRUE(matches_cpu(actual, expected, 0, 0)) << dtype_name(to);
    }
}

TEST(CudaCopyTest, StridedSourcesAndDestinations) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64, DType::UInt8}) {
        const Tensor src = random_tensor({31, 33}, 2, DType::Float64, 0.0, 50.0).to(dt);
        const Tensor dsrc = to_cuda(src);
        // transpose -> contiguous, broadcast -> contiguous, slice -> slice, permuted 4-D.
        EXPECT_TRUE(matches_cpu(dsrc.t().contiguous(), src.t().contiguous(), 0, 0));
        EXPECT_TRUE(matches_cpu(dsrc.narrow(0, 4, 1).expand({9, 33}).contiguous(),
                                src.narrow(0, 4, 1).expand({9, 33}).contiguous(), 0, 0));
        Tensor host = zeros({40, 40}, dt), dev = zeros({40, 40}, dt, cuda_device());
        host.narrow(0, 3, 33).narrow(1, 5, 31).copy_(src.t());
        dev.narrow(0, 3, 33).narrow(1, 5, 31).copy_(dsrc.t());
        EXPECT_TRUE(matches_cpu(dev, host, 0, 0));
        const Tensor four = random_tensor({2, 3, 5, 7}, 3).to(dt);
        EXPECT_TRUE(matches_cpu(to_cuda(four).permute({3, 1, 0, 2}).contiguous(),
                                four.permute({3, 1, 0, 2}).contiguous(), 0, 0));
    }
    // A broadcast scalar into a strided destination, with conversion.
    Tensor host = zeros({6, 8}, DType::Float64), dev = zeros({6, 8}, DType::Float64, cuda_device());
    host.t().narrow(0, 1, 3).copy_(full({}, 7.0, DType::Int32));
    dev.t().narrow(0, 1, 3).copy_(full({}, 7.0, DType::Int32, cuda_device()));
    EXPECT_TRUE(matches_cpu(dev, host, 0, 0));
}

TEST(CudaCopyTest, MoreThanEightUnmergeableDims) {
    REQUIRE_CUDA_DEVICE();
    // Ten dims of size 2 permuted so that no two neighbours merge: the launcher splits the outermost dims.
    Shape shape(10, 2);
    const Tensor src = random_tensor(shape, 4);
    const std::vector<int64_t> order = {9, 7, 5, 3, 1, 8, 6, 4, 2, 0};
    EXPECT_TRUE(matches_cpu(to_cuda(src).permute(order).contiguous(), src.permute(order).contiguous(), 0, 0));
}
