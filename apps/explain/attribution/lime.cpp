// LIME: Philox on/off samples per segment, batched perturbed forwards, cosine-kernel weights, weighted ridge.
#include "apps/explain/attribution/lime.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "apps/explain/attribution/ablation.h"
#include "apps/explain/attribution/host.h"
#include "runtime/philox.h"

namespace engine::explain {
namespace {

// Solves the symmetric positive definite system a x = b (n x n, row-major) by Cholesky; a tiny ridge is added
// when the factorisation meets a non-positive pivot (alpha = 0 with collinear segments).
std::vector<double> solve_spd(std::vector<double> a, std::vector<double> b, int64_t n) {
    double trace = 0;
    for (int64_t i = 0; i < n; ++i) trace += a[i * n + i];
    for (int attempt = 0; attempt < 4; ++attempt) {
        std::vector<double> l(a.size(), 0.0);
        bool ok = true;
        for (int64_t j = 0; j < n && ok; ++j) {
            double d = a[j * n + j];
            for (int64_t k = 0; k < j; ++k) d -= l[j * n + k] * l[j * n + k];
            if (!(d > 1e-300)) {
                ok = false;
                break;
            }
            l[j * n + j] = std::sqrt(d);
            for (int64_t i = j + 1; i < n; ++i) {
                double s = a[i * n + j];
                for (int64_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / l[j * n + j];
            }
        }
        if (ok) {
            for (int64_t i = 0; i < n; ++i) {  // L y = b
                double s = b[i];
                for (int64_t k = 0; k < i; ++k) s -= l[i * n + k] * b[k];
                b[i] = s / l[i * n + i];
            }
            for (int64_t i = n - 1; i >= 0; --i) {  // L^T x = y
                double s = b[i];
                for (int64_t k = i + 1; k < n; ++k) s -= l[k * n + i] * b[k];
                b[i] = s / l[i * n + i];
            }
            return b;
        }
        const double jitter = std::max(trace, 1.0) * std::pow(10.0, -12 + 3 * attempt);
        for (int64_t i = 0; i < n; ++i) a[i * n + i] += jitter;
    }
    throw Error("lime: the ridge system is singular");
}

}  // namespace

std::vector<double> weighted_ridge(const std::vector<double>& z, const std::vector<double>& y,
                                   const std::vector<double>& w, int64_t k, double alpha, double* intercept,
                                   double* r2) {
    const int64_t rows = static_cast<int64_t>(y.size());
    ENGINE_CHECK(rows > 0 && static_cast<int64_t>(z.size()) == rows * k && w.size() == y.size(),
                 "weighted_ridge: ", z.size(), " features, ", y.size(), " targets and ", w.size(),
                 " weights for k=", k);
    double sw = 0, y_mean = 0;
    std::vector<double> z_mean(k, 0.0);
    for (int64_t i = 0; i < rows; ++i) {
        sw += w[i];
        y_mean += w[i] * y[i];
        for (int64_t a = 0; a < k; ++a) z_mean[a] += w[i] * z[i * k + a];
    }
    ENGINE_CHECK(sw > 0, "weighted_ridge: the sample weights sum to ", sw);
    y_mean /= sw;
    for (double& v : z_mean) v /= sw;
    std::vector<double> gram(static_cast<size_t>(k * k), 0.0), rhs(k, 0.0), zc(k);
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t a = 0; a < k; ++a) zc[a] = z[i * k + a] - z_mean[a];
        const double yc = y[i] - y_mean;
        for (int64_t a = 0; a < k; ++a) {
            const double wa = w[i] * zc[a];
            if (wa == 0.0) continue;
            rhs[a] += wa * yc;
            for (int64_t b = 0; b <= a; ++b) gram[a * k + b] += wa * zc[b];
        }
    }
    for (int64_t a = 0; a < k; ++a) {
        for (int64_t b = 0; b < a; ++b) gram[b * k + a] = gram[a * k + b];
        gram[a * k + a] += alpha;
    }
    std::vector<double> beta = k > 0 ? solve_spd(gram, rhs, k) : std::vector<double>();
    double b0 = y_mean;
    for (int64_t a = 0; a < k; ++a) b0 -= z_mean[a] * beta[a];
    double ss_res = 0, ss_tot = 0;
    for (int64_t i = 0; i < rows; ++i) {
        double pred = b0;
        for (int64_t a = 0; a < k; ++a) pred += z[i * k + a] * beta[a];
        ss_res += w[i] * (y[i] - pred) * (y[i] - pred);
        ss_tot += w[i] * (y[i] - y_mean) * (y[i] - y_mean);
    }
    if (intercept) *intercept = b0;
    if (r2) *r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : (ss_res <= 1e-12 ? 1.0 : 0.0);
    return beta;
}

