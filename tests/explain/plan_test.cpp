// Tests of the explain command's plan (flags -> typed plan, before any model or image is read), its method table
// and the enum-name helper every enum of apps/explain uses.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "apps/common/app_main.h"
#include "apps/common/enum_names.h"
#include "apps/explain/cli_method_table.h"
#include "apps/explain/cli_methods.h"
#include "apps/explain/cli_options.h"
#include "apps/explain/cli_plan.h"
#include "apps/explain/cli_targets.h"

namespace engine::explain::cli {
namespace {

namespace fs = std::filesystem;

// Flags that make a complete plan: files that do not exist, since making the plan reads none.
ExplainOptions minimal() {
    ExplainOptions o;
    o.weights = "/nonexistent/weights.safetensors";
    o.images = {"/nonexistent/image.png"};
    o.out = "/nonexistent/out";
    return o;
}

// The one-line usage error of make_plan(), or "" when it succeeds.
std::string usage_error(const ExplainOptions& o) {
    try {
        make_plan(o);
    } catch (const apps::UsageError& e) {
        return e.what();
    }
    return "";
}

TEST(EnumNames, NamesParsesAliasesAndListsTheAcceptedNames) {
    enum class Fruit { Apple, Pear, Plum };
    static constexpr apps::EnumName<Fruit> rows[] = {
        {Fruit::Apple, "apple"}, {Fruit::Pear, "pear"}, {Fruit::Plum, "plum"}, {Fruit::Apple, "malus"}};
    static constexpr apps::EnumNames<Fruit> names{"fruit", rows};
    EXPECT_STREQ(names.name(Fruit::Apple), "apple");  // a value's first row, not its alias
    EXPECT_EQ(names.parse("malus"), Fruit::Apple);
    EXPECT_EQ(names.parse("plum"), Fruit::Plum);
    EXPECT_FALSE(names.find("Plum"));  // exact case unless asked otherwise
    EXPECT_EQ(names.names(), (std::vector<std::string>{"apple", "pear", "plum"}));
    try {
        names.parse("kiwi");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "unknown fruit 'kiwi' (valid: apple, pear, plum)");
    }
    static constexpr apps::EnumNames<Fruit> any_case{"fruit", rows, apps::NameCase::Insensitive};
    EXPECT_EQ(any_case.parse("PEAR"), Fruit::Pear);
}

TEST(MethodTable, EverySpellingNamesOneMethod) {
    std::set<std::string> names, tags;
    for (const MethodInfo& m : method_table()) {
        EXPECT_TRUE(names.insert(m.name).second) << m.name;
        EXPECT_TRUE(tags.insert(m.file_tag).second) << m.file_tag;
        EXPECT_EQ(method_spellings().parse(m.name), m.method);
        EXPECT_EQ(method_spellings().parse(m.file_tag), m.method);
        EXPECT_STREQ(method_spellings().name(m.method), m.name);
        if (m.family == MethodFamily::Cam) {
            EXPECT_EQ(method_spellings().parse(cam_method_name(m.cam)), m.method) << m.name;
        }
        if (m.family == MethodFamily::InputGradient) {
            EXPECT_NE(m.gradient, nullptr) << m.name;
        }
    }
    // No spelling belongs to two methods.
    std::map<std::string, Method> seen;
    for (const apps::EnumName<Method>& row : method_spellings().rows()) {
        const auto [at, fresh] = seen.emplace(row.name, row.value);
        EXPECT_TRUE(fresh || at->second == row.value) << row.name;
    }
}

TEST(MethodTable, TheThreeNamesOfGradCamPlusPlusAreOneMethod) {
    const std::vector<Method> methods =
        parse_methods({"gradcam++", "gradcampp", "grad_cam_pp", "Grad-CAM++", "integrated_gradients", "IG"});
    EXPECT_EQ(methods, (std::vector<Method>{Method::GradCamPlusPlus, Method::IntegratedGradients}));
    const MethodInfo& info = method_info(Method::GradCamPlusPlus);
    EXPECT_STREQ(info.name, "gradcam++");
    EXPECT_STREQ(info.file_tag, "gradcampp");
    EXPECT_STREQ(cam_method_name(info.cam), "grad_cam_pp");
    EXPECT_STREQ(info.title, "Grad-CAM++");
}

TEST(MethodTable, AllIsEveryMethodInTableOrder) {
    const std::vector<Method> all = parse_methods({"lime", "all"});
    ASSERT_EQ(all.size(), method_table().size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], method_table()[i].method);
    EXPECT_EQ(parse_methods({"lime", "gradcam", "lime"}), (std::vector<Method>{Method::GradCam, Method::Lime}));
}

