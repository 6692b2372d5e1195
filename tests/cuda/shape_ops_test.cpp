// CUDA shape ops (cat along any dim of many mixed-stride inputs, constant / reflect / replicate pad with
// negative pads, and pad's backward) against the CPU backend over dtypes, plus gradchecks through the device.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

using namespace engine;
using namespace engine::test;

namespace {

Tensor values(const Shape& shape, uint64_t seed, DType dt) { return random_values(shape, seed, dt); }

std::vector<Tensor> on_device(const std::vector<Tensor>& xs) {
    std::vector<Tensor> out;
    for (const Tensor& x : xs) out.push_back(to_cuda(x));
    return out;
}

}  // namespace

TEST(CudaCatTest, AnyDimAndDTypeMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    uint64_t seed = 1;
    for (DType dt : kAllDTypes) {
        for (int64_t dim : {0, 1, 2, -1}) {
            std::vector<Tensor> xs;
            for (int64_t size : {1, 3, 0, 7, 2}) {
                Shape shape = {2, 3, 5};
                shape[dim < 0 ? 2 : dim] = size;
                xs.push_back(values(shape, seed++, dt));
            }
            EXPECT_TRUE(matches_cpu(cat(on_device(xs), dim), cat(xs, dim), 0.0, 0.0))
                << "dim " << dim << " " << dtype_name(dt);
        }
    }
}

TEST(CudaCatTest, ManyInputsWithMixedStrides) {
    REQUIRE_CUDA_DEVICE();
    // 37 inputs (more than one launch batch), some transposed, narrowed or expanded.
    for (int64_t dim : {0, 1}) {
        std::vector<Tensor> xs, ds;
        for (int i = 0; i < 37; ++i) {
            const int64_t size = 1 + i % 5;
            Shape shape = dim == 0 ? Shape{size, 6} : Shape{6, size};
            Tensor x = random_tensor(shape, 100 + i, DType::Float32);
            Tensor d = to_cuda(x);
            if (i % 3 == 1) {  // the same values through a transposed buffer
                x = x.t().contiguous().t();
                d = d.t().contiguous().t();
            } else if (i % 3 == 2) {
                Shape wide = shape;
                wide[1 - dim] = 9;
                const Tensor w = random_tensor(wide, 200 + i, DType::Float32);
                x = w.narrow(1 - dim, 2, 6);
                d = to_cuda(w).narrow(1 - dim, 2, 6);
            }
            xs.push_back(x);
            ds.push_back(d);
        }
        const Tensor row = random_tensor({1, 6}, 300, DType::Float32);
        xs.push_back(dim == 0 ? row.expand({4, 6}) : row.t().expand({6, 4}));
        ds.push_back(dim == 0 ? to_cuda(row).expand({4, 6}) : to_cuda(row).t().expand({6, 4}));
        EXPECT_TRUE(matches_cpu(cat(ds, dim), cat(xs, dim), 0.0, 0.0)) << "dim " << dim;
    }
    // Skipped empty 1-D inputs, and a large input beside small ones.
    const std::vector<Tensor> xs = {zeros({0}), random_tensor({3, 1000}, 301, DType::Float32), zeros({0}),
                                    random_tensor({3, 1}, 302, DType::Float32)};
    EXPECT_TRUE(matches_cpu(cat(on_device(xs), 1), cat(xs, 1), 0.0, 0.0));
}

TEST(CudaPadTest, ConstantPadMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    const std::vector<std::vector<int64_t>> pad_sets = {
        {1, 2}, {0, 0}, {3, 1, 2, 0}, {-1, 2}, {2, -3, -1, 1}, {1, 1, 0, 2, 1, 0}, {-2, -1, 0, 0, 1, -1}};
    uint64_t seed = 400;
    for (DType dt : kAllDTypes) {
        for (const auto& pads : pad_sets) {
            const Tensor x = values({2, 4, 5}, seed++, dt);
            EXPECT_TRUE(matches_cpu(pad(to_cuda(x), pads, PadMode::Constant, 1.0), pad(x, pads, PadMode::Constant, 1.0),
                                    0.0, 0.0))
                << shape_str(pads) << " " << dtype_name(dt);
        }
    }
    // A strided input, a 5-D input padded in its last three dims, a padded empty dim, and a value.
    const Tensor base = random_tensor({3, 7, 6}, 410, DType::Float64);
    EXPECT_TRUE(matches_cpu(pad(to_cuda(base).transpose(0, 2), {2, 1, -1, 3}, PadMode::Constant, -2.5),
                            pad(base.transpose(0, 2), {2, 1, -1, 3}, PadMode::Constant, -2.5), 0.0, 0.0));
    const Tensor five = random_tensor({2, 1, 3, 2, 4}, 411, DType::Float32);
    EXPECT_TRUE(matches_cpu(pad(to_cuda(five), {1, 0, 0, 2, 1, 1}, PadMode::Constant, 0.5),
                            pad(five, {1, 0, 0, 2, 1, 1}, PadMode::Constant, 0.5), 0.0, 0.0));
    const Tensor empty_dim = zeros({2, 0});
    EXPECT_TRUE(matches_cpu(pad(to_cuda(empty_dim), {2, 1}, PadMode::Constant, 4.0),
                            pad(empty_dim, {2, 1}, PadMode::Constant, 4.0), 0.0, 0.0));
}