namespace {

// One image's feature mask as compact segment indices 0..K-1.
struct Segments {
    std::vector<int64_t> ids;      // the mask's ids, sorted (K)
    std::vector<int64_t> compact;  // per pixel, the index of its id
    std::vector<double> pixels;    // per segment, its pixel count
};

Segments compact_segments(const std::vector<int64_t>& mask_host, int64_t image, int64_t hw) {
    std::set<int64_t> present;
    for (int64_t p = 0; p < hw; ++p) {
        const int64_t v = mask_host[image * hw + p];
        ENGINE_CHECK(v >= 0, "lime: feature ids must be >= 0, got ", v);
        present.insert(v);
    }
    Segments s;
    s.ids.assign(present.begin(), present.end());
    s.compact.resize(static_cast<size_t>(hw));
    s.pixels.assign(s.ids.size(), 0.0);
    for (int64_t p = 0; p < hw; ++p) {
        const int64_t idx = std::lower_bound(s.ids.begin(), s.ids.end(), mask_host[image * hw + p]) - s.ids.begin();
        s.compact[p] = idx;
        s.pixels[idx] += 1;
    }
    return s;
}

// What a switched-off segment shows: the baseline, or the segment's mean colour. (1, C, H, W).
Tensor hidden_image(const Tensor& xi, const Tensor& seg, const Segments& segments, const Tensor& base_i,
                    const LimeOptions& options) {
    if (options.hide != LimeOptions::HideColor::SegmentMean) return base_i;
    const int64_t c = xi.size(1), h = xi.size(2), w = xi.size(3), hw = h * w;
    const int64_t k = static_cast<int64_t>(segments.ids.size());
    const Tensor seg_c = seg.unsqueeze(0).expand({c, hw}).contiguous();
    const Tensor sums = scatter_add(zeros({c, k}, xi.dtype(), xi.device()), 1, seg_c, xi.reshape({c, hw}));
    const Tensor means = div(sums, host_tensor(segments.pixels, {1, k}, xi.dtype(), xi.device()));
    return gather(means, 1, seg_c).reshape({1, c, h, w});
}

// The on/off samples (samples x K): the first keeps every segment, the rest are Philox coin flips.
std::vector<double> sample_switches(int64_t samples, int64_t k, uint64_t seed) {
    std::vector<double> z(static_cast<size_t>(samples * k));
    for (int64_t s = 0; s < samples; ++s)
        for (int64_t a = 0; a < k; ++a)
            z[s * k + a] =
                s == 0 ? 1.0
                       : (philox::bernoulli(philox::generate(static_cast<uint64_t>(s * k + a), seed), 0.5) ? 1.0 : 0.0);
    return z;
}

// The model's scores of every sample for every job of the image (samples x J) and each sample's similarity to
// the image (the cosine kernel), batch_size perturbed inputs per forward.
struct SampleScores {
    std::vector<double> scores, similarity;
    int64_t forwards = 0;
};

SampleScores score_samples(nn::Module& model, const Tensor& xi, const Tensor& hide, const Tensor& seg,
                           const std::vector<double>& z, int64_t samples, int64_t k, const Tensor& job_weights,
                           const LimeOptions& options) {
    const int64_t c = xi.size(1), h = xi.size(2), w = xi.size(3), hw = h * w;
    const int64_t num_jobs = job_weights.size(0), out_numel = job_weights.size(1);
    const Tensor x_flat = xi.reshape({1, c * hw});
    const double x_norm = std::max(std::sqrt(sum(square(x_flat)).item<double>()), 1e-8);
    SampleScores r;
    r.scores.resize(static_cast<size_t>(samples * num_jobs));
    r.similarity.resize(static_cast<size_t>(samples));
    for (int64_t first = 0; first < samples; first += options.batch_size) {
        const int64_t b = std::min(options.batch_size, samples - first);
        const Tensor zb = host_tensor(std::vector<double>(z.begin() + first * k, z.begin() + (first + b) * k), {b, k},
                                      xi.dtype(), xi.device());
        const Tensor on = ne(index_select(zb, 1, seg).reshape({b, 1, h, w}), 0.0);
        const Tensor perturbed = where(on, xi, hide);  // (b, C, H, W)
        const Tensor out = model(perturbed);
        ++r.forwards;
        const std::vector<double> s = matmul(out.reshape({b, out_numel}), job_weights.t()).to_vector<double>();
        std::copy(s.begin(), s.end(), r.scores.begin() + first * num_jobs);
        const Tensor p_flat = perturbed.reshape({b, c * hw});
        const std::vector<double> dots = sum(mul(p_flat, x_flat), {1}).to_vector<double>();
        const std::vector<double> norms = sqrt(sum(square(p_flat), {1})).to_vector<double>();
        for (int64_t i = 0; i < b; ++i) {
            const double cosine = dots[i] / (x_norm * std::max(norms[i], 1e-8));
            const double d = 1.0 - cosine;
            r.similarity[first + i] = std::exp(-d * d / (2.0 * options.kernel_width * options.kernel_width));
        }
    }
    return r;
}

// The weighted ridge surrogate of one job (scores column q), its top segments of each sign.
void fit_job(const SampleScores& r, size_t q, size_t num_jobs, const std::vector<double>& z, const Segments& segments,
             const LimeOptions& options, LimeJob& lj) {
    const int64_t samples = static_cast<int64_t>(r.similarity.size());
    const int64_t k = static_cast<int64_t>(segments.ids.size());
    std::vector<double> y(samples);
    for (int64_t s = 0; s < samples; ++s) y[s] = r.scores[s * num_jobs + q];
    lj.segment_ids = segments.ids;
    lj.num_samples = samples;
    lj.coefficients = weighted_ridge(z, y, r.similarity, k, options.ridge_alpha, &lj.intercept, &lj.r2);
    std::vector<int64_t> order(k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return lj.coefficients[a] > lj.coefficients[b]; });
    for (int64_t a = 0; a < k && static_cast<int64_t>(lj.top_positive.size()) < options.top_k; ++a)
        if (lj.coefficients[order[a]] > 0) lj.top_positive.push_back(segments.ids[order[a]]);
    for (int64_t a = k - 1; a >= 0 && static_cast<int64_t>(lj.top_negative.size()) < options.top_k; --a)
        if (lj.coefficients[order[a]] < 0) lj.top_negative.push_back(segments.ids[order[a]]);
}

