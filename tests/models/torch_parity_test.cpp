// The models reproduce PyTorch's outputs (fixtures from models/export_torch.py): LeNet with weights both sides
// compute from the same formula (logits and an input gradient), and the seed UNet loaded from a state_dict file
// PyTorch exported (eval output, train-mode BatchNorm output and the running statistics it leaves).
#include <filesystem>

#include "autograd/engine.h"
#include "common/test_util.h"
#include "models/models.h"
#include "runtime/safetensors.h"

namespace engine::models {
namespace {

using namespace engine::test;

std::string fixture(const std::string& name) { return std::string(ENGINE_TEST_DATA_DIR) + "/models/" + name; }

// export_torch.py's hashed_fill_: tensor k of the state dict, element i.
void hashed_fill(nn::Module& model) {
    const nn::NamedTensors state = model.state_dict();
    for (size_t k = 0; k < state.size(); ++k) {
        const Tensor& t = state[k].second;
        if (!is_floating(t.dtype())) continue;
        const uint64_t n = static_cast<uint64_t>(t.numel());
        const double bound = t.dim() >= 2 ? 1.0 / std::sqrt(static_cast<double>(n / t.size(0))) : 0.1;
        std::vector<float> values(n);
        for (uint64_t i = 0; i < n; ++i) {
            const uint64_t h = (i * 2654435761ULL + (k + 1) * 40503ULL) % 4294967296ULL;
            const double u = static_cast<double>(h) / 4294967296.0;
            values[i] = static_cast<float>((2.0 * u - 1.0) * bound);
        }
        nn::copy_into(t, from_vector(values, t.shape()));
    }
}

ModelConfig unet_w2_config() {
    return ModelConfig::from_json(R"({"name":"unet","in_channels":3,"num_classes":3,"width":2})");
}

TEST(TorchParityTest, LeNetLogitsAndInputGradient) {
    const safetensors::Contents io = safetensors::load(fixture("lenet_io.safetensors"));
    LeNet lenet;
    hashed_fill(lenet);
    lenet.eval();
    Tensor x = io.at("input").detach();
    x.requires_grad_(true);
    const Tensor logits = lenet(x);
    EXPECT_TRUE(all_close(logits, io.at("output"), 1e-4, 1e-4));
    const Tensor grad = autograd::grad({sum(logits.select(1, 3))}, {x})[0];
    EXPECT_TRUE(all_close(grad, io.at("input_grad"), 1e-4, 1e-4));
}

TEST(TorchParityTest, UNetFromAPyTorchStateDictFile) {
    const safetensors::Contents io = safetensors::load(fixture("unet_w2_io.safetensors"));
    UNet unet(unet_w2_config());
    const nn::LoadResult result = checkpoint::load_weights(fixture("unet_w2.safetensors"), unet);
    EXPECT_TRUE(result.missing_keys.empty() && result.unexpected_keys.empty());
    EXPECT_EQ(unet.buffer("middle.2.num_batches_tracked").item<int64_t>(), 7);

    unet.eval();
    {
        NoGradGuard no_grad;
        EXPECT_TRUE(all_close(unet(io.at("input")), io.at("eval_output"), 1e-4, 1e-4));
    }
    unet.train();  // batch statistics, and the running statistics move as PyTorch's did
    EXPECT_TRUE(all_close(unet(io.at("input")), io.at("train_output"), 1e-4, 1e-4));
    int checked = 0;
    for (const auto& [name, t] : io.tensors) {
        const std::string prefix = "after_train.";
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        EXPECT_TRUE(all_close(unet.buffer(name.substr(prefix.size())), t, 1e-5, 1e-5)) << name;
        ++checked;
    }
    EXPECT_EQ(checked, 18 * 3);
}

// A state dict with one tensor of the wrong shape: the error names it with both shapes, and nothing is loaded.
TEST(TorchParityTest, WrongShapeInAnExportedStateDictIsNamed) {
    safetensors::Contents exported = safetensors::load(fixture("unet_w2.safetensors"));
    for (auto& [name, t] : exported.tensors)
        if (name == "expansive_22.3.weight") t = zeros({8, 8, 3, 1});
    const std::string path = testing::TempDir() + "unet_w2_bad_shape.safetensors";
    safetensors::save(path, exported.tensors, exported.metadata);
    UNet unet(unet_w2_config());
    const Tensor before = unet.parameter("contracting_11.0.weight").detach().clone();
    EXPECT_ENGINE_ERROR(checkpoint::load_weights(path, unet),
                        "weights " + path +
                            ": tensor 'expansive_22.3.weight' has shape [8, 8, 3, 1], the model "
                            "expects [8, 8, 3, 3]");
    EXPECT_TRUE(all_close(unet.parameter("contracting_11.0.weight"), before, 0, 0));
    std::filesystem::remove(path);

    // A UNet of another width: the first tensor already differs.
    ModelConfig wider = unet_w2_config();
    wider.width = 4;
    UNet unet4(wider);
    EXPECT_ENGINE_ERROR(checkpoint::load_weights(fixture("unet_w2.safetensors"), unet4),
                        "tensor 'contracting_11.0.weight' has shape [2, 3, 3, 3], the model expects [4, 3, 3, 3]");
}

}  // namespace
}  // namespace engine::models
