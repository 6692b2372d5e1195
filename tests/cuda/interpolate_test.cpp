// CUDA interpolation (nearest and bilinear, align_corners, explicit sizes and scale factors, up- and down-
// sampling) and its backward pass against the CPU backend, plus gradchecks through the device.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

struct SizeCase {
    Shape shape;
    int64_t out_h, out_w;
};

// Same size, doubling, odd up- and down-sampling, size 1 on either side, outputs beyond one 256-thread block.
const SizeCase kSizeCases[] = {{{1, 1, 1, 1}, 3, 2},     {{2, 3, 5, 7}, 10, 14}, {{1, 2, 7, 5}, 3, 4},
                               {{1, 1, 4, 6}, 9, 13},    {{2, 2, 6, 6}, 6, 6},   {{1, 3, 9, 11}, 1, 1},
                               {{3, 2, 13, 17}, 29, 23}, {{2, 5, 31, 8}, 7, 8}};

struct ScaleCase {
    Shape shape;
    double scale_h, scale_w;
};

const ScaleCase kScaleCases[] = {
    {{1, 2, 5, 7}, 1.7, 2.3}, {{2, 1, 9, 6}, 0.5, 0.75}, {{1, 1, 3, 4}, 3.0, 2.0}, {{1, 3, 11, 7}, 0.6, 1.4}};

InterpParams params(InterpMode mode, bool align_corners, double scale_h = 0.0, double scale_w = 0.0) {
    InterpParams p;
    p.mode = mode;
    p.align_corners = align_corners;
    p.scale_h = scale_h;
    p.scale_w = scale_w;
    return p;
}

struct ModeCase {
    InterpMode mode;
    bool align_corners;
    const char* name;
};

const ModeCase kModes[] = {{InterpMode::Nearest, false, "nearest"},
                           {InterpMode::Bilinear, false, "bilinear"},
                           {InterpMode::Bilinear, true, "bilinear align_corners"}};

}  // namespace

TEST(CudaInterpolateTest, ExplicitSizesMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 1;
    for (const SizeCase& c : kSizeCases) {
        for (const ModeCase& m : kModes) {
            for (DType dt : {DType::Float32, DType::Float64}) {
                const Tensor x = random_tensor(c.shape, seed++, dt);
                EXPECT_TRUE(matches_cpu(interpolate(to_cuda(x), c.out_h, c.out_w, m.mode, m.align_corners),
                                        interpolate(x, c.out_h, c.out_w, m.mode, m.align_corners), 1e-6, rtol_of(dt)))
                    << shape_str(c.shape) << " -> " << c.out_h << "x" << c.out_w << " " << m.name << " "
                    << dtype_name(dt);
            }
        }
    }
}

TEST(CudaInterpolateTest, ScaleFactorsMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 100;
    for (const ScaleCase& c : kScaleCases) {
        for (const ModeCase& m : kModes) {
            for (DType dt : {DType::Float32, DType::Float64}) {
                const Tensor x = random_tensor(c.shape, seed++, dt);
                EXPECT_TRUE(matches_cpu(interpolate_scale(to_cuda(x), c.scale_h, c.scale_w, m.mode, m.align_corners),
                                        interpolate_scale(x, c.scale_h, c.scale_w, m.mode, m.align_corners), 1e-6,
                                        rtol_of(dt)))
                    << shape_str(c.shape) << " x" << c.scale_h << "," << c.scale_w << " " << m.name << " "
                    << dtype_name(dt);
            }
        }
    }
}

TEST(CudaInterpolateTest, NonContiguousInputs) {
    REQUIRE_CUDA_DEVICE();
    const Tensor base = random_tensor({2, 3, 6, 9}, 200, DType::Float32);
    const Tensor dev = to_cuda(base);
    for (const ModeCase& m : kModes) {
        EXPECT_TRUE(matches_cpu(interpolate(dev.transpose(2, 3), 5, 11, m.mode, m.align_corners),
                                interpolate(base.transpose(2, 3), 5, 11, m.mode, m.align_corners), 1e-6, 1e-5))
            << m.name;
        EXPECT_TRUE(matches_cpu(interpolate(dev.narrow(1, 1, 2).transpose(0, 1), 4, 7, m.mode, m.align_corners),
                                interpolate(base.narrow(1, 1, 2).transpose(0, 1), 4, 7, m.mode, m.align_corners), 1e-6,
                                1e-5))
            << m.name;
    }
}

TEST(CudaInterpolateTest, BackwardMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 300;
    for (const SizeCase& c : kSizeCases) {
        for (const ModeCase& m : kModes) {
            for (DType dt : {DType::Float32, DType::Float64}) {
                Shape out_shape = c.shape;
                out_shape[2] = c.out_h;
                out_shape[3] = c.out_w;
                const Tensor gy = random_tensor(out_shape, seed++, dt);
                const InterpParams p = params(m.mode, m.align_corners);
                EXPECT_TRUE(matches_cpu(gpu().interpolate_backward(to_cuda(gy), c.shape, p),
                                        cpu_backend().interpolate_backward(gy, c.shape, p), 1e-6, rtol_of(dt)))
                    << shape_str(c.shape) << " -> " << c.out_h << "x" << c.out_w << " " << m.name << " "
                    << dtype_name(dt);
            }
        }
    }
    for (const ScaleCase& c : kScaleCases) {
        for (const ModeCase& m : kModes) {
            const Tensor x = random_tensor(c.shape, seed++, DType::Float64);
            const Tensor y = interpolate_scale(x, c.scale_h, c.scale_w, m.mode, m.align_corners);
            const Tensor gy =
                random_tensor(y.shape(), seed++, DType::Float64).transpose(2, 3).contiguous().transpose(2, 3);
            const InterpParams p = params(m.mode, m.align_corners, c.scale_h, c.scale_w);
            EXPECT_TRUE(matches_cpu(gpu().interpolate_backward(to_cuda(gy), c.shape, p),
                                    cpu_backend().interpolate_backward(gy, c.shape, p), 1e-12, 1e-12))
                << shape_str(c.shape) << " x" << c.scale_h << "," << c.scale_w << " " << m.name;
        }
    }
}

TEST(CudaInterpolateGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    for (bool align : {false, true}) {
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) {
                return interpolate(in[0].to(dev), 7, 5, InterpMode::Bilinear, align).to(Device::cpu());
            },
            {random_leaf({1, 2, 4, 3}, 400)}));
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) {
                return interpolate_scale(in[0].to(dev), 0.6, 1.5, InterpMode::Bilinear, align).to(Device::cpu());
            },
            {random_leaf({2, 1, 6, 4}, 401)}));
    }
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) { return interpolate(in[0].to(dev), 7, 2, InterpMode::Nearest).to(Device::cpu()); },
        {random_leaf({1, 2, 3, 5}, 402)}));
}
