// Deletion/insertion curves, random-order reference, Spearman correlation and cascading randomisation.
#include "apps/explain/attribution/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "apps/explain/attribution/host.h"
#include "layers/basic.h"
#include "layers/conv.h"

namespace engine::explain {
namespace {

double trapezoid(const std::vector<double>& curve) {
    const size_t n = curve.size();
    if (n < 2) return n == 1 ? curve[0] : 0.0;
    double area = 0;
    for (size_t i = 1; i < n; ++i) area += 0.5 * (curve[i - 1] + curve[i]);
    return area / static_cast<double>(n - 1);
}

// Average ranks (1-based) with ties sharing the mean rank.
std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<int64_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        const double mean_rank = 0.5 * static_cast<double>(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
        i = j + 1;
    }
    return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if (saa == 0 || sbb == 0) return std::numeric_limits<double>::quiet_NaN();
    return sab / std::sqrt(saa * sbb);
}

double spearman_vectors(const std::vector<double>& a, const std::vector<double>& b) {
    return pearson(ranks(a), ranks(b));
}

// Restores a model's parameters and buffers on destruction.
class WeightsBackup {
public:
    explicit WeightsBackup(nn::Module& model) : model_(model) {
        NoGradGuard no_grad;
        for (auto& [name, t] : model.state_dict()) saved_.push_back({name, t.clone()});
    }
    ~WeightsBackup() {
        try {
            model_.load_state_dict(saved_);
        } catch (...) {
        }
    }
    WeightsBackup(const WeightsBackup&) = delete;
    WeightsBackup& operator=(const WeightsBackup&) = delete;

private:
    nn::Module& model_;
    nn::NamedTensors saved_;
};

}  // namespace

CurveResult attribution_curve(nn::Module& model, const Tensor& x, const Target& target, const Tensor& maps,
                              const CurveOptions& options) {
    const char* name = options.kind == CurveKind::Deletion ? "deletion" : "insertion";
    check_input(model, x, name);
    ENGINE_CHECK(options.steps >= 1 && options.batch_size >= 1, name, ": steps and batch_size must be >= 1, got ",
                 options.steps, " and ", options.batch_size);
    ModelScope scope(model);
    NoGradGuard no_grad;
    const Tensor input = x.detach();
    const int64_t c = input.size(1), h = input.size(2), w = input.size(3), hw = h * w;
    const Device device = input.device();
    const Tensor output = model(input);
    const ResolvedTarget resolved = target.resolve(output);
    const int64_t m = resolved.num_jobs();
    ENGINE_CHECK(maps.defined() && maps.dim() == 4 && maps.size(0) == m && maps.size(2) == h && maps.size(3) == w, name,
                 ": expected maps of shape (", m, ", K, ", h, ", ", w,
                 ") (one per target job, at the input's "
                 "size), got ",
                 maps.defined() ? shape_str(maps.shape()) : std::string("undefined"));
    const Tensor rows = job_inputs(input, resolved);
    const Tensor base = make_baseline(options.baseline, rows);
    const std::vector<double> flat = sum(maps.detach(), {1}).reshape({m, hw}).to_vector<double>();

    CurveResult result;
    result.forwards = 1;
    std::vector<int64_t> counts(options.steps + 1);
    for (int64_t s = 0; s <= options.steps; ++s)
        counts[s] = static_cast<int64_t>(std::llround(static_cast<double>(s) * hw / options.steps));
    for (int64_t j = 0; j < m; ++j) {
        // rank[p] = position of pixel p in decreasing-attribution order.
        std::vector<int64_t> order(hw);
        std::iota(order.begin(), order.end(), 0);
        const double* v = flat.data() + j * hw;
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return v[a] > v[b]; });
        std::vector<double> rank(hw);
        for (int64_t i = 0; i < hw; ++i) rank[order[i]] = static_cast<double>(i);
        const Tensor rank_t = host_tensor(rank, {1, 1, h, w}, input.dtype(), device);
        const Tensor xj = rows.narrow(0, j, 1), bj = base.narrow(0, j, 1);
        const Tensor wj = resolved.weights().narrow(0, j, 1);
        std::vector<double> curve;
        for (int64_t first = 0; first <= options.steps; first += options.batch_size) {
            const int64_t b = std::min(options.batch_size, options.steps + 1 - first);
            std::vector<double> k(counts.begin() + first, counts.begin() + first + b);
            const Tensor moved = lt(rank_t, host_tensor(k, {b, 1, 1, 1}, input.dtype(), device));  // (b, 1, H, W)
            const Tensor batch = options.kind == CurveKind::Deletion ? where(moved, bj, xj) : where(moved, xj, bj);
            const Tensor out = model(batch.reshape({b, c, h, w}));
            ++result.forwards;
            const Tensor s = options.score == CurveScore::Probability ? ResolvedTarget::probability(out, wj)
                                                                      : ResolvedTarget::score(out, wj);
            for (double value : s.to_vector<double>()) curve.push_back(value);
        }
        const double clean = options.kind == CurveKind::Deletion ? curve.front() : curve.back();
        const double gone = options.kind == CurveKind::Deletion ? curve.back() : curve.front();
        std::vector<double> normalized(curve.size());
        for (size_t i = 0; i < curve.size(); ++i)
            normalized[i] =
                clean != gone ? (curve[i] - gone) / (clean - gone) : std::numeric_limits<double>::quiet_NaN();
        result.auc.push_back(trapezoid(curve));
        result.normalized_auc.push_back(trapezoid(normalized));
        result.curves.push_back(std::move(curve));
    }
    result.mean_auc = std::accumulate(result.auc.begin(), result.auc.end(), 0.0) / static_cast<double>(m);
    result.mean_normalized_auc =
        std::accumulate(result.normalized_auc.begin(), result.normalized_auc.end(), 0.0) / static_cast<double>(m);
    return result;
}