// LIME on one image of the batch: its jobs' entries of result.per_job and job_maps.
void lime_image(nn::Module& model, const Tensor& input, const Tensor& base, const std::vector<int64_t>& mask_host,
                const ResolvedTarget& resolved, int64_t image, const std::vector<int64_t>& jobs,
                const LimeOptions& options, LimeResult& result, std::vector<Tensor>& job_maps) {
    const int64_t h = input.size(2), w = input.size(3), hw = h * w;
    const Segments segments = compact_segments(mask_host, image, hw);
    const int64_t k = static_cast<int64_t>(segments.ids.size());
    const Tensor seg = from_vector<int64_t>(segments.compact, {hw}, input.device());
    const Tensor xi = input.narrow(0, image, 1);  // (1, C, H, W)
    const Tensor hide = hidden_image(xi, seg, segments, base.narrow(0, image, 1), options);
    const int64_t samples =
        options.num_samples > 0 ? options.num_samples : std::min<int64_t>(2000, std::max<int64_t>(50, 10 * k));
    result.num_samples = std::max(result.num_samples, samples);
    const std::vector<double> z = sample_switches(samples, k, options.seed);
    // Target weights of this image's jobs, (J, D), to score every perturbed output at once.
    const int64_t out_numel = resolved.weights().numel() / resolved.num_jobs();
    std::vector<Tensor> wj;
    for (int64_t j : jobs) wj.push_back(resolved.weights().select(0, j).reshape({out_numel}));
    const SampleScores r = score_samples(model, xi, hide, seg, z, samples, k, stack(wj, 0), options);
    result.forwards += r.forwards;
    for (size_t q = 0; q < jobs.size(); ++q) {
        LimeJob& lj = result.per_job[jobs[q]];
        fit_job(r, q, jobs.size(), z, segments, options, lj);
        const Tensor coef = host_tensor(lj.coefficients, {k}, input.dtype(), input.device());
        job_maps[jobs[q]] = index_select(coef, 0, seg).reshape({1, 1, h, w});
    }
}

}  // namespace

LimeResult lime(nn::Module& model, const Tensor& x, const Target& target, const Tensor& feature_mask,
                const LimeOptions& options) {
    Stopwatch clock;
    check_input(model, x, "lime");
    ENGINE_CHECK(options.num_samples >= 0 && options.batch_size >= 1 && options.kernel_width > 0 &&
                     options.ridge_alpha >= 0 && options.top_k >= 0,
                 "lime: invalid options: num_samples ", options.num_samples, ", batch_size ", options.batch_size,
                 ", kernel_width ", options.kernel_width, ", ridge_alpha ", options.ridge_alpha, ", top_k ",
                 options.top_k);
    ModelScope scope(model);
    NoGradGuard no_grad;
    const Tensor input = x.detach();
    const Tensor mask = normalize_feature_mask(feature_mask, input, "lime");
    const std::vector<int64_t> mask_host = mask.to_vector<int64_t>();

    LimeResult result;
    result.method = "lime";
    const Tensor output = model(input);
    const ResolvedTarget resolved = target.resolve(output);
    const Tensor base = make_baseline(options.baseline, input);
    result.forwards = 1;
    result.jobs = resolved.jobs();
    result.scores = resolved.job_scores(output).to_vector<double>();
    result.per_job.resize(result.jobs.size());
    std::vector<Tensor> job_maps(result.jobs.size());
    for (int64_t image = 0; image < input.size(0); ++image) {
        std::vector<int64_t> jobs;
        for (int64_t j = 0; j < resolved.num_jobs(); ++j)
            if (result.jobs[j].image == image) jobs.push_back(j);
        if (!jobs.empty()) lime_image(model, input, base, mask_host, resolved, image, jobs, options, result, job_maps);
    }
    result.map = cat(job_maps, 0);
    result.settings = {
        {"target", target.str()},
        {"num_samples", result.num_samples},
        {"hide", options.hide == LimeOptions::HideColor::SegmentMean ? "segment_mean" : options.baseline.str()},
        {"kernel_width", options.kernel_width},
        {"ridge_alpha", options.ridge_alpha},
        {"seed", options.seed},
        {"batch_size", options.batch_size}};
    result.seconds = clock.seconds();
    return result;
}

}  // namespace engine::explain
