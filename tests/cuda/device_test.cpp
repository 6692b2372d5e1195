// The CUDA device layer: without a GPU (CI) every request fails with one clear line; with one, tensors make a
// round trip through device memory and the first hand-written kernel runs.
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "kernels/backend.h"
#include "cuda/cuda_test_util.h"
#include "runtime/cuda_device.h"

using namespace engine;

TEST(CudaDeviceTest, AbsenceIsReportedClearly) {
    if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is present: " << cuda::device_name(0);
    EXPECT_EQ(cuda::device_count(), 0);
    EXPECT_FALSE(cuda::unavailable_reason().empty());
    try {
        zeros({2, 2}, DType::Float32, Device::cuda());
        FAIL() << "allocating on a missing CUDA device did not throw";
    } catch (const DeviceError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("no CUDA device: ", 0), 0u) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << "the error must be one line: " << message;
    }
    EXPECT_ENGINE_ERROR(ones({3}).to(Device::cuda()), "no CUDA device");
    EXPECT_ENGINE_ERROR(backend_for(Device::cuda(1)), "no CUDA device");
}

TEST(CudaDeviceTest, RoundTripAndFillKernelOnARealDevice) {
    REQUIRE_CUDA_DEVICE();
    Tensor host = arange(0, 1000, 1, DType::Float32);
    Tensor device = host.to(Device::cuda());
    EXPECT_TRUE(device.device().is_cuda());
    EXPECT_EQ(device.to(Device::cpu()).to_vector<float>(), host.to_vector<float>());
    for (DType dt : {DType::Float32, DType::Float64, DType::Int64, DType::UInt8}) {
        Tensor filled = full({1 << 20}, 3.0, dt, Device::cuda());
        cuda::synchronize(0);
        for (double v : filled.to_vector<double>()) ASSERT_EQ(v, 3.0);
    }
    Tensor copy = empty({1000}, DType::Float32, Device::cuda());
    copy.copy_(device);
    EXPECT_EQ(copy.to(Device::cpu()).to_vector<float>(), host.to_vector<float>());
}

TEST(CudaDeviceTest, AutogradMovesGradientsBackAcrossDevices) {
    REQUIRE_CUDA_DEVICE();
    Tensor x = ones({4}, DType::Float32);
    x.requires_grad_(true);
    Tensor on_device = x.to(Device::cuda());
    on_device.to(Device::cpu()).backward(full({4}, 2.0, DType::Float32));
    EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 2, 2, 2}));
}
