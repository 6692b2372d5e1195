// StepLR and CosineAnnealingLR (with warmup) against the lr sequences PyTorch's schedulers produced
// (tests/data/models/torch_reference.json), and clip_grad_norm_ against torch.nn.utils.clip_grad_norm_.
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "common/torch_reference.h"
#include "layers/optim.h"

namespace engine::optim {
namespace {

using namespace engine::test;
using nlohmann::json;

Tensor leaf(const Shape& shape) {
    Tensor t = zeros(shape, DType::Float64);
    t.requires_grad_(true);
    return t;
}

TEST(LRSchedulerTest, MatchesPyTorchSchedules) {
    // A named copy: a range-for over a member of the temporary would iterate freed memory.
    const json reference = torch_reference();
    for (const json& s : reference.at("schedules")) {
        SgdOptions o;
        o.lr = s.at("base_lr").get<double>();
        SGD sgd({leaf({1})}, o);
        std::unique_ptr<LRScheduler> schedule;
        if (s.at("kind") == "step") {
            schedule = std::make_unique<StepLR>(sgd, s.at("step_size").get<int64_t>(), s.at("gamma").get<double>());
        } else {
            schedule =
                std::make_unique<CosineAnnealingLR>(sgd, s.at("t_max").get<int64_t>(), s.at("eta_min").get<double>(),
                                                    s.at("warmup").get<int64_t>(), s.at("start_factor").get<double>());
        }
        const auto lrs = s.at("lrs").get<std::vector<double>>();
        for (size_t epoch = 0; epoch < lrs.size(); ++epoch) {
            EXPECT_NEAR(sgd.lr(), lrs[epoch], 1e-12) << s.at("kind") << " epoch " << epoch;
            EXPECT_EQ(schedule->last_epoch(), static_cast<int64_t>(epoch));
            schedule->step();
        }
    }
}

TEST(LRSchedulerTest, GroupsResumeAndValidation) {
    SgdOptions a, b;
    a.lr = 1.0, b.lr = 0.1;
    SGD sgd(std::vector<ParamGroup<SgdParams>>{{{leaf({1})}, a}, {{leaf({1})}, b}});
    StepLR schedule(sgd, 2, 0.5);
    EXPECT_EQ(schedule.base_lrs(), (std::vector<double>{1.0, 0.1}));
    schedule.set_last_epoch(5);  // resuming at epoch 5: two halvings
    EXPECT_EQ(schedule.last_lr(), (std::vector<double>{0.25, 0.025}));
    EXPECT_NEAR(schedule.lr_at(4, 1.0), 0.25, 0);
    CosineAnnealingLR cosine(sgd, 10, 0.0, 2, 0.5);  // base lrs are the current ones: 0.25 and 0.025
    EXPECT_NEAR(sgd.lr(0), 0.125, 1e-15);
    EXPECT_ENGINE_ERROR(StepLR(sgd, 0), "step_size must be positive");
    EXPECT_ENGINE_ERROR(CosineAnnealingLR(sgd, 10, 0.0, 2, 0.0), "warmup_start_factor must be in (0, 1]");
}

TEST(ClipGradNormTest, MatchesPyTorch) {
    const json reference = torch_reference();
    for (const json& c : reference.at("clip")) {
        const auto grads = c.at("grads").get<std::vector<std::vector<std::vector<double>>>>();
        const auto clipped = c.at("clipped").get<std::vector<std::vector<std::vector<double>>>>();
        std::vector<Tensor> params;
        for (const auto& g : grads) {
            const int64_t rows = static_cast<int64_t>(g.size()), cols = static_cast<int64_t>(g[0].size());
            std::vector<double> flat;
            for (const auto& row : g) flat.insert(flat.end(), row.begin(), row.end());
            params.push_back(leaf({rows, cols}));
            params.back().set_grad(from_vector(flat, {rows, cols}));
        }
        const double norm_type = c.at("norm_type").is_string() ? INFINITY : c.at("norm_type").get<double>();
        const double total = nn::clip_grad_norm_(params, c.at("max_norm").get<double>(), norm_type);
        EXPECT_NEAR(total, c.at("total").get<double>(), 1e-12) << c.dump();
        for (size_t i = 0; i < params.size(); ++i) {
            std::vector<double> flat;
            for (const auto& row : clipped[i]) flat.insert(flat.end(), row.begin(), row.end());
            EXPECT_TRUE(all_close(params[i].grad(), from_vector(flat, params[i].shape()), 1e-12, 1e-10)) << c.dump();
        }
    }
}

TEST(ClipGradNormTest, SkipsMissingGradientsAndReportsNonFinite) {
    Tensor a = leaf({2}), b = leaf({2});
    a.set_grad(from_vector<double>({3.0, 4.0}, {2}));
    EXPECT_NEAR(nn::clip_grad_norm_({a, b}, 10.0), 5.0, 1e-15);
    EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3.0, 4.0}));  // below max_norm: unchanged
    EXPECT_EQ(nn::clip_grad_norm_({b}, 1.0), 0.0);
    a.set_grad(from_vector<double>({NAN, 1.0}, {2}));
    EXPECT_ENGINE_ERROR(nn::clip_grad_norm_({a}, 1.0, 2.0, true), "of the gradients is nan");
}

}  // namespace
}  // namespace engine::optim