Tensor random_map(const Tensor& like, uint64_t seed) {
    Generator gen(seed);
    return uniform(like.shape(), 0.0, 1.0, gen, is_floating(like.dtype()) ? like.dtype() : DType::Float32,
                   like.device());
}

double spearman(const Tensor& a, const Tensor& b) {
    ENGINE_CHECK(a.numel() == b.numel() && a.numel() > 1, "spearman: needs two tensors of the same size > 1, got ",
                 shape_str(a.shape()), " and ", shape_str(b.shape()));
    return spearman_vectors(a.to_vector<double>(), b.to_vector<double>());
}

std::vector<std::string> randomizable_layers(nn::Module& model) {
    std::vector<std::string> layers;
    for (auto& [path, module] : model.named_modules()) {
        if (dynamic_cast<nn::Conv2d*>(module) || dynamic_cast<nn::ConvTranspose2d*>(module) ||
            dynamic_cast<nn::Linear*>(module))
            layers.push_back(path);
    }
    std::reverse(layers.begin(), layers.end());
    return layers;
}

std::vector<RandomizationStep> model_randomization(nn::Module& model, const AttributionFn& method,
                                                   const RandomizationOptions& options) {
    const std::vector<std::string> layers = randomizable_layers(model);
    ENGINE_CHECK(!layers.empty(), "model_randomization: ", model.type_name(),
                 " has no Conv2d, ConvTranspose2d or Linear layer to re-initialise");
    WeightsBackup backup(model);
    auto prepared = [&](const Tensor& map) {
        NoGradGuard no_grad;
        const Tensor d = map.detach();
        return options.absolute ? abs(d) : d;
    };
    const Tensor original = prepared(method(model));
    const int64_t m = original.size(0);
    auto correlate = [&](const std::string& layer, const Tensor& map) {
        ENGINE_CHECK(map.shape() == original.shape(), "model_randomization: the method returned ",
                     shape_str(map.shape()), " after randomising '", layer, "' but ", shape_str(original.shape()),
                     " before");
        RandomizationStep step;
        step.layer = layer;
        double total = 0;
        for (int64_t j = 0; j < m; ++j) {
            step.spearman.push_back(spearman(original.select(0, j), map.select(0, j)));
            total += step.spearman.back();
        }
        step.mean_spearman = total / static_cast<double>(m);
        return step;
    };
    std::vector<RandomizationStep> steps{correlate("", original)};
    Generator gen(options.seed);
    int64_t done = 0;
    for (const std::string& layer : layers) {
        if (options.max_layers > 0 && done >= options.max_layers) break;
        nn::Module& module = model.module(layer);
        if (auto* conv = dynamic_cast<nn::Conv2d*>(&module))
            conv->reset_parameters(gen);
        else if (auto* up = dynamic_cast<nn::ConvTranspose2d*>(&module))
            up->reset_parameters(gen);
        else if (auto* linear = dynamic_cast<nn::Linear*>(&module))
            linear->reset_parameters(gen);
        ++done;
        steps.push_back(correlate(layer, prepared(method(model))));
    }
    return steps;
}

}  // namespace engine::explain
