// state_dict() / load_state_dict(): round trips, strict and non-strict loading, and the errors that name the
// first missing, unexpected or mis-shaped tensor.
#include "common/test_util.h"
#include "layers/layers.h"

namespace engine::nn {
namespace {

using namespace engine::test;

std::shared_ptr<Sequential> net(uint64_t seed) {
    Generator gen(seed);
    auto s = std::make_shared<Sequential>();
    s->emplace_back<Conv2d>(Conv2dOptions(3, 4, 3), gen);
    s->emplace_back<BatchNorm2d>(4);
    s->emplace_back<ReLU>();
    s->emplace_back<Flatten>();
    s->emplace_back<Linear>(4 * 2 * 2, 3, gen);
    return s;
}

std::map<std::string, Tensor> cloned_state(const Module& m) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, t] : m.state_dict()) out[name] = t.detach().clone();
    return out;
}

TEST(StateDictTest, RoundTripCopiesIntoTheSameTensors) {
    auto a = net(1), b = net(2);
    a->train();
    (*a)(random_tensor({2, 3, 4, 4}, 3, DType::Float32));  // moves the running statistics
    const Tensor weight_b = b->parameter("0.weight");
    EXPECT_FALSE(all_close(weight_b, a->parameter("0.weight")));
    const LoadResult result = b->load_state_dict(a->state_dict());
    EXPECT_TRUE(result.missing_keys.empty() && result.unexpected_keys.empty());
    EXPECT_TRUE(b->parameter("0.weight").is_same(weight_b));  // same TensorImpl, new values
    const NamedTensors sa = a->state_dict(), sb = b->state_dict();
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i) {
        EXPECT_EQ(sa[i].first, sb[i].first);
        EXPECT_TRUE(all_close(sb[i].second, sa[i].second, 0, 0)) << sa[i].first;
    }
    EXPECT_EQ(b->buffer("1.num_batches_tracked").item<int64_t>(), 1);
    a->eval();
    b->eval();
    const Tensor x = random_tensor({2, 3, 4, 4}, 4, DType::Float32);
    EXPECT_TRUE(all_close((*a)(x), (*b)(x), 0, 0));
}

TEST(StateDictTest, ConvertsFloatingDtypes) {
    auto a = net(1), b = net(2);
    a->to(DType::Float64);
    b->load_state_dict(a->state_dict());
    EXPECT_EQ(b->parameter("4.weight").dtype(), DType::Float32);
    EXPECT_TRUE(all_close(b->parameter("4.weight"), a->parameter("4.weight"), 1e-7, 1e-6));
    auto state = cloned_state(*a);
    state["0.bias"] = zeros({4}, DType::Int64);
    EXPECT_ENGINE_ERROR(b->load_state_dict(state), "tensor '0.bias' has dtype int64, the model expects float32");
}

TEST(StateDictTest, NamesTheMisShapedTensorWithBothShapes) {
    auto a = net(1), b = net(2);
    auto state = cloned_state(*a);
    state["4.weight"] = zeros({5, 16});
    const std::vector<double> before = b->parameter("0.weight").to_vector<double>();
    EXPECT_ENGINE_ERROR(b->load_state_dict(state),
                        "load_state_dict: tensor '4.weight' has shape [5, 16], the model expects [3, 16]");
    // Validation happens before any copy: tensors earlier in the order are untouched.
    EXPECT_EQ(b->parameter("0.weight").to_vector<double>(), before);
    EXPECT_ENGINE_ERROR(b->load_state_dict(state, /*strict=*/false), "tensor '4.weight' has shape [5, 16]");
}

TEST(StateDictTest, StrictLoadingNamesTheFirstMissingOrUnexpectedTensor) {
    auto a = net(1), b = net(2);
    auto state = cloned_state(*a);
    state.erase("1.running_var");
    state.erase("4.bias");
    EXPECT_ENGINE_ERROR(b->load_state_dict(state),
                        "load_state_dict: missing tensor '1.running_var' (the model expects shape [4]) "
                        "(2 missing and 0 unexpected in all)");
    state = cloned_state(*a);
    state["5.weight"] = zeros({2, 2});
    EXPECT_ENGINE_ERROR(b->load_state_dict(state),
                        "load_state_dict: unexpected tensor '5.weight' (shape [2, 2]) that the model does not have "
                        "(0 missing and 1 unexpected in all)");
}

TEST(StateDictTest, NonStrictLoadingReportsWhatItSkipped) {
    auto a = net(1), b = net(2);
    auto state = cloned_state(*a);
    state.erase("4.bias");
    state["extra"] = zeros({1});
    const Tensor bias_before = b->parameter("4.bias").detach().clone();
    const LoadResult result = b->load_state_dict(state, false);
    EXPECT_EQ(result.missing_keys, std::vector<std::string>{"4.bias"});
    EXPECT_EQ(result.unexpected_keys, std::vector<std::string>{"extra"});
    EXPECT_TRUE(all_close(b->parameter("4.weight"), a->parameter("4.weight"), 0, 0));
    EXPECT_TRUE(all_close(b->parameter("4.bias"), bias_before, 0, 0));
}

TEST(StateDictTest, NamedTensorsFormRejectsDuplicates) {
    auto a = net(1);
    NamedTensors state = a->state_dict();
    state.push_back(state.front());
    EXPECT_ENGINE_ERROR(a->load_state_dict(state), "tensor '0.weight' appears twice");
}

TEST(StateDictTest, NonPersistentBuffersAreLeftOut) {
    Identity m;
    m.register_buffer("kept", zeros({1}));
    m.register_buffer("scratch", zeros({1}), false);
    ASSERT_EQ(m.state_dict().size(), 1u);
    EXPECT_EQ(m.state_dict()[0].first, "kept");
    EXPECT_EQ(m.named_buffers().size(), 2u);
}

}  // namespace
}  // namespace engine::nn