TEST(ExplainPlan, DefaultsAreTyped) {
    const ExplainPlan plan = make_plan(minimal());
    EXPECT_EQ(plan.methods.methods, (std::vector<Method>{Method::GradCam, Method::IntegratedGradients}));
    EXPECT_EQ(plan.methods.ig_method, IgMethod::GaussLegendre);
    EXPECT_EQ(plan.methods.upsample, Upsample::Bilinear);
    EXPECT_EQ(plan.methods.baseline.kind, BaselineKind::Black);
    EXPECT_EQ(plan.methods.seg_target, SegTarget::Mask);
    ASSERT_EQ(plan.methods.segments.size(), 1u);
    EXPECT_FALSE(plan.methods.segments[0]);  // auto: by the model's kind
    ASSERT_EQ(plan.methods.targets.size(), 1u);
    EXPECT_EQ(plan.methods.targets[0].kind, TargetItem::Kind::Auto);
    EXPECT_FALSE(plan.display.sign);
    EXPECT_FALSE(plan.display.colormap);
    EXPECT_FALSE(plan.display.palette);
    EXPECT_TRUE(plan.metrics.on);
    EXPECT_EQ(plan.preprocess.normalize.kind, NormalizeKind::Auto);
    EXPECT_EQ(plan.preprocess.channel_policy, ChannelPolicy::Safe);
    EXPECT_EQ(plan.preprocess.pairs, PairsMode::Auto);
    EXPECT_FALSE(plan.preprocess.size);
    EXPECT_TRUE(plan.device.device.is_cpu());
    EXPECT_FALSE(plan.device.automatic);
    EXPECT_FALSE(plan.model.config);  // no --model: the checkpoint's
}

TEST(ExplainPlan, EveryValueIsParsedOnce) {
    ExplainOptions o = minimal();
    o.methods = {"hirescam", "saliency", "lime"};
    o.target = "3,Dress,all";
    o.seg_target = "whole";
    o.baseline = "blur:2.5";
    o.ig_method = "riemann_left";
    o.upsample = "nearest";
    o.segments = {"grid", "auto", "slic"};
    o.sign = "absolute";
    o.colormap = "Viridis";
    o.palette = "cityscapes";
    o.metrics = "off";
    o.normalize = "0.5,0.25/0.2";
    o.size = "32x48";
    o.channel_policy = "luma";
    o.pairs = "photo";
    o.device = "auto";
    o.model = "lenet";
    o.model_config = R"({"num_classes": 7})";
    const ExplainPlan plan = make_plan(o);
    EXPECT_EQ(plan.methods.methods, (std::vector<Method>{Method::HiResCam, Method::Saliency, Method::Lime}));
    ASSERT_EQ(plan.methods.targets.size(), 3u);
    EXPECT_EQ(plan.methods.targets[0].kind, TargetItem::Kind::Id);
    EXPECT_EQ(plan.methods.targets[0].id, 3);
    EXPECT_EQ(plan.methods.targets[1].kind, TargetItem::Kind::Name);
    EXPECT_EQ(plan.methods.targets[1].text, "Dress");
    EXPECT_EQ(plan.methods.targets[2].kind, TargetItem::Kind::All);
    EXPECT_EQ(plan.methods.seg_target, SegTarget::Whole);
    EXPECT_EQ(plan.methods.baseline.kind, BaselineKind::Blur);
    EXPECT_EQ(plan.methods.baseline.sigma, 2.5);
    EXPECT_EQ(baseline_label(plan.methods.baseline), "blur:2.5");
    EXPECT_EQ(plan.methods.ig_method, IgMethod::RiemannLeft);
    EXPECT_EQ(plan.methods.upsample, Upsample::Nearest);
    EXPECT_EQ(plan.methods.segments,
              (std::vector<std::optional<SegmentKind>>{SegmentKind::Grid, std::nullopt, SegmentKind::Slic}));
    EXPECT_EQ(plan.display.sign, render::Sign::AbsoluteValue);
    EXPECT_EQ(plan.display.colormap, render::ColorMap::Viridis);
    EXPECT_EQ(plan.display.palette, render::Palette::CityscapesCategories);
    EXPECT_FALSE(plan.metrics.on);
    EXPECT_EQ(plan.preprocess.normalize.kind, NormalizeKind::Custom);
    EXPECT_EQ(plan.preprocess.normalize.mean, (std::vector<double>{0.5, 0.25}));
    EXPECT_EQ(plan.preprocess.normalize.std, (std::vector<double>{0.2}));
    EXPECT_EQ(plan.preprocess.size, (std::pair<int64_t, int64_t>{32, 48}));
    EXPECT_EQ(plan.preprocess.channel_policy, ChannelPolicy::Luma);
    EXPECT_EQ(plan.preprocess.pairs, PairsMode::Photo);
    EXPECT_TRUE(plan.device.automatic);
    ASSERT_TRUE(plan.model.config);
    EXPECT_EQ(plan.model.config->name, "lenet");
    EXPECT_EQ(plan.model.config->num_classes, 7);
}

