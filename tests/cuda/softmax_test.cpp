// CUDA softmax / log_softmax and their gradients against the CPU backend: rows handled by a warp and by a
// block, dims other than the last, strided inputs, extreme values, and gradchecks through the device.
#include <gtest/gtest.h>

#include <cmath>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

struct Case {
    Shape shape;
    int64_t dim;
};

// Short rows (a warp each), rows longer than the warp limit (a block each), and inner dims.
const Case kCases[] = {{{1}, 0},          {{7}, 0},        {{3, 31}, 1},       {{5, 33}, 1},      {{2, 1025}, 1},
                       {{2, 4099}, 1},    {{257, 3}, 0},   {{4, 5, 6}, 1},     {{3, 7, 1}, 1},    {{2, 3, 4, 5}, 0},
                       {{40, 1}, 1},      {{9, 1000}, 1}};

}  // namespace

TEST(CudaSoftmaxTest, ForwardAndBackwardMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    for (DType dt : {DType::Float32, DType::Float64}) {
        for (const Case& c : kCases) {
            const Tensor x = random_tensor(c.shape, 1 + c.dim, dt, -6.0, 6.0);
            const Tensor g = random_tensor(c.shape, 2 + c.dim, dt);
            for (bool log : {false, true}) {
                const Tensor y = cpu_backend().softmax(x, c.dim, log);
                EXPECT_TRUE(matches_cpu(gpu().softmax(to_cuda(x), c.dim, log), y, 1e-7, rtol_of(dt)))
                    << (log ? "log_softmax " : "softmax ") << shape_str(c.shape) << " dim " << c.dim << " "
                    << dtype_name(dt);
                EXPECT_TRUE(matches_cpu(gpu().softmax_backward(to_cuda(y), to_cuda(g), c.dim, log),
                                        cpu_backend().softmax_backward(y, g, c.dim, log), 1e-7, rtol_of(dt) * 10))
                    << (log ? "log_softmax" : "softmax") << " backward " << shape_str(c.shape) << " dim " << c.dim;
            }
        }
    }
}

TEST(CudaSoftmaxTest, StridedInputsAndExtremeValues) {
    REQUIRE_CUDA_DEVICE();
    const Tensor x = random_tensor({33, 40}, 3, DType::Float32, -3.0, 3.0);
    const Tensor d = to_cuda(x);
    for (bool log : {false, true}) {
        EXPECT_TRUE(matches_cpu(gpu().softmax(d.t(), 1, log), cpu_backend().softmax(x.t(), 1, log), 1e-7, 1e-5));
        EXPECT_TRUE(matches_cpu(gpu().softmax(d.narrow(1, 3, 30), 0, log),
                                cpu_backend().softmax(x.narrow(1, 3, 30), 0, log), 1e-7, 1e-5));
    }
    // Large logits (no overflow after subtracting the max) and a -inf logit (probability 0).
    Tensor big = from_vector<double>({1000.0, 999.0, -1000.0, -INFINITY, 0.0}, {1, 5});
    for (bool log : {false, true}) {
        const Tensor expected = cpu_backend().softmax(big, 1, log);
        const Tensor actual = gpu().softmax(to_cuda(big), 1, log).to(Device::cpu());
        const std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
        for (size_t i = 0; i < a.size(); ++i) {
            if (std::isinf(e[i])) {
                EXPECT_EQ(a[i], e[i]);
            } else {
                EXPECT_NEAR(a[i], e[i], 1e-12 * (1 + std::abs(e[i])));
            }
        }
    }
}

TEST(CudaSoftmaxGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    EXPECT_TRUE(passes_gradcheck([&](const TensorList& in) { return softmax(in[0].to(dev), 1).to(Device::cpu()); },
                                 {random_leaf({3, 7}, 1)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return log_softmax(in[0].to(dev), 0).to(Device::cpu()); },
        {random_leaf({4, 3, 2}, 2)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return softmax(in[0].to(dev).t(), -1).to(Device::cpu()); },
        {random_leaf({5, 3}, 3)}));
}
