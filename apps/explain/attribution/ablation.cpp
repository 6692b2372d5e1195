// Feature ablation and occlusion: batched ablated copies, no-grad forwards, frozen target weights.
#include "apps/explain/attribution/ablation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "apps/explain/attribution/host.h"

namespace engine::explain {

Tensor grid_mask(int64_t h, int64_t w, int64_t cell_h, int64_t cell_w) {
    ENGINE_CHECK(h > 0 && w > 0 && cell_h > 0 && cell_w > 0, "grid_mask: sizes must be > 0, got image ", h, "x", w,
                 " and cell ", cell_h, "x", cell_w);
    const int64_t cols = (w + cell_w - 1) / cell_w;
    std::vector<int64_t> ids(static_cast<size_t>(h * w));
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) ids[y * w + x] = (y / cell_h) * cols + x / cell_w;
    return from_vector<int64_t>(ids, {1, 1, h, w});
}

Tensor argmax_segments(const Tensor& output) {
    ENGINE_CHECK(output.defined() && output.dim() == 4,
                 "argmax_segments: expected a segmentation output (N, C, H, W), "
                 "got ",
                 output.defined() ? shape_str(output.shape()) : std::string("an undefined tensor"));
    NoGradGuard no_grad;
    return argmax(output.detach(), 1, true);
}

Tensor predicted_segments(nn::Module& model, const Tensor& x) {
    check_input(model, x, "predicted_segments");
    ModelScope scope(model);
    const Tensor out = forward_no_grad(model, x);
    ENGINE_CHECK(out.dim() == 4, "predicted_segments: the model outputs ", shape_str(out.shape()),
                 "; predicted segments need a segmentation output (N, C, H, W)");
    return argmax_segments(out);
}

Tensor normalize_feature_mask(const Tensor& mask, const Tensor& x, const char* method) {
    ENGINE_CHECK(mask.defined(), method, ": the feature mask is undefined");
    ENGINE_CHECK(!is_floating(mask.dtype()) && mask.dtype() != DType::Bool, method,
                 ": the feature mask must hold integer ids, got ", dtype_name(mask.dtype()));
    Tensor m = mask;
    if (m.dim() == 2)
        m = m.unsqueeze(0).unsqueeze(0);
    else if (m.dim() == 3)
        m = m.unsqueeze(1);
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    ENGINE_CHECK(
        m.dim() == 4 && (m.size(0) == 1 || m.size(0) == n) && m.size(1) == 1 && m.size(2) == h && m.size(3) == w,
        method, ": feature mask of shape ", shape_str(mask.shape()), " does not fit the input ", shape_str(x.shape()),
        "; expected (H, W), (1, H, W), (1, 1, H, W) or (N, 1, H, W)");
    NoGradGuard no_grad;
    return m.to(x.device()).to(DType::Int64).expand({n, 1, h, w}).contiguous();
}

// ---------------------------------------------------------------------------------------------- ablation

AblationResult feature_ablation(nn::Module& model, const Tensor& x, const Target& target, const Tensor& feature_mask,
                                const AblationOptions& options) {
    Stopwatch clock;
    check_input(model, x, "feature_ablation");
    ENGINE_CHECK(options.perturbations_per_eval >= 1, "feature_ablation: perturbations_per_eval must be >= 1, got ",
                 options.perturbations_per_eval);
    ModelScope scope(model);
    NoGradGuard no_grad;
    const Tensor input = x.detach();
    const Tensor mask = normalize_feature_mask(feature_mask, input, "feature_ablation");  // (N, 1, H, W)
    const int64_t n = input.size(0), hw = input.size(2) * input.size(3);
    const Device device = input.device();

    // Feature ids and per-image pixel counts (one host copy of the mask).
    const std::vector<int64_t> ids_host = mask.to_vector<int64_t>();
    std::set<int64_t> id_set;
    for (int64_t v : ids_host) {
        ENGINE_CHECK(v >= 0, "feature_ablation: feature ids must be >= 0, got ", v);
        id_set.insert(v);
    }
    AblationResult result;
    result.method = "feature_ablation";
    result.feature_ids.assign(id_set.begin(), id_set.end());
    const int64_t num_features = static_cast<int64_t>(result.feature_ids.size());
    const int64_t max_id = result.feature_ids.back();
    std::vector<int64_t> position(static_cast<size_t>(max_id + 1), -1);
    for (int64_t k = 0; k < num_features; ++k) position[result.feature_ids[k]] = k;
    std::vector<std::vector<int64_t>> pixels(n, std::vector<int64_t>(num_features, 0));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t p = 0; p < hw; ++p) ++pixels[i][position[ids_host[i * hw + p]]];

    const Tensor output = model(input);
    const ResolvedTarget resolved = target.resolve(output);
    const Tensor initial = resolved.job_scores(output);  // (1, M)
    const Tensor base = make_baseline(options.baseline, input);
    result.forwards = 1;

    std::vector<Tensor> diffs;  // (p, M) per chunk
    const Tensor x5 = input.unsqueeze(0), b5 = base.unsqueeze(0), m5 = mask.unsqueeze(0);
    for (int64_t first = 0; first < num_features; first += options.perturbations_per_eval) {
        const int64_t p = std::min(options.perturbations_per_eval, num_features - first);
        const std::vector<int64_t> chunk(result.feature_ids.begin() + first, result.feature_ids.begin() + first + p);
        const Tensor ids = from_vector<int64_t>(chunk, {p, 1, 1, 1, 1}, device);
        const Tensor ablated = where(eq(m5, ids), b5, x5).reshape({p * n, input.size(1), input.size(2), input.size(3)});
        diffs.push_back(sub(initial, resolved.job_scores(model(ablated))));
        ++result.forwards;
    }
    const Tensor table = diffs.size() == 1 ? diffs[0] : cat(diffs, 0);  // (F, M)
    const std::vector<double> values = table.to_vector<double>();
    const int64_t m = resolved.num_jobs();

    // Paint each job's feature values on its image's mask: a dense id -> value lookup, gathered per pixel.
    std::vector<double> lookup(static_cast<size_t>(m * (max_id + 1)), 0.0);
    result.jobs = resolved.jobs();
    for (int64_t j = 0; j < m; ++j) {
        const int64_t image = result.jobs[j].image;
        std::vector<double> per_feature(num_features);
        std::vector<int64_t> counts(num_features);
        for (int64_t k = 0; k < num_features; ++k) {
            counts[k] = pixels[image][k];
            per_feature[k] = counts[k] > 0 ? values[k * m + j] : std::numeric_limits<double>::quiet_NaN();
            lookup[j * (max_id + 1) + result.feature_ids[k]] = counts[k] > 0 ? values[k * m + j] : 0.0;
        }
        result.feature_attributions.push_back(std::move(per_feature));
        result.feature_pixels.push_back(std::move(counts));
    }
    const Tensor table_dev = host_tensor(lookup, {m, max_id + 1}, input.dtype(), device);
    const Tensor job_mask = job_inputs(mask, resolved).reshape({m, hw});
    result.map = gather(table_dev, 1, job_mask).reshape({m, 1, input.size(2), input.size(3)});
    result.scores = initial.to_vector<double>();
    result.settings = {{"target", target.str()},
                       {"baseline", options.baseline.str()},
                       {"perturbations_per_eval", options.perturbations_per_eval},
                       {"features", num_features}};
    result.seconds = clock.seconds();
    return result;
}

