// CUDA batch norm (training statistics with running-stat updates, eval with running stats, optional affine
// parameters, strided parameters) and its backward pass against the CPU backend, plus a gradcheck through the
// device.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

double rtol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }
double atol_of(DType dt) { return dt == DType::Float32 ? 1e-5 : 1e-12; }

// (N,C) rows, one value per channel and sample beyond the first dims, channel counts above one warp, and per-channel
// counts above the 512-thread block.
const Shape kShapes[] = {{4, 3}, {2, 3, 5, 7}, {3, 1, 1, 2}, {1, 5, 17}, {4, 2, 11, 13}, {5, 37}, {2, 4, 3, 2, 3}};

struct Params {
    Tensor weight, bias, running_mean, running_var;
};

Params channel_params(int64_t c, DType dt, uint64_t seed, bool affine, bool running) {
    Params p;
    if (affine) {
        p.weight = random_tensor({c}, seed, dt, 0.5, 1.5);
        p.bias = random_tensor({c}, seed + 1, dt);
    }
    if (running) {
        p.running_mean = random_tensor({c}, seed + 2, dt, -0.5, 0.5);
        p.running_var = random_tensor({c}, seed + 3, dt, 0.5, 2.0);
    }
    return p;
}

Tensor on_device(const Tensor& t) { return t.defined() ? to_cuda(t) : Tensor(); }

}  // namespace

TEST(CudaBatchNormTest, TrainingMatchesCpuAndUpdatesRunningStats) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 1;
    for (const Shape& shape : kShapes) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            for (bool affine : {true, false}) {
                for (bool running : {true, false}) {
                    const Tensor x = random_tensor(shape, seed++, dt, -2.0, 3.0);
                    const Params cpu = channel_params(shape[1], dt, seed, affine, running);
                    seed += 4;
                    Params dev{on_device(cpu.weight), on_device(cpu.bias), on_device(cpu.running_mean),
                               on_device(cpu.running_var)};
                    Params host = cpu;
                    if (running) {
                        host.running_mean = cpu.running_mean.clone();
                        host.running_var = cpu.running_var.clone();
                    }
                    const BatchNormForward expected = cpu_backend().batch_norm_forward(
                        x, host.weight, host.bias, host.running_mean, host.running_var, true, 0.3, 1e-5);
                    const BatchNormForward got = gpu().batch_norm_forward(
                        to_cuda(x), dev.weight, dev.bias, dev.running_mean, dev.running_var, true, 0.3, 1e-5);
                    const std::string what = shape_str(shape) + " " + dtype_name(dt) + (affine ? " affine" : "") +
                                             (running ? " running" : "");
                    EXPECT_TRUE(matches_cpu(got.y, expected.y, atol_of(dt), rtol_of(dt))) << what;
                    EXPECT_TRUE(matches_cpu(got.save_mean, expected.save_mean, atol_of(dt), rtol_of(dt))) << what;
                    EXPECT_TRUE(matches_cpu(got.save_invstd, expected.save_invstd, atol_of(dt), rtol_of(dt))) << what;
                    if (running) {
                        EXPECT_TRUE(matches_cpu(dev.running_mean, host.running_mean, atol_of(dt), rtol_of(dt))) << what;
                        EXPECT_TRUE(matches_cpu(dev.running_var, host.running_var, atol_of(dt), rtol_of(dt))) << what;
                    }
                }
            }
        }
    }
}

TEST(CudaBatchNormTest, EvalUsesRunningStats) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 200;
    for (const Shape& shape : kShapes) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            for (bool affine : {true, false}) {
                const Tensor x = random_tensor(shape, seed++, dt, -2.0, 3.0);
                Params cpu = channel_params(shape[1], dt, seed, affine, true);
                seed += 4;
                Params dev{on_device(cpu.weight), on_device(cpu.bias), on_device(cpu.running_mean),
                           on_device(cpu.running_var)};
                const BatchNormForward expected = cpu_backend().batch_norm_forward(
                    x, cpu.weight, cpu.bias, cpu.running_mean, cpu.running_var, false, 0.1, 1e-3);
                const BatchNormForward got = gpu().batch_norm_forward(
                    to_cuda(x), dev.weight, dev.bias, dev.running_mean, dev.running_var, false, 0.1, 1e-3);
                EXPECT_TRUE(matches_cpu(got.y, expected.y, atol_of(dt), rtol_of(dt))) << shape_str(shape);
                EXPECT_TRUE(matches_cpu(got.save_invstd, expected.save_invstd, atol_of(dt), rtol_of(dt)));
                // Eval leaves the running stats alone.
                EXPECT_TRUE(matches_cpu(dev.running_mean, cpu.running_mean, 0.0, 0.0));
            }
        }
    }
}

