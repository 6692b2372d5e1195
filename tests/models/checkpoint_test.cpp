// Checkpoints: round trips with optimizer state and metadata, exact resumption, and the errors for truncated,
// corrupt, foreign and mismatched files (nothing is loaded unless everything matches).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/test_util.h"
#include "models/models.h"
#include "runtime/safetensors.h"

namespace engine::models {
namespace {

using namespace engine::test;

std::string temp_path(const std::string& name) { return testing::TempDir() + "checkpoint_test_" + name; }

ModelConfig tiny_unet_config() { return ModelConfig::from_json(R"({"name":"unet","width":2,"num_classes":3})"); }

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

// A few Adam steps of a tiny UNet on a fixed batch.
void train(Model& model, optim::Optimizer& optimizer, int steps) {
    const Tensor x = random_tensor({2, 3, 16, 16}, 40, DType::Float32);
    Generator gen(41);
    const Tensor y = floor(uniform({2, 16, 16}, 0.0, 3.0, gen, DType::Float64)).to(DType::Int64);
    nn::CrossEntropyLoss loss;
    for (int i = 0; i < steps; ++i) {
        optimizer.zero_grad();
        loss(model(x), y).backward();
        optimizer.step();
    }
}

void expect_same_state(const nn::Module& a, const nn::Module& b) {
    const nn::NamedTensors sa = a.state_dict(), sb = b.state_dict();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(all_close(sa[i].second, sb[i].second, 0, 0)) << sa[i].first;
}

TEST(CheckpointTest, RoundTripWithMetadata) {
    Generator gen(1);
    UNet model(tiny_unet_config(), gen);
    optim::Adam optimizer(model.parameters(), optim::AdamOptions());
    train(model, optimizer, 1);
    checkpoint::Info info;
    info.epoch = 3, info.step = 42, info.best_metric = 0.8125;
    info.extra = {{"best_metric_name", "miou"}, {"dataset", "isbi2012"}};
    const std::string path = temp_path("round_trip.safetensors");
    checkpoint::save(path, model, &optimizer, info);

    const safetensors::Contents raw = safetensors::load(path);
    EXPECT_TRUE(raw.contains("model.contracting_11.0.weight"));
    EXPECT_TRUE(raw.contains("model.middle.5.num_batches_tracked"));
    EXPECT_TRUE(raw.contains("optim.state.0.exp_avg"));
    EXPECT_EQ(raw.metadata.at("format"), "engine-checkpoint");
    EXPECT_EQ(raw.metadata.at("model"), "unet");

    const checkpoint::Info read = checkpoint::read_info(path);
    EXPECT_EQ(read.epoch, 3);
    EXPECT_EQ(read.step, 42);
    EXPECT_EQ(read.best_metric, 0.8125);
    EXPECT_EQ(read.extra, info.extra);
    EXPECT_EQ(ModelConfig::from_json(read.model_config), tiny_unet_config());

    UNet other(tiny_unet_config());
    optim::Adam other_optimizer(other.parameters(), optim::AdamOptions());
    const checkpoint::Info loaded = checkpoint::load(path, other, &other_optimizer);
    EXPECT_EQ(loaded.step, 42);
    expect_same_state(other, model);
    EXPECT_EQ(other_optimizer.steps(), 1);

    std::shared_ptr<Model> built = checkpoint::load_model(path);  // from the stored config
    EXPECT_EQ(built->config(), tiny_unet_config());
    expect_same_state(*built, model);
    std::filesystem::remove(path);
}

// 4 training steps straight equal 2 steps, save, load into a fresh model and optimizer, and 2 more.
TEST(CheckpointTest, ResumedTrainingContinuesIdentically) {
    Generator gen_a(5), gen_b(5);
    UNet straight(tiny_unet_config(), gen_a);
    optim::AdamOptions options;
    options.lr = 0.01;
    optim::AdamW straight_optimizer(straight.parameters(), options);
    train(straight, straight_optimizer, 4);

    UNet first(tiny_unet_config(), gen_b);
    optim::AdamW first_optimizer(first.parameters(), options);
    train(first, first_optimizer, 2);
    const std::string path = temp_path("resume.safetensors");
    checkpoint::Info info;
    info.step = 2;
    checkpoint::save(path, first, &first_optimizer, info);

    UNet resumed(tiny_unet_config());  // another initialisation, overwritten by the checkpoint
    optim::AdamW resumed_optimizer(resumed.parameters(), options);
    EXPECT_EQ(checkpoint::load(path, resumed, &resumed_optimizer).step, 2);
    train(resumed, resumed_optimizer, 2);
    expect_same_state(resumed, straight);
    std::filesystem::remove(path);
}

TEST(CheckpointTest, WrongModelIsNamed) {
    LeNet lenet;
    const std::string path = temp_path("lenet.safetensors");
    checkpoint::save(path, lenet, nullptr, {});
    UNet unet(tiny_unet_config());
    EXPECT_ENGINE_ERROR(checkpoint::load(path, unet), "checkpoint " + path + " holds a lenet, expected a unet");
    ModelConfig wider = tiny_unet_config();
    wider.width = 4;
    const std::string unet_path = temp_path("unet.safetensors");
    checkpoint::save(unet_path, unet, nullptr, {});
    UNet unet4(wider);
    EXPECT_ENGINE_ERROR(checkpoint::load(unet_path, unet4),
                        "holds a unet with config {\"in_channels\":3,\"name\":\"unet\",\"num_classes\":3,\"width\":2}, "
                        "the model's is {\"in_channels\":3,\"name\":\"unet\",\"num_classes\":3,\"width\":4}");
    // A plain Module has no config to compare: the tensors are checked instead.
    nn::Sequential plain{std::make_shared<nn::Linear>(3, 2)};
    EXPECT_ENGINE_ERROR(checkpoint::load(path, plain), "checkpoint " + path + ": missing tensor '0.weight'");
    optim::SGD sgd(unet.parameters());
    EXPECT_ENGINE_ERROR(checkpoint::load(unet_path, unet, &sgd),
                        "checkpoint " + unet_path + " holds no optimizer state");
    std::filesystem::remove(path);
    std::filesystem::remove(unet_path);
}

// A checkpoint whose config matches but one tensor does not (written by hand): the tensor is named, with both
// shapes or dtypes, and the model is left unchanged.
TEST(CheckpointTest, MismatchedTensorsAreNamedAndNothingLoads) {
    LeNet source, target;
    const std::string path = temp_path("mismatch.safetensors");
    checkpoint::save(path, source, nullptr, {});
    safetensors::Contents contents = safetensors::load(path);
    auto rewrite = [&](const std::string& name, const Tensor& replacement) {
        safetensors::Contents copy = contents;
        for (auto& [key, t] : copy.tensors)
            if (key == name) t = replacement;
        safetensors::save(path, copy.tensors, copy.metadata);
    };
    const Tensor before = target.parameter("conv.0.weight").detach().clone();
    rewrite("model.fc.4.weight", zeros({10, 80}));
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target),
                        "checkpoint " + path + ": tensor 'fc.4.weight' has shape [10, 80], the model expects [10, 84]");
    rewrite("model.fc.2.bias", zeros({84}, DType::Float64));
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target),
                        "tensor 'fc.2.bias' has dtype float64, the model expects float32");
    EXPECT_TRUE(all_close(target.parameter("conv.0.weight"), before, 0, 0));

    safetensors::Contents extra = contents;
    extra.tensors.emplace_back("model.fc.5.weight", zeros({2}));
    safetensors::save(path, extra.tensors, extra.metadata);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target), "unexpected tensor 'fc.5.weight'");
    extra.tensors.back().first = "stray";
    safetensors::save(path, extra.tensors, extra.metadata);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target), "unexpected tensor 'stray' (neither model. nor optim.)");
    std::filesystem::remove(path);
}