// ---------------------------------------------------------------------------------------------- occlusion

OcclusionResult occlusion(nn::Module& model, const Tensor& x, const Target& target, const OcclusionOptions& options) {
    Stopwatch clock;
    check_input(model, x, "occlusion");
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const int64_t wh = options.window_h, ww = options.window_w;
    ENGINE_CHECK(wh >= 1 && ww >= 1 && wh <= h && ww <= w, "occlusion: window ", wh, "x", ww,
                 " must be at least 1x1 and fit the input of size ", h, "x", w);
    const int64_t sh = options.stride_h > 0 ? options.stride_h : (wh + 1) / 2;
    const int64_t sw = options.stride_w > 0 ? options.stride_w : (ww + 1) / 2;
    ENGINE_CHECK(options.perturbations_per_eval >= 1, "occlusion: perturbations_per_eval must be >= 1, got ",
                 options.perturbations_per_eval);
    ModelScope scope(model);
    NoGradGuard no_grad;
    const Tensor input = x.detach();
    const Device device = input.device();
    const DType dtype = input.dtype();

    // Captum's window positions: ceil((D - window) / stride) + 1 starts per dim, k * stride, clipped at the end.
    const int64_t ny = (h - wh + sh - 1) / sh + 1, nx = (w - ww + sw - 1) / sw + 1;
    const int64_t windows = ny * nx;

    OcclusionResult result;
    result.method = "occlusion";
    const Tensor output = model(input);
    const ResolvedTarget resolved = target.resolve(output);
    const Tensor initial = resolved.job_scores(output);  // (1, M)
    const Tensor base = make_baseline(options.baseline, input);
    const int64_t m = resolved.num_jobs();
    result.forwards = 1;

    Tensor total = zeros({m, 1, h, w}, dtype, device);
    Tensor counts = zeros({1, 1, h, w}, dtype, device);
    const Tensor x5 = input.unsqueeze(0), b5 = base.unsqueeze(0);
    for (int64_t first = 0; first < windows; first += options.perturbations_per_eval) {
        const int64_t p = std::min(options.perturbations_per_eval, windows - first);
        std::vector<double> rows(static_cast<size_t>(p * h), 0.0), cols(static_cast<size_t>(p * w), 0.0);
        for (int64_t q = 0; q < p; ++q) {
            const int64_t y0 = ((first + q) / nx) * sh, x0 = ((first + q) % nx) * sw;
            for (int64_t y = y0; y < std::min(h, y0 + wh); ++y) rows[q * h + y] = 1.0;
            for (int64_t xx = x0; xx < std::min(w, x0 + ww); ++xx) cols[q * w + xx] = 1.0;
        }
        const Tensor window = mul(host_tensor(rows, {p, 1, 1, h, 1}, dtype, device),
                                  host_tensor(cols, {p, 1, 1, 1, w}, dtype, device));  // (p, 1, 1, H, W)
        const Tensor ablated = where(ne(window, 0.0), b5, x5).reshape({p * n, c, h, w});
        const Tensor diff = sub(initial, resolved.job_scores(model(ablated)));  // (p, M)
        ++result.forwards;
        total = add(total, sum(mul(diff.reshape({p, m, 1, 1, 1}), window), {0}));
        counts = add(counts, sum(window, {0}));
    }
    result.map = div(total, counts);
    result.jobs = resolved.jobs();
    result.scores = initial.to_vector<double>();
    result.windows = windows;
    result.settings = {{"target", target.str()},
                       {"baseline", options.baseline.str()},
                       {"window", {wh, ww}},
                       {"stride", {sh, sw}},
                       {"perturbations_per_eval", options.perturbations_per_eval}};
    result.seconds = clock.seconds();
    return result;
}

}  // namespace engine::explain