TEST(CudaPadTest, ReflectAndReplicateMatchCpu) {
    REQUIRE_CUDA_DEVICE();
    struct Case {
        Shape shape;
        std::vector<int64_t> pads;
    };
    const Case cases[] = {{{2, 7}, {3, 2}},
                          {{2, 3, 7}, {0, 6}},
                          {{3, 5, 6}, {2, 1, 4, 3}},
                          {{2, 2, 5, 9}, {8, 1, 0, 4}},
                          {{1, 2, 4, 4}, {-1, 2, 3, -2}},
                          {{1, 1, 1, 1}, {0, 0, 0, 0}},
                          {{2, 3, 17, 19}, {5, 7, 3, 2}}};
    uint64_t seed = 500;
    for (PadMode mode : {PadMode::Reflect, PadMode::Replicate}) {
        for (const Case& c : cases) {
            for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::UInt8}) {
                const Tensor x = values(c.shape, seed++, dt);
                bool fits = true;  // reflect needs pads smaller than the dim
                for (size_t i = 0; i < c.pads.size(); ++i)
                    fits &= mode != PadMode::Reflect || c.pads[i] < c.shape[c.shape.size() - 1 - i / 2];
                if (!fits) continue;
                EXPECT_TRUE(matches_cpu(pad(to_cuda(x), c.pads, mode), pad(x, c.pads, mode), 0.0, 0.0))
                    << shape_str(c.shape) << " pads " << shape_str(c.pads) << " " << dtype_name(dt);
            }
        }
    }
    const Tensor base = random_tensor({2, 6, 5}, 520, DType::Float32);
    EXPECT_TRUE(matches_cpu(pad(to_cuda(base).transpose(1, 2), {2, 3, 1, 4}, PadMode::Reflect),
                            pad(base.transpose(1, 2), {2, 3, 1, 4}, PadMode::Reflect), 0.0, 0.0));
}

TEST(CudaPadTest, BackwardMatchesCpu) {
    REQUIRE_CUDA_DEVICE();
    struct Case {
        Shape shape;
        std::vector<int64_t> pads;
        PadMode mode;
    };
    const Case cases[] = {{{2, 4, 5}, {1, 2}, PadMode::Constant},
                          {{2, 4, 5}, {-1, 2, 3, -2}, PadMode::Constant},
                          {{2, 3, 4, 5}, {1, 0, 2, 1, 0, 1}, PadMode::Constant},
                          {{2, 7}, {3, 2}, PadMode::Reflect},
                          {{3, 5, 6}, {2, 1, 4, 3}, PadMode::Reflect},
                          {{2, 2, 5, 9}, {8, 1, 0, 4}, PadMode::Reflect},
                          {{1, 2, 4, 4}, {-1, 2, 3, -2}, PadMode::Reflect},
                          {{2, 3, 7}, {9, 6}, PadMode::Replicate},
                          {{3, 5, 6}, {2, 1, 4, 3}, PadMode::Replicate},
                          {{1, 1, 1, 3}, {2, 2, 3, 1}, PadMode::Replicate},
                          {{2, 3, 17, 19}, {5, 7, 3, 2}, PadMode::Replicate},
                          {{1, 2, 4, 4}, {-1, 2, 3, -2}, PadMode::Replicate}};
    uint64_t seed = 600;
    for (const Case& c : cases) {
        for (DType dt : {DType::Float32, DType::Float64}) {
            const Tensor y = pad(random_tensor(c.shape, seed++, dt), c.pads, c.mode);
            const Tensor gy = random_tensor(y.shape(), seed++, dt);
            EXPECT_TRUE(matches_cpu(gpu().pad_backward(to_cuda(gy), c.shape, c.pads, c.mode),
                                    cpu_backend().pad_backward(gy, c.shape, c.pads, c.mode), 1e-6,
                                    dt == DType::Float32 ? 1e-6 : 1e-14))
                << shape_str(c.shape) << " pads " << shape_str(c.pads) << " " << dtype_name(dt);
        }
    }
}

TEST(CudaShapeOpsGradTest, GradcheckThroughTheDevice) {
    REQUIRE_CUDA_DEVICE();
    const Device dev = cuda_device();
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return cat({in[0].to(dev), in[1].to(dev).t(), in[2].to(dev)}, 1).to(Device::cpu());
        },
        {random_leaf({3, 2}, 700), random_leaf({4, 3}, 701), random_leaf({3, 1}, 702)}));
    for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Replicate}) {
        EXPECT_TRUE(passes_gradcheck(
            [&](const TensorList& in) {
                return pad(in[0].to(dev), {2, 1, 1, 2}, mode).to(Device::cpu());
            },
            {random_leaf({2, 3, 4}, 703)}));
    }
    EXPECT_TRUE(passes_gradcheck(
        [&](const TensorList& in) {
            return pad(in[0].to(dev), {-1, 2}, PadMode::Constant, 0.5).to(Device::cpu());
        },
        {random_leaf({3, 4}, 704)}));
}