TEST(CheckpointTest, NonFiniteWeightsAreRefusedUnlessAccepted) {
    LeNet source, target;
    const std::string path = temp_path("nonfinite.safetensors");
    Tensor bias = source.parameter("fc.2.bias").detach();
    std::vector<float> values(84, 0.5f);
    values[3] = NAN, values[7] = NAN, values[9] = INFINITY;
    bias.copy_(from_vector<float>(values, {84}));
    checkpoint::save(path, source, nullptr, {});
    const Tensor before = target.parameter("fc.2.bias").detach().clone();
    EXPECT_THROW(checkpoint::load(path, target), checkpoint::NonFiniteWeights);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target), "checkpoint " + path +
                                                            ": tensor model.fc.2.bias (2 NaN, 1 infinite of 84 "
                                                            "values) holds NaN or infinite values");
    EXPECT_ENGINE_ERROR(checkpoint::load_model(path), "model.fc.2.bias (2 NaN, 1 infinite of 84 values)");
    EXPECT_TRUE(all_close(target.parameter("fc.2.bias"), before, 0, 0));  // nothing loaded

    checkpoint::save_weights(path, source);
    EXPECT_ENGINE_ERROR(checkpoint::load_weights(path, target), "weights " + path + ": tensor fc.2.bias (2 NaN");
    checkpoint::load_weights(path, target, true, checkpoint::NonFinite::Accept);
    EXPECT_EQ(checkpoint::nonfinite_tensors(target.state_dict()),
              std::vector<std::string>{"fc.2.bias (2 NaN, 1 infinite of 84 values)"});
    EXPECT_TRUE(checkpoint::nonfinite_tensors(LeNet().state_dict()).empty());
    std::filesystem::remove(path);
}

