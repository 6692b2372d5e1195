// Gradient, saliency, input x gradient and streamed integrated gradients.
#include "apps/explain/attribution/gradients.h"

#include <cmath>

#include "apps/common/enum_names.h"
#include "apps/explain/attribution/host.h"
#include "autograd/engine.h"

namespace engine::explain {
namespace {

// torch.linspace(start, end, n) in float32, as ATen's CPU kernel computes it (fused multiply-add, the second
// half counted back from `end`).
std::vector<double> linspace_f32(double start, double end, int64_t n) {
    const float s = static_cast<float>(start), e = static_cast<float>(end);
    const float step = (e - s) / static_cast<float>(n - 1);
    const int64_t half = n / 2;
    std::vector<double> out(n);
    for (int64_t i = 0; i < n; ++i)
        out[i] =
            i < half ? std::fmaf(step, static_cast<float>(i), s) : std::fmaf(-step, static_cast<float>(n - i - 1), e);
    return out;
}

// Nodes (ascending) and weights of the n-point Gauss-Legendre rule on [-1, 1], by Newton's method on P_n.
std::pair<std::vector<double>, std::vector<double>> gauss_legendre(int64_t n) {
    std::vector<double> nodes(n), weights(n);
    const double pi = 3.14159265358979323846;
    // P_n(z) and P_n'(z) by the three-term recurrence.
    auto legendre = [n](double z) {
        double p0 = 1, p1 = z;
        for (int64_t k = 2; k <= n; ++k) {
            const double pk = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
            p0 = p1;
            p1 = pk;
        }
        return std::make_pair(p1, n * (z * p1 - p0) / (z * z - 1));
    };
    for (int64_t i = 0; i < (n + 1) / 2; ++i) {
        double z = std::cos(pi * (i + 0.75) / (n + 0.5));
        for (int iter = 0; iter < 100; ++iter) {
            const auto [p, dp] = legendre(z);
            const double dz = p / dp;
            z -= dz;
            if (std::abs(dz) < 1e-16) break;
        }
        const double dp = legendre(z).second;  // at the converged node, for the weight
        const double wgt = 2.0 / ((1 - z * z) * dp * dp);
        nodes[i] = -z;
        nodes[n - 1 - i] = z;
        weights[i] = weights[n - 1 - i] = wgt;
    }
    if (n % 2 == 1) nodes[n / 2] = 0.0;
    return {nodes, weights};
}

// One forward with x as a leaf and one gradient per target round: (M, C, H, W), in job order.
struct GradientPass {
    ResolvedTarget target;
    Tensor gradient;
    std::vector<double> scores;
};

GradientPass gradient_pass(nn::Module& model, const Tensor& x, const Target& target) {
    ModelScope scope(model);
    Tensor input = x.detach();
    input.requires_grad_(true);
    Tensor output;
    {
        EnableGradGuard grad_on;
        output = model(input);
    }
    GradientPass pass;
    pass.target = target.resolve(output);
    std::vector<Tensor> rows;
    const auto& rounds = pass.target.rounds();
    for (size_t r = 0; r < rounds.size(); ++r)
        rows.push_back(autograd::grad({output}, {input}, {ResolvedTarget::seed(rounds[r].full_weights, 1)},
                                      r + 1 < rounds.size())[0]);
    NoGradGuard no_grad;
    pass.gradient = pass.target.gather_jobs(rows, true);
    pass.scores = pass.target.job_scores(output.detach()).to_vector<double>();
    return pass;
}

enum class GradientMode { Raw, Abs, TimesInput };

Explanation gradient_explanation(const char* method, nn::Module& model, const Tensor& x, const Target& target,
                                 GradientMode mode) {
    Stopwatch clock;
    check_input(model, x, method);
    GradientPass pass = gradient_pass(model, x, target);
    NoGradGuard no_grad;
    Explanation e;
    e.method = method;
    e.jobs = pass.target.jobs();
    e.map = pass.gradient;
    if (mode == GradientMode::Abs) e.map = abs(pass.gradient);
    if (mode == GradientMode::TimesInput) e.map = mul(job_inputs(x.detach(), pass.target), pass.gradient);
    e.scores = std::move(pass.scores);
    e.settings = {{"target", target.str()}};
    e.seconds = clock.seconds();
    return e;
}

}  // namespace

Explanation input_gradient(nn::Module& model, const Tensor& x, const Target& target) {
    return gradient_explanation("gradient", model, x, target, GradientMode::Raw);
}

Explanation saliency(nn::Module& model, const Tensor& x, const Target& target, bool abs_values) {
    Explanation e =
        gradient_explanation("saliency", model, x, target, abs_values ? GradientMode::Abs : GradientMode::Raw);
    e.settings["abs"] = abs_values;
    return e;
}

Explanation input_x_gradient(nn::Module& model, const Tensor& x, const Target& target) {
    return gradient_explanation("input_x_gradient", model, x, target, GradientMode::TimesInput);
}

// ---------------------------------------------------------------------------------------------- IG

namespace {

// Captum's names.
constexpr apps::EnumName<IgMethod> kIgMethodRows[] = {{IgMethod::RiemannLeft, "riemann_left"},
                                                      {IgMethod::RiemannRight, "riemann_right"},
                                                      {IgMethod::RiemannMiddle, "riemann_middle"},
                                                      {IgMethod::RiemannTrapezoid, "riemann_trapezoid"},
                                                      {IgMethod::GaussLegendre, "gausslegendre"}};
constexpr apps::EnumNames<IgMethod> kIgMethodNames{"integrated-gradients method", kIgMethodRows};

}  // namespace

const char* ig_method_name(IgMethod method) { return kIgMethodNames.name(method); }

IgMethod parse_ig_method(const std::string& name) { return kIgMethodNames.parse(name); }

std::pair<std::vector<double>, std::vector<double>> ig_steps_and_alphas(IgMethod method, int64_t n) {
    if (method == IgMethod::GaussLegendre) {
        ENGINE_CHECK(n >= 1, "integrated_gradients: n_steps must be >= 1 for gausslegendre, got ", n);
        auto [nodes, weights] = gauss_legendre(n);
        std::vector<double> steps(n), alphas(n);
        for (int64_t i = 0; i < n; ++i) {
            steps[i] = 0.5 * weights[i];
            alphas[i] = 0.5 * (1 + nodes[i]);
        }
        return {steps, alphas};
    }
    ENGINE_CHECK(n >= 2, "integrated_gradients: n_steps must be >= 2 for ", ig_method_name(method), ", got ", n);
    std::vector<double> steps(n, 1.0 / static_cast<double>(n));
    std::vector<double> alphas;
    switch (method) {
        case IgMethod::RiemannTrapezoid:
            steps.front() /= 2;
            steps.back() /= 2;
            alphas = linspace_f32(0, 1, n);
            break;
        case IgMethod::RiemannLeft:
            alphas = linspace_f32(0, 1 - 1.0 / n, n);
            break;
        case IgMethod::RiemannMiddle:
            alphas = linspace_f32(1.0 / (2 * n), 1 - 1.0 / (2 * n), n);
            break;
        case IgMethod::RiemannRight:
            alphas = linspace_f32(1.0 / n, 1, n);
            break;
        case IgMethod::GaussLegendre:
            break;
    }
    return {steps, alphas};
}

namespace {

// One target round: the weighted gradients along the path from the baseline to the input, summed chunk by
// chunk (internal_batch_size inputs per forward), times (x - x') when multiply_by_inputs. `forwards` counts.
Tensor integrate_round(nn::Module& model, const ResolvedTarget::Round& round, const Tensor& input,
                       const Tensor& baseline, const std::vector<double>& step_sizes, const std::vector<double>& alphas,
                       const IgOptions& options, int64_t& forwards) {
    const int64_t per_image = input.numel() / input.size(0);
    const int64_t n_steps = options.n_steps;
    const DType dtype = input.dtype();
    const Device device = input.device();
    Tensor xr = input, br = baseline;
    const int64_t n = static_cast<int64_t>(round.images.size());
    if (!round.covers_all_images || !round.weights.is_same(round.full_weights)) {
        NoGradGuard no_grad;
        const Tensor idx = from_vector<int64_t>(round.images, {n}, device);
        xr = index_select(input, 0, idx);
        br = index_select(baseline, 0, idx);
    }
    int64_t batch = options.internal_batch_size;
    if (batch == 0) batch = std::max<int64_t>(n, (int64_t{1} << 21) / std::max<int64_t>(1, per_image));
    const int64_t chunk_steps = std::max<int64_t>(1, batch / n);
    const Tensor diff = sub(xr, br);
    Tensor total;
    for (int64_t first = 0; first < n_steps; first += chunk_steps) {
        const int64_t s = std::min(chunk_steps, n_steps - first);
        Shape col{s, 1, 1, 1, 1};
        const Tensor a =
            host_tensor(std::vector<double>(alphas.begin() + first, alphas.begin() + first + s), col, dtype, device);
        const Tensor w = host_tensor(std::vector<double>(step_sizes.begin() + first, step_sizes.begin() + first + s),
                                     col, dtype, device);
        Tensor scaled;
        {
            NoGradGuard no_grad;
            scaled =
                add(br.unsqueeze(0), mul(a, diff.unsqueeze(0))).reshape({s * n, xr.size(1), xr.size(2), xr.size(3)});
        }
        scaled.requires_grad_(true);
        Tensor out;
        {
            EnableGradGuard grad_on;
            out = model(scaled);
        }
        const Tensor g = autograd::grad({out}, {scaled}, {ResolvedTarget::seed(round.weights, s)})[0];
        ++forwards;
        NoGradGuard no_grad;
        const Tensor part = sum(mul(g.reshape({s, n, xr.size(1), xr.size(2), xr.size(3)}), w), {0});
        total = total.defined() ? add(total, part) : part;
    }
    NoGradGuard no_grad;
    return options.multiply_by_inputs ? mul(total, diff) : total;
}

}  // namespace

IgResult integrated_gradients(nn::Module& model, const Tensor& x, const Target& target, const IgOptions& options) {
    Stopwatch clock;
    check_input(model, x, "integrated_gradients");
    const auto [step_sizes, alphas] = ig_steps_and_alphas(options.method, options.n_steps);
    ENGINE_CHECK(options.internal_batch_size >= 0, "integrated_gradients: internal_batch_size must be >= 0, got ",
                 options.internal_batch_size);
    ModelScope scope(model);
    const Tensor input = x.detach();
    IgResult result;
    result.method = "integrated_gradients";

    const Tensor output = forward_no_grad(model, input);
    const ResolvedTarget resolved = target.resolve(output);
    result.baseline = make_baseline(options.baseline, input);
    const Tensor baseline_output = forward_no_grad(model, result.baseline);
    result.forwards = 2;
    std::vector<Tensor> round_attr;
    for (const ResolvedTarget::Round& round : resolved.rounds())
        round_attr.push_back(
            integrate_round(model, round, input, result.baseline, step_sizes, alphas, options, result.forwards));
    NoGradGuard no_grad;
    result.map = resolved.gather_jobs(round_attr, false);
    result.jobs = resolved.jobs();
    result.scores = resolved.job_scores(output).to_vector<double>();
    result.baseline_scores = resolved.job_scores(baseline_output).to_vector<double>();
    result.attribution_sums =
        sum(result.map.reshape({result.map.size(0), -1}).to(DType::Float64), {1}).to_vector<double>();
    for (size_t j = 0; j < result.jobs.size(); ++j)
        result.gap.push_back(result.attribution_sums[j] - (result.scores[j] - result.baseline_scores[j]));
    result.settings = {{"target", target.str()},
                       {"baseline", options.baseline.str()},
                       {"n_steps", options.n_steps},
                       {"method", ig_method_name(options.method)},
                       {"internal_batch_size", options.internal_batch_size},
                       {"multiply_by_inputs", options.multiply_by_inputs}};
    result.seconds = clock.seconds();
    return result;
}

}  // namespace engine::explain
