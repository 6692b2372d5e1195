// 2-D convolution on the CUDA backend against the CPU backend: forward, input gradient and weight gradient,
// through our implicit-GEMM kernels always and cuDNN too on a real GPU; stride, padding, dilation, groups,
// 1x1, kernels larger than the input, odd sizes, strided inputs, float32 and float64, and gradient checks of
// conv2d and conv_transpose2d run on the device. Sizes stay small for the emulator.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/ops.h"
#include "cuda/cuda_test_util.h"
#include "kernels/backend.h"

#if ENGINE_WITH_CUDA
#include "kernels/cuda/kernel_choice.h"

using namespace engine;
using namespace engine::test;

namespace {

std::vector<cuda::ConvImpl> conv_paths() {
    if (cuda::vendor_libraries_available()) return {cuda::ConvImpl::Own, cuda::ConvImpl::Cudnn};
    return {cuda::ConvImpl::Own};
}

struct Case {
    const char* name;
    Shape x, w;  // (N, C, H, W), (O, C / groups, KH, KW)
    Conv2dParams p;
};

std::vector<Case> cases() {
    return {
        {"3x3 pad 1", {2, 3, 7, 9}, {4, 3, 3, 3}, Conv2dParams::make(1, 1)},
        {"stride 2, odd sizes", {2, 4, 9, 11}, {6, 4, 3, 3}, Conv2dParams::make(2, 1)},
        {"dilation 2, pad 2", {1, 3, 10, 8}, {5, 3, 3, 3}, Conv2dParams::make(1, 2, 2)},
        {"groups 2", {2, 4, 7, 7}, {6, 2, 3, 3}, Conv2dParams::make(1, 1, 1, 2)},
        {"depthwise, stride 2", {1, 6, 8, 7}, {6, 1, 3, 3}, Conv2dParams::make(2, 1, 1, 6)},
        {"asymmetric kernel, stride and padding", {2, 3, 8, 9}, {4, 3, 2, 5}, Conv2dParams{2, 1, 0, 2, 1, 1, 1}},
        {"1x1", {2, 8, 5, 6}, {12, 8, 1, 1}, Conv2dParams::make(1, 0)},
        {"1x1 stride 2", {2, 5, 7, 7}, {3, 5, 1, 1}, Conv2dParams::make(2, 0)},
        {"kernel larger than the input", {1, 2, 3, 3}, {2, 2, 5, 5}, Conv2dParams::make(1, 2)},
        {"single pixel output", {3, 4, 3, 3}, {5, 4, 3, 3}, Conv2dParams::make(1, 0)},
        {"many pixels (split weight gradient)", {2, 4, 24, 24}, {4, 4, 3, 3}, Conv2dParams::make(1, 1)},
        {"wide channels", {1, 32, 6, 6}, {20, 16, 3, 3}, Conv2dParams::make(1, 1, 1, 2)},
    };
}

int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
    return (in + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
}

// Reduction lengths: forward C/g*KH*KW, input gradient O/g*KH*KW, weight gradient N*OH*OW.
double atol_for(DType dtype, int64_t k) { return dtype == DType::Float32 ? 5e-7 * (k + 1) : 1e-12 * (k + 1); }
double rtol_for(DType dtype) { return dtype == DType::Float32 ? 1e-4 : 1e-10; }

class CudaConvTest : public CudaParamTest<cuda::ConvImpl> {};

std::string path_name(const ::testing::TestParamInfo<cuda::ConvImpl>& info) {
    return cuda::conv_impl_name(info.param);
}

TEST_P(CudaConvTest, ForwardAndBothGradientsMatchCpu) {
    cuda::KernelChoiceGuard guard(GetParam());
    Backend& gpu = backend_for(cuda_device());
    uint64_t seed = 100;
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (const Case& c : cases()) {
            const Conv2dParams& p = c.p;
            const int64_t oh = out_size(c.x[2], c.w[2], p.stride_h, p.pad_h, p.dilation_h);
            const int64_t ow = out_size(c.x[3], c.w[3], p.stride_w, p.pad_w, p.dilation_w);
            const Tensor x = random_tensor(c.x, seed++, dtype), w = random_tensor(c.w, seed++, dtype);
            const Tensor bias = random_tensor({c.w[0]}, seed++, dtype);
            const Tensor gy = random_tensor({c.x[0], c.w[0], oh, ow}, seed++, dtype);
            const std::string what = std::string(c.name) + " " + dtype_name(dtype);
            const int64_t k_fwd = c.w[1] * c.w[2] * c.w[3], k_data = c.w[0] / p.groups * c.w[2] * c.w[3];
            const int64_t k_weight = c.x[0] * oh * ow;

            EXPECT_TRUE(matches_cpu(gpu.conv2d_forward(to_cuda(x), to_cuda(w), to_cuda(bias), p),
                                    cpu_backend().conv2d_forward(x, w, bias, p), atol_for(dtype, k_fwd), rtol_for(dtype)))
                << what << " forward";
            // float32 always has a cuDNN algorithm; float64 may fall back to ours, which is fine.
            if (dtype == DType::Float32) EXPECT_EQ(cuda::last_conv_impl(), GetParam()) << what;
            EXPECT_TRUE(matches_cpu(gpu.conv2d_forward(to_cuda(x), to_cuda(w), Tensor(), p),
                                    cpu_backend().conv2d_forward(x, w, Tensor(), p), atol_for(dtype, k_fwd),
                                    rtol_for(dtype)))
                << what << " forward without bias";
            EXPECT_TRUE(matches_cpu(gpu.conv2d_backward_data(to_cuda(gy), to_cuda(w), c.x, p),
                                    cpu_backend().conv2d_backward_data(gy, w, c.x, p), atol_for(dtype, k_data),
                                    rtol_for(dtype)))
                << what << " input gradient";
            EXPECT_TRUE(matches_cpu(gpu.conv2d_backward_weight(to_cuda(gy), to_cuda(x), c.w, p),
                                    cpu_backend().conv2d_backward_weight(gy, x, c.w, p), atol_for(dtype, k_weight),
                                    rtol_for(dtype)))
                << what << " weight gradient";
            if (dtype == DType::Float32) EXPECT_EQ(cuda::last_conv_impl(), GetParam()) << what;
        }
    }
}