TEST(CheckpointTest, AWriteThatRunsOutOfSpaceKeepsThePreviousCheckpoint) {
    LeNet first, second;
    const std::string path = temp_path("full_disk.safetensors");
    checkpoint::save(path, first, nullptr, {});
    // A child whose files may not grow past 64 KiB (EFBIG, as a full disk gives ENOSPC) overwrites the 180 KB
    // checkpoint: the write must fail with one line and leave the old file and no temporary behind.
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{64 << 10, 64 << 10};
        setrlimit(RLIMIT_FSIZE, &limit);
        try {
            checkpoint::save(path, second, nullptr, {});
        } catch (const Error& e) {
            const std::string message = e.what();
            _exit(message.find("cannot write " + path + ".tmp: File too large") != std::string::npos &&
                          message.find('\n') == std::string::npos
                      ? 0
                      : 2);
        }
        _exit(1);  // the write "succeeded"
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error; 2: not the expected one-line error";
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    LeNet loaded;
    checkpoint::load(path, loaded);
    expect_same_state(loaded, first);
    std::filesystem::remove(path);
}

TEST(CheckpointTest, TruncatedAndCorruptFilesFailCleanly) {
    LeNet model;
    const std::string path = temp_path("corrupt.safetensors");
    checkpoint::save(path, model, nullptr, {});
    const std::string good = read_bytes(path);
    for (size_t keep : {size_t{0}, size_t{5}, size_t{12}, good.size() / 2, good.size() - 1}) {
        write_bytes(path, good.substr(0, keep));
        SCOPED_TRACE("kept " + std::to_string(keep) + " bytes");
        EXPECT_ENGINE_ERROR(checkpoint::load(path, model), "safetensors: " + path);
    }
    std::string garbage = good;
    garbage[8] = '[';  // the header is no longer a JSON object
    write_bytes(path, garbage);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, model), "header");
    write_bytes(path, good + "tail");
    EXPECT_ENGINE_ERROR(checkpoint::load(path, model), "trailing bytes");
    EXPECT_ENGINE_ERROR(checkpoint::load(temp_path("missing.safetensors"), model), "cannot open");

    safetensors::Contents contents = safetensors::parse(good, path);
    contents.metadata["format_version"] = "9";
    safetensors::save(path, contents.tensors, contents.metadata);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, model), "format_version 9 is not supported");
    contents.metadata["format_version"] = "1";
    contents.metadata["epoch"] = "three";
    safetensors::save(path, contents.tensors, contents.metadata);
    EXPECT_ENGINE_ERROR(checkpoint::read_info(path), "metadata 'epoch' is not an integer: 'three'");
    contents.metadata["epoch"] = "3";
    contents.metadata["model_config"] = "{\"name\": \"lenet\", \"depth\": 3}";
    safetensors::save(path, contents.tensors, contents.metadata);
    EXPECT_ENGINE_ERROR(checkpoint::load(path, model), "its model_config is invalid: ModelConfig: unknown key 'depth'");
    std::filesystem::remove(path);
}