TEST(ExplainPlan, BaselineSpellings) {
    auto baseline = [](const std::string& text) {
        ExplainOptions o = minimal();
        o.baseline = text;
        return make_plan(o).methods.baseline;
    };
    EXPECT_EQ(baseline("zeros").kind, BaselineKind::Zero);
    EXPECT_EQ(baseline_label(baseline("zeros")), "zero");
    EXPECT_EQ(baseline("white").kind, BaselineKind::White);
    EXPECT_EQ(baseline("noise").kind, BaselineKind::Noise);
    EXPECT_EQ(baseline_label(baseline("blur")), "blur");
    EXPECT_FALSE(baseline("blur").sigma);
    const BaselinePlan image = baseline("photos/grey.png");
    EXPECT_EQ(image.kind, BaselineKind::Image);
    EXPECT_EQ(image.image, "photos/grey.png");
    EXPECT_EQ(baseline_label(image), "photos/grey.png");
}

TEST(ExplainPlan, BadValuesAreOneLineUsageErrorsNamingTheFlag) {
    const std::vector<std::pair<std::string, void (*)(ExplainOptions&)>> cases = {
        {"--method", [](ExplainOptions& o) { o.methods = {"deeplift"}; }},
        {"--method", [](ExplainOptions& o) { o.methods = {}; }},
        {"--ig-method", [](ExplainOptions& o) { o.ig_method = "simpson"; }},
        {"--upsample", [](ExplainOptions& o) { o.upsample = "cubic"; }},
        {"--sign", [](ExplainOptions& o) { o.sign = "both"; }},
        {"--colormap", [](ExplainOptions& o) { o.colormap = "rainbow"; }},
        {"--palette", [](ExplainOptions& o) { o.palette = "sunset"; }},
        {"--seg-target", [](ExplainOptions& o) { o.seg_target = "box"; }},
        {"--segments",
         [](ExplainOptions& o) {
             o.segments = {"slic", "quickshift"};
         }},
        {"--segments", [](ExplainOptions& o) { o.segments = {}; }},
        {"--baseline", [](ExplainOptions& o) { o.baseline = "blur:x"; }},
        {"--baseline", [](ExplainOptions& o) { o.baseline = "blur:0"; }},
        {"--baseline", [](ExplainOptions& o) { o.baseline = "blurry.png"; }},
        {"--metrics", [](ExplainOptions& o) { o.metrics = "maybe"; }},
        {"--normalize", [](ExplainOptions& o) { o.normalize = "foo"; }},
        {"--normalize", [](ExplainOptions& o) { o.normalize = "0.5/0"; }},
        {"--normalize", [](ExplainOptions& o) { o.normalize = "0.5/x"; }},
        {"--size", [](ExplainOptions& o) { o.size = "0x4"; }},
        {"--channel-policy", [](ExplainOptions& o) { o.channel_policy = "any"; }},
        {"--pairs", [](ExplainOptions& o) { o.pairs = "left"; }},
        {"--device", [](ExplainOptions& o) { o.device = "tpu"; }},
        {"--model", [](ExplainOptions& o) { o.model = "resnet"; }},
        {"--model-config",
         [](ExplainOptions& o) {
             o.model = "lenet";
             o.model_config = "{width";
         }},
        {"--weights", [](ExplainOptions& o) { o.weights.clear(); }},
        {"--out", [](ExplainOptions& o) { o.out.clear(); }},
        {"--target", [](ExplainOptions& o) { o.target = ","; }},
        {"--target", [](ExplainOptions& o) { o.target = "3,,5"; }},
        {"--target", [](ExplainOptions& o) { o.target = ""; }},
        {"--target", [](ExplainOptions& o) { o.target = "3,"; }},
    };
    for (const auto& [flag, spoil] : cases) {
        ExplainOptions o = minimal();
        spoil(o);
        const std::string message = usage_error(o);
        EXPECT_EQ(message.rfind(flag, 0), 0u) << flag << ": '" << message << "'";
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
    ExplainOptions o = minimal();
    o.methods = {"deeplift"};
    EXPECT_NE(usage_error(o).find("(valid: gradcam, gradcam++,"), std::string::npos) << usage_error(o);
    o = minimal();
    o.colormap = "rainbow";
    EXPECT_NE(usage_error(o).find("valid: jet, bwr"), std::string::npos) << usage_error(o);
}

TEST(ExplainPlan, ListLayersNeedsNoOutputAndNamedModelsNoWeights) {
    ExplainOptions o;
    o.list_layers = true;
    o.model = "lenet";
    const ExplainPlan plan = make_plan(o);
    EXPECT_TRUE(plan.list_layers);
    EXPECT_TRUE(plan.model.weights.empty());
    ASSERT_TRUE(plan.model.config);
    o.model.clear();
    EXPECT_EQ(usage_error(o).rfind("--weights is required", 0), 0u);
}

TEST(ExplainPlan, TargetsResolveAgainstTheClassNamesOnce) {
    ExplainOptions o = minimal();
    o.target = "2,DRESS,auto";
    const std::vector<TargetItem> items =
        resolve_target_items(make_plan(o).methods.targets, {"tee", "trouser", "pullover", "dress"}, 4);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].kind, TargetItem::Kind::Id);
    EXPECT_EQ(items[0].id, 2);
    EXPECT_EQ(items[1].kind, TargetItem::Kind::Id);
    EXPECT_EQ(items[1].id, 3);
    EXPECT_EQ(items[2].kind, TargetItem::Kind::Auto);
    auto error = [&](const std::string& target) {
        o.target = target;
        try {
            resolve_target_items(make_plan(o).methods.targets, {"a", "b"}, 2);
        } catch (const apps::UsageError& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_EQ(error("2"), "--target 2: class out of range for a model with 2 classes (0..1)");
    EXPECT_EQ(error("99999999999999999999").rfind("--target 99999999999999999999: class out of range", 0), 0u);
    EXPECT_EQ(error("sock"), "--target 'sock': not a class id (0..1) or a class name (a, b)");
}

TEST(ExplainPlan, SegmentKindsResolveByTheModelsKind) {
    const std::vector<std::optional<SegmentKind>> items{std::nullopt, SegmentKind::Grid, SegmentKind::Slic};
    EXPECT_EQ(resolve_segment_kinds(items, false), (std::vector<SegmentKind>{SegmentKind::Slic, SegmentKind::Grid}));
    EXPECT_EQ(resolve_segment_kinds(items, true),
              (std::vector<SegmentKind>{SegmentKind::Semantic, SegmentKind::Grid, SegmentKind::Slic}));
    EXPECT_THROW(resolve_segment_kinds({SegmentKind::Semantic}, false), apps::UsageError);
}

#ifdef EXPLAIN_BIN
// The command reads no model, image or folder before its flags are checked: a bad value with a missing weights
// file is the value's usage error (exit 2), and --out is not created.
TEST(ExplainPlan, TheCommandChecksEveryFlagBeforeAnyWork) {
    const fs::path dir = fs::temp_directory_path() / ("explain_plan_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path out = dir / "out", err = dir / "stderr.txt";
    const std::string command = std::string(EXPLAIN_BIN) + " --weights " + (dir / "missing.safetensors").string() +
                                " --image " + (dir / "missing.png").string() + " --baseline blur:x --out " +
                                out.string() + " > /dev/null 2> " + err.string();
    const int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), apps::kExitUsage);
    std::ifstream in(err);
    const std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(message, "error: --baseline: bad sigma in 'blur:x'\n");
    EXPECT_FALSE(fs::exists(out));
    fs::remove_all(dir);
}
#endif

}  // namespace
}  // namespace engine::explain::cli