// The same view geometry over a device copy of the view's storage.
Tensor view_on_device(const Tensor& storage, const Tensor& view) {
    return make_view(to_cuda(storage), view.shape(), view.strides(), view.offset());
}

TEST_P(CudaConvTest, StridedInputsAreRead) {
    cuda::KernelChoiceGuard guard(GetParam());
    // Activations stored channels-last and viewed as NCHW; the weight stored (KH, KW, C, O).
    const Tensor x_storage = random_tensor({2, 7, 6, 4}, 201, DType::Float64);
    const Tensor w_storage = random_tensor({3, 3, 4, 2}, 202, DType::Float64);
    const Tensor gy_storage = random_tensor({2, 7, 6, 2}, 203, DType::Float64);
    const Tensor x = x_storage.permute({0, 3, 1, 2});   // (2, 4, 7, 6)
    const Tensor w = w_storage.permute({3, 2, 0, 1});   // (2, 4, 3, 3)
    const Tensor gy = gy_storage.permute({0, 3, 1, 2});  // (2, 2, 7, 6)
    const Tensor x_dev = view_on_device(x_storage, x), w_dev = view_on_device(w_storage, w);
    const Tensor gy_dev = view_on_device(gy_storage, gy);
    ASSERT_FALSE(x_dev.is_contiguous() || w_dev.is_contiguous() || gy_dev.is_contiguous());
    const Conv2dParams p = Conv2dParams::make(1, 1);
    Backend& gpu = backend_for(cuda_device());
    EXPECT_TRUE(matches_cpu(gpu.conv2d_forward(x_dev, w_dev, Tensor(), p), cpu_backend().conv2d_forward(x, w, Tensor(), p),
                            1e-12, 1e-10));
    EXPECT_TRUE(matches_cpu(gpu.conv2d_backward_data(gy_dev, w_dev, x.shape(), p),
                            cpu_backend().conv2d_backward_data(gy, w, x.shape(), p), 1e-12, 1e-10));
    EXPECT_TRUE(matches_cpu(gpu.conv2d_backward_weight(gy_dev, x_dev, w.shape(), p),
                            cpu_backend().conv2d_backward_weight(gy, x, w.shape(), p), 1e-12, 1e-10));
}