TEST(CheckpointTest, PlainWeightFiles) {
    Generator gen(9);
    LeNet source(ModelConfig{}, gen), target;
    const std::string path = temp_path("weights.safetensors");
    checkpoint::save_weights(path, source, {{"note", "plain"}});
    const safetensors::Contents raw = safetensors::load(path);
    EXPECT_EQ(raw.tensors.front().first, "conv.0.weight");  // PyTorch's names, no prefix
    EXPECT_ENGINE_ERROR(checkpoint::load(path, target),
                        "not an engine checkpoint (no format metadata 'engine-checkpoint'); plain weight files load "
                        "with checkpoint::load_weights");
    checkpoint::load_weights(path, target);
    expect_same_state(target, source);

    // load_weights also takes a checkpoint (its model. tensors), and strict = false skips what does not match.
    const std::string ckpt = temp_path("as_weights.safetensors");
    checkpoint::save(ckpt, source, nullptr, {});
    LeNet again;
    checkpoint::load_weights(ckpt, again);
    expect_same_state(again, source);
    ModelConfig five;
    five.num_classes = 5;
    LeNet fewer(five);
    EXPECT_ENGINE_ERROR(checkpoint::load_weights(path, fewer), "tensor 'fc.4.weight' has shape [10, 84]");
    nn::Sequential head{std::make_shared<nn::Linear>(256, 120)};
    safetensors::Contents subset = raw;
    subset.tensors.resize(6);  // conv.0.*, conv.3.*, fc.0.*
    for (auto& [name, t] : subset.tensors)
        if (name.compare(0, 5, "fc.0.") == 0) name = "0." + name.substr(5);
    safetensors::save(path, subset.tensors);
    const nn::LoadResult result = checkpoint::load_weights(path, head, /*strict=*/false);
    EXPECT_TRUE(result.missing_keys.empty());
    EXPECT_EQ(result.unexpected_keys.size(), 4u);
    EXPECT_TRUE(all_close(head.parameter("0.weight"), source.parameter("fc.0.weight"), 0, 0));
    std::filesystem::remove(path);
    std::filesystem::remove(ckpt);
}

TEST(CheckpointTest, SaveRejectsReservedKeysAndForeignConfigs) {
    LeNet model;
    checkpoint::Info info;
    info.extra["epoch"] = "7";
    EXPECT_ENGINE_ERROR(checkpoint::save(temp_path("reserved.safetensors"), model, nullptr, info),
                        "extra metadata key 'epoch' is reserved");
    info.extra.clear();
    info.model_config = R"({"name": "unet"})";
    EXPECT_ENGINE_ERROR(checkpoint::save(temp_path("reserved.safetensors"), model, nullptr, info),
                        "differs from the model's config");
    EXPECT_FALSE(std::filesystem::exists(temp_path("reserved.safetensors")));
}

}  // namespace
}  // namespace engine::models