TEST(CudaBatchNormTest, StridedInputsAndParameters) {
    REQUIRE_CUDA_DEVICE();
    // x transposed; weight, bias and running stats are every-other-element views of larger buffers.
    const Tensor base = random_tensor({6, 3, 4, 5}, 300, DType::Float32, -1.0, 2.0);
    const Tensor x = base.transpose(0, 2);  // (4, 3, 6, 5)
    const Tensor packed = random_tensor({3, 4}, 301, DType::Float32, 0.5, 1.5);
    const Tensor weight = packed.select(1, 0), bias = packed.select(1, 1);
    Tensor mean_cpu = packed.select(1, 2).clone(), var_cpu = packed.select(1, 3).clone();
    const Tensor dev_packed = to_cuda(packed);
    Tensor stats_dev = to_cuda(random_tensor({3, 2}, 302, DType::Float32));
    Tensor mean_dev = stats_dev.select(1, 0), var_dev = stats_dev.select(1, 1);
    mean_dev.copy_(mean_cpu);
    var_dev.copy_(var_cpu);
    const BatchNormForward expected =
        cpu_backend().batch_norm_forward(x, weight, bias, mean_cpu, var_cpu, true, 0.1, 1e-5);
    const BatchNormForward got = gpu().batch_norm_forward(to_cuda(base).transpose(0, 2), dev_packed.select(1, 0),
                                                          dev_packed.select(1, 1), mean_dev, var_dev, true, 0.1, 1e-5);
    EXPECT_TRUE(matches_cpu(got.y, expected.y));
    EXPECT_TRUE(matches_cpu(mean_dev, mean_cpu));
    EXPECT_TRUE(matches_cpu(var_dev, var_cpu));
    // Through the op: same result and the same running-stat update.
    Tensor rm = zeros({3}, DType::Float32, cuda_device()), rv = ones({3}, DType::Float32, cuda_device());
    Tensor rm_cpu = zeros({3}), rv_cpu = ones({3});
    EXPECT_TRUE(matches_cpu(batch_norm(to_cuda(x), rm, rv, to_cuda(weight), to_cuda(bias), true),
                            batch_norm(x, rm_cpu, rv_cpu, weight, bias, true)));
    EXPECT_TRUE(matches_cpu(rv, rv_cpu));
}

TEST(CudaBatchNormTest, EmptyBatchKeepsRunningStats) {
    REQUIRE_CUDA_DEVICE();
    Tensor rm = to_cuda(ones({3})), rv = to_cuda(full({3}, 2.0));
    const BatchNormForward got = gpu().batch_norm_forward(zeros({0, 3, 2}, DType::Float32, cuda_device()), Tensor(),
                                                          Tensor(), rm, rv, true, 0.1, 1e-5);
    EXPECT_EQ(got.y.shape(), (Shape{0, 3, 2}));
    EXPECT_EQ(rm.to_vector<float>(), (std::vector<float>{1, 1, 1}));
    EXPECT_EQ(rv.to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

TEST(CudaBatchNormTest, BackwardMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 400;
    for (const Shape& shape : kShapes) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            for (bool training : {true, false}) {
                for (bool affine : {true, false}) {
                    const Tensor x = random_tensor(shape, seed++, dt, -2.0, 3.0);
                    const Tensor gy = random_tensor(shape, seed++, dt);
                    Params p = channel_params(shape[1], dt, seed, affine, true);
                    seed += 4;
                    const BatchNormForward fwd = cpu_backend().batch_norm_forward(x, p.weight, p.bias, p.running_mean,
                                                                                  p.running_var, training, 0.1, 1e-5);
                    const BatchNormGrads expected =
                        cpu_backend().batch_norm_backward(gy, x, p.weight, fwd.save_mean, fwd.save_invstd, training);
                    const BatchNormGrads got =
                        gpu().batch_norm_backward(to_cuda(gy), to_cuda(x), on_device(p.weight), to_cuda(fwd.save_mean),
                                                  to_cuda(fwd.save_invstd), training);
                    const std::string what = shape_str(shape) + " " + dtype_name(dt) +
                                             (training ? " training" : " eval") + (affine ? " affine" : "");
                    EXPECT_TRUE(matches_cpu(got.grad_x, expected.grad_x, atol_of(dt), rtol_of(dt))) << what;
                    EXPECT_TRUE(matches_cpu(got.grad_weight, expected.grad_weight, atol_of(dt), rtol_of(dt))) << what;
                    EXPECT_TRUE(matches_cpu(got.grad_bias, expected.grad_bias, atol_of(dt), rtol_of(dt))) << what;
                }
            }
        }
    }
}

TEST(CudaBatchNormGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return batch_norm(in[0].to(dev), Tensor(), Tensor(), in[1].to(dev), in[2].to(dev), true).to(Device::cpu());
        },
        {random_leaf({3, 2, 2, 3}, 500), random_leaf({2}, 501, 0.5, 1.5), random_leaf({2}, 502)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            Tensor rm = zeros({3}, DType::Float64, dev), rv = ones({3}, DType::Float64, dev);
            return batch_norm(in[0].to(dev), rm, rv, Tensor(), Tensor(), true).to(Device::cpu());
        },
        {random_leaf({5, 3}, 503)}));
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            Tensor rm = full({2}, 0.2, DType::Float64, dev), rv = full({2}, 1.5, DType::Float64, dev);
            return batch_norm(in[0].to(dev), rm, rv, in[1].to(dev), Tensor(), false).to(Device::cpu());
        },
        {random_leaf({2, 2, 3}, 504), random_leaf({2}, 505, 0.5, 1.5)}));
}