TEST_P(CudaConvTest, TransposedConvolutionWithOutputPadding) {
    cuda::KernelChoiceGuard guard(GetParam());
    for (DType dtype : {DType::Float32, DType::Float64}) {
        // The input gradient of a stride-2 convolution onto an input one row and column larger than needed.
        const Tensor x = random_tensor({2, 6, 4, 5}, 301, dtype), w = random_tensor({6, 3, 3, 3}, 302, dtype);
        const Conv2dParams p = Conv2dParams::make(2, 1);
        const Tensor expected = conv_transpose2d(x, w, Tensor(), p, 1, 1);
        EXPECT_TRUE(matches_cpu(conv_transpose2d(to_cuda(x), to_cuda(w), Tensor(), p, 1, 1), expected,
                                atol_for(dtype, 20), rtol_for(dtype)))
            << dtype_name(dtype);
        // And the UNet's upsampling: kernel 2, stride 2.
        const Tensor up_x = random_tensor({1, 8, 3, 4}, 303, dtype), up_w = random_tensor({8, 4, 2, 2}, 304, dtype);
        const Conv2dParams up = Conv2dParams::make(2, 0);
        EXPECT_TRUE(matches_cpu(conv_transpose2d(to_cuda(up_x), to_cuda(up_w), Tensor(), up),
                                conv_transpose2d(up_x, up_w, Tensor(), up), atol_for(dtype, 8), rtol_for(dtype)))
            << dtype_name(dtype) << " kernel 2 stride 2";
    }
}

TEST_P(CudaConvTest, ZeroSizedChannelsGiveTheBias) {
    cuda::KernelChoiceGuard guard(GetParam());
    const Tensor x = zeros({2, 0, 4, 4}, DType::Float64), w = zeros({3, 0, 3, 3}, DType::Float64);
    const Tensor bias = random_tensor({3}, 401, DType::Float64);
    const Conv2dParams p = Conv2dParams::make(1, 1);
    EXPECT_TRUE(matches_cpu(backend_for(cuda_device()).conv2d_forward(to_cuda(x), to_cuda(w), to_cuda(bias), p),
                            cpu_backend().conv2d_forward(x, w, bias, p)));
    const Tensor gy = random_tensor({2, 3, 4, 4}, 402, DType::Float64);
    const Tensor gw = backend_for(cuda_device()).conv2d_backward_weight(to_cuda(gy), to_cuda(x), w.shape(), p);
    EXPECT_EQ(gw.shape(), w.shape());
}

TEST_P(CudaConvTest, GradcheckOfConv2dOnTheDevice) {
    cuda::KernelChoiceGuard guard(GetParam());
    const auto conv_on_device = [](const Conv2dParams& p) {
        return [p](const TensorList& in) {
            return conv2d(in[0].to(cuda_device()), in[1].to(cuda_device()), in[2].to(cuda_device()), p)
                .to(Device::cpu());
        };
    };
    EXPECT_TRUE(passes_gradcheck(conv_on_device(Conv2dParams::make(2, 1)),
                                 {random_leaf({1, 2, 5, 5}, 501), random_leaf({3, 2, 3, 3}, 502), random_leaf({3}, 503)}));
    EXPECT_TRUE(passes_gradcheck(conv_on_device(Conv2dParams::make(1, 2, 2, 2)),
                                 {random_leaf({1, 4, 5, 4}, 504), random_leaf({2, 2, 3, 3}, 505), random_leaf({2}, 506)}));
}

TEST_P(CudaConvTest, GradcheckOfConvTranspose2dOnTheDevice) {
    cuda::KernelChoiceGuard guard(GetParam());
    const Conv2dParams p = Conv2dParams::make(2, 1);
    const auto f = [p](const TensorList& in) {
        return conv_transpose2d(in[0].to(cuda_device()), in[1].to(cuda_device()), Tensor(), p, 1, 0)
            .to(Device::cpu());
    };
    EXPECT_TRUE(passes_gradcheck(f, {random_leaf({1, 3, 3, 2}, 601), random_leaf({3, 2, 3, 3}, 602)}));
}

INSTANTIATE_TEST_SUITE_P(Paths, CudaConvTest, ::testing::ValuesIn(conv_paths()), path_name);

}  // namespace

#endif  // ENGINE_WITH_CUDA
