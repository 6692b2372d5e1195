// Models on a CUDA device (skipped with a message when there is none): Module::to(Device) moves parameters in
// place (an optimizer built before keeps working and its state follows), forward and a training step agree with
// the CPU, and checkpoints cross devices both ways.
#include <filesystem>

#include "common/test_util.h"
#include "models/models.h"
#include "runtime/cuda_device.h"

namespace engine::models {
namespace {

using namespace engine::test;

#define REQUIRE_CUDA()                                                                                  \
    do {                                                                                                \
        if (!::engine::cuda::is_available())                                                            \
            GTEST_SKIP() << "no CUDA device (" << ::engine::cuda::unavailable_reason() << "): skipped"; \
    } while (0)

void train_steps(Model& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& y, int steps) {
    nn::CrossEntropyLoss loss;
    for (int i = 0; i < steps; ++i) {
        optimizer.zero_grad();
        loss(model(x), y).backward();
        optimizer.step();
    }
}

TEST(ModelDeviceTest, MovesInPlaceAndTrainsLikeTheCpu) {
    REQUIRE_CUDA();
    const Device gpu = Device::cuda(0);
    Generator gen_cpu(1), gen_gpu(1);
    const ModelConfig config = ModelConfig::from_json(R"({"name":"unet","width":2,"num_classes":3})");
    UNet on_cpu(config, gen_cpu), on_gpu(config, gen_gpu);
    // SGD with momentum: its updates follow the gradients smoothly, so CPU and GPU runs stay comparable.
    optim::SgdOptions sgd;
    sgd.lr = 0.05, sgd.momentum = 0.9;
    optim::SGD cpu_optimizer(on_cpu.parameters(), sgd),
        gpu_optimizer(on_gpu.parameters(), sgd);  // built before the move
    const Tensor weight = on_gpu.parameter("contracting_11.0.weight");
    on_gpu.to(gpu);
    EXPECT_TRUE(weight.device().is_cuda());
    EXPECT_TRUE(weight.is_same(on_gpu.parameter("contracting_11.0.weight")));
    EXPECT_TRUE(on_gpu.buffer("middle.5.num_batches_tracked").device().is_cuda());

    const Tensor x = random_tensor({2, 3, 32, 32}, 2, DType::Float32);
    Generator gen(3);
    const Tensor y = floor(uniform({2, 32, 32}, 0.0, 3.0, gen, DType::Float64)).to(DType::Int64);
    train_steps(on_cpu, cpu_optimizer, x, y, 2);
    train_steps(on_gpu, gpu_optimizer, x.to(gpu), y.to(gpu), 2);
    for (const auto& [name, t] : gpu_optimizer.state_dict().tensors) EXPECT_TRUE(t.device().is_cuda()) << name;
    const nn::NamedTensors a = on_cpu.state_dict(), b = on_gpu.state_dict();
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(all_close(b[i].second, a[i].second, 1e-4, 1e-3)) << a[i].first;
    on_cpu.eval();
    on_gpu.eval();
    EXPECT_TRUE(all_close(on_gpu(x.to(gpu)), on_cpu(x), 1e-4, 1e-3));

    // A checkpoint written from the device loads on the CPU, and back onto the device with its optimizer state.
    const std::string path = testing::TempDir() + "device_test.safetensors";
    checkpoint::save(path, on_gpu, &gpu_optimizer, {});
    std::shared_ptr<Model> loaded = checkpoint::load_model(path);
    const nn::NamedTensors c = loaded->state_dict();
    for (size_t i = 0; i < b.size(); ++i) EXPECT_TRUE(all_close(c[i].second, b[i].second, 0, 0)) << b[i].first;
    UNet again(config);
    again.to(gpu);
    optim::SGD again_optimizer(again.parameters(), sgd);
    checkpoint::load(path, again, &again_optimizer);
    EXPECT_TRUE(again.parameter("output.weight").device().is_cuda());
    std::filesystem::remove(path);

    // Back to the CPU: the optimizer's device state follows at the next step.
    on_gpu.train();
    on_gpu.to(Device::cpu());
    train_steps(on_gpu, gpu_optimizer, x, y, 1);
    for (const auto& [name, t] : gpu_optimizer.state_dict().tensors) EXPECT_TRUE(t.device().is_cpu()) << name;
}

}  // namespace
}  // namespace engine::models
