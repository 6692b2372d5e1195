// Target resolution: the clean output's argmax frozen into per-job weights, and the scoring helpers.
#include "apps/explain/attribution/target.h"

#include <algorithm>
#include <sstream>

#include "apps/explain/attribution/host.h"
#include "autograd/ops.h"

namespace engine::explain {
namespace {

std::string list_str(const std::vector<int64_t>& v) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << "]";
    return os.str();
}

// Per-image output shape (everything but dim 0).
Shape image_shape(const Shape& output_shape) { return Shape(output_shape.begin() + 1, output_shape.end()); }

Tensor index_tensor(const std::vector<int64_t>& v, Device device) {
    return from_vector<int64_t>(v, {static_cast<int64_t>(v.size())}, device);
}

void check_class(int64_t c, int64_t num_classes) {
    ENGINE_CHECK(c >= 0 && c < num_classes, "target: class ", c, " out of range for an output with ", num_classes,
                 " classes (valid: 0..", num_classes - 1, ")");
}

// (N, C, H, W) or (1, ...) region mask as a float tensor of `dtype` on `device`, validated against the output.
Tensor region_weights(const Tensor& region, const Shape& out, DType dtype, Device device) {
    const int64_t n = out[0], h = out[2], w = out[3];
    Tensor m = region;
    if (m.dim() == 2)
        m = m.unsqueeze(0).unsqueeze(0);
    else if (m.dim() == 3)
        m = m.unsqueeze(1);
    ENGINE_CHECK(
        m.dim() == 4 && (m.size(0) == 1 || m.size(0) == n) && m.size(1) == 1 && m.size(2) == h && m.size(3) == w,
        "target: region mask of shape ", shape_str(region.shape()), " does not match the output ", shape_str(out),
        "; expected (H, W), (1, H, W), (1, 1, H, W) or (N, 1, H, W) with H=", h, " W=", w);
    m = m.to(device);
    if (!is_floating(m.dtype())) m = ne(m, 0.0);
    return m.to(dtype).expand({n, 1, h, w});
}

}  // namespace

// ---------------------------------------------------------------------------------------------- Target

Target Target::cls(int64_t c) { return classes({c}); }

Target Target::classes(std::vector<int64_t> per_image) {
    ENGINE_CHECK(!per_image.empty(), "target: classes() needs at least one class");
    Target t;
    t.kind_ = Kind::Classes;
    t.classes_ = std::move(per_image);
    return t;
}

Target Target::predicted() { return Target(); }

Target Target::all_present() {
    Target t;
    t.kind_ = Kind::AllPresent;
    return t;
}

Target Target::pixel(int64_t y, int64_t x, int64_t c) {
    Target t;
    t.kind_ = Kind::Pixel;
    t.y_ = y;
    t.x_ = x;
    if (c >= 0) t.classes_ = {c};
    return t;
}

Target Target::region(Tensor mask, int64_t c) {
    ENGINE_CHECK(mask.defined(), "target: region() needs a defined mask");
    Target t;
    t.kind_ = Kind::Region;
    t.region_ = std::move(mask);
    if (c >= 0) t.classes_ = {c};
    return t;
}

Target& Target::mean(bool on) {
    mean_ = on;
    return *this;
}

Target& Target::mask_mode(MaskMode mode) {
    mask_mode_ = mode;
    return *this;
}

std::string Target::str() const {
    std::string s;
    switch (kind_) {
        case Kind::Classes:
            s = classes_.size() == 1 ? "class " + std::to_string(classes_[0]) : "classes " + list_str(classes_);
            break;
        case Kind::Predicted:
            s = "predicted";
            break;
        case Kind::AllPresent:
            s = "all_present";
            break;
        case Kind::Pixel:
            s = "pixel (" + std::to_string(y_) + ", " + std::to_string(x_) + ")";
            if (!classes_.empty()) s += " class " + std::to_string(classes_[0]);
            break;
        case Kind::Region:
            s = "region";
            if (!classes_.empty()) s += " class " + std::to_string(classes_[0]);
            break;
    }
    if (mask_mode_ == MaskMode::WholeImage) s += " whole_image";
    if (mean_) s += " mean";
    return s;
}

struct Target::SegmentationOutput {
    explicit SegmentationOutput(const Tensor& out)
        : n(out.size(0)),
          num_classes(out.size(1)),
          h(out.size(2)),
          w(out.size(3)),
          dtype(out.dtype()),
          device(out.device()),
          pred(argmax(out, 1)) {
        const Tensor class_ids = arange(0, static_cast<double>(num_classes), 1.0, DType::Int64, device);
        onehot = eq(pred.unsqueeze(1), class_ids.view({1, num_classes, 1, 1})).to(dtype);  // (N, C, H, W)
        counts = sum(onehot, {2, 3}).to_vector<int64_t>();                                 // (N, C)
    }
    int64_t count(int64_t i, int64_t c) const { return counts[i * num_classes + c]; }
    Tensor class_plane(int64_t c) const {  // (C, 1, 1) one-hot
        std::vector<double> v(num_classes, 0.0);
        v[c] = 1.0;
        return host_tensor(v, {num_classes, 1, 1}, dtype, device);
    }

    int64_t n, num_classes, h, w;
    DType dtype;
    Device device;
    Tensor pred;    // (N, H, W) argmax
    Tensor onehot;  // (N, C, H, W) of pred
    std::vector<int64_t> counts;
};

void Target::classifier_jobs(const Tensor& out, Jobs& jobs, Weights& weights) const {
    const int64_t n = out.size(0), num_classes = out.size(1);
    ENGINE_CHECK(kind_ != Kind::Pixel && kind_ != Kind::Region, "target: a ", str(),
                 " target needs a segmentation output (N, C, H, W); this model outputs ", shape_str(out.shape()));
    std::vector<int64_t> chosen;
    if (kind_ == Kind::Predicted) chosen = argmax(out, 1).to_vector<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
        std::vector<int64_t> cs;
        if (kind_ == Kind::AllPresent) {
            for (int64_t c = 0; c < num_classes; ++c) cs.push_back(c);
        } else {
            cs.push_back(kind_ == Kind::Predicted ? chosen[i] : class_of(i));
        }
        for (int64_t c : cs) {
            jobs.push_back({i, c, 0, "class " + std::to_string(c)});
            std::vector<double> w(num_classes, 0.0);
            w[c] = 1.0;
            weights.push_back(host_tensor(w, {num_classes}, out.dtype(), out.device()));
        }
    }
}

void Target::class_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const {
    const bool whole = mask_mode_ == MaskMode::WholeImage;
    auto class_weights = [&](int64_t i, int64_t c) {
        if (whole) return s.class_plane(c).expand({s.num_classes, s.h, s.w}).contiguous();
        return mul(s.onehot.select(0, i), s.class_plane(c));
    };
    auto class_label = [&](int64_t c, int64_t px) {
        return "class " + std::to_string(c) +
               (whole ? " over the whole image" : " on its predicted mask (" + std::to_string(px) + " px)");
    };
    for (int64_t i = 0; i < s.n; ++i) {
        std::vector<int64_t> cs;
        if (kind_ == Kind::Classes) {
            cs.push_back(class_of(i));
        } else if (kind_ == Kind::Predicted) {
            int64_t best = 0;
            for (int64_t c = 1; c < s.num_classes; ++c)
                if (s.count(i, c) > s.count(i, best)) best = c;
            cs.push_back(best);
        } else {
            for (int64_t c = 0; c < s.num_classes; ++c)
                if (s.count(i, c) > 0) cs.push_back(c);
        }
        for (int64_t c : cs) {
            const int64_t px = whole ? s.h * s.w : s.count(i, c);
            jobs.push_back({i, c, px, class_label(c, px)});
            weights.push_back(class_weights(i, c));
        }
    }
}

void Target::pixel_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const {
    const int64_t h = s.h, w = s.w;
    ENGINE_CHECK(y_ >= 0 && y_ < h && x_ >= 0 && x_ < w, "target: pixel (", y_, ", ", x_,
                 ") is outside the output of size ", h, "x", w);
    const std::vector<int64_t> at = s.pred.select(1, y_).select(1, x_).to_vector<int64_t>();
    for (int64_t i = 0; i < s.n; ++i) {
        const int64_t c = classes_.empty() ? at[i] : class_of(i);
        std::vector<double> v(static_cast<size_t>(s.num_classes * h * w), 0.0);
        v[static_cast<size_t>((c * h + y_) * w + x_)] = 1.0;
        jobs.push_back(
            {i, c, 1, "pixel (" + std::to_string(y_) + ", " + std::to_string(x_) + ") class " + std::to_string(c)});
        weights.push_back(host_tensor(v, {s.num_classes, h, w}, s.dtype, s.device));
    }
}

void Target::region_jobs(const SegmentationOutput& s, Jobs& jobs, Weights& weights) const {
    const Shape shape{s.n, s.num_classes, s.h, s.w};
    const Tensor m = region_weights(region_, shape, s.dtype, s.device);  // (N, 1, H, W)
    const std::vector<int64_t> inside = sum(ne(m, 0.0).to(DType::Int64), {1, 2, 3}).to_vector<int64_t>();
    for (int64_t i = 0; i < s.n; ++i) {
        const int64_t c = classes_.empty() ? -1 : class_of(i);
        Tensor wi = c >= 0 ? mul(s.class_plane(c), m.select(0, i)) : mul(s.onehot.select(0, i), m.select(0, i));
        jobs.push_back({i, c, inside[i],
                        "region (" + std::to_string(inside[i]) + " px) " +
                            (c >= 0 ? "class " + std::to_string(c) : std::string("predicted classes"))});
        weights.push_back(wi.contiguous());
    }
}

ResolvedTarget Target::resolve(const Tensor& clean_output) const {
    NoGradGuard no_grad;
    ENGINE_CHECK(clean_output.defined() && (clean_output.dim() == 2 || clean_output.dim() == 4) &&
                     is_floating(clean_output.dtype()),
                 "target: expected a floating model output of shape (N, C) or (N, C, H, W), got ",
                 clean_output.defined() ? shape_str(clean_output.shape()) + " " + dtype_name(clean_output.dtype())
                                        : std::string("an undefined tensor"));
    const Tensor out = clean_output.detach();
    const Shape shape = out.shape();
    const int64_t n = shape[0], num_classes = shape[1];
    ENGINE_CHECK(classes_.size() == 1 || classes_.empty() || static_cast<int64_t>(classes_.size()) == n,
                 "target: ", classes_.size(), " classes given for a batch of ", n, " images (give 1 or ", n, ")");
    for (int64_t c : classes_) check_class(c, num_classes);

    Jobs jobs;
    Weights weights;
    if (out.dim() == 2) {  // a classifier: one-hot weights, never averaged
        classifier_jobs(out, jobs, weights);
        return ResolvedTarget(shape, std::move(jobs), std::move(weights));
    }
    const SegmentationOutput s(out);
    if (kind_ == Kind::Pixel)
        pixel_jobs(s, jobs, weights);
    else if (kind_ == Kind::Region)
        region_jobs(s, jobs, weights);
    else
        class_jobs(s, jobs, weights);
    if (mean_) {
        for (Tensor& wt : weights) {
            const double total = sum(wt).item<double>();
            if (total != 0.0) wt = div(wt, total);
        }
    }
    return ResolvedTarget(shape, std::move(jobs), std::move(weights));
}

// ---------------------------------------------------------------------------------------------- ResolvedTarget

ResolvedTarget::ResolvedTarget(Shape output_shape, std::vector<TargetJob> jobs, std::vector<Tensor> job_weights)
    : output_shape_(std::move(output_shape)), jobs_(std::move(jobs)) {
    NoGradGuard no_grad;
    ENGINE_CHECK(!jobs_.empty(), "target: no job to explain (no class is present in the prediction)");
    ENGINE_CHECK(jobs_.size() == job_weights.size(), "target: ", jobs_.size(), " jobs but ", job_weights.size(),
                 " weight tensors");
    const int64_t n = num_images();
    const Shape per_image = image_shape(output_shape_);
    weights_ = job_weights.size() == 1 ? job_weights[0].unsqueeze(0).contiguous() : stack(job_weights, 0);
    const Device device = weights_.device();

    // Round r holds the r-th job of every image.
    std::vector<int64_t> rank_of_image(n, 0);
    for (int64_t j = 0; j < num_jobs(); ++j) {
        const int64_t image = jobs_[j].image;
        ENGINE_CHECK(image >= 0 && image < n, "target: job ", j, " names image ", image, " of ", n);
        const int64_t r = rank_of_image[image]++;
        if (static_cast<int64_t>(rounds_.size()) <= r) rounds_.emplace_back();
        rounds_[r].jobs.push_back(j);
        rounds_[r].images.push_back(image);
    }
    for (Round& round : rounds_) {
        const int64_t count = static_cast<int64_t>(round.jobs.size());
        bool identity = count == num_jobs() && count == n;
        for (int64_t i = 0; identity && i < count; ++i) identity = round.jobs[i] == i && round.images[i] == i;
        round.covers_all_images = count == n;
        if (identity) {
            round.weights = weights_;
            round.full_weights = weights_;
            continue;
        }
        round.weights = index_select(weights_, 0, index_tensor(round.jobs, device));
        std::vector<Tensor> rows(n);
        for (int64_t i = 0; i < count; ++i) rows[round.images[i]] = weights_.select(0, round.jobs[i]);
        Shape zero_shape = per_image;
        for (Tensor& row : rows)
            if (!row.defined()) row = zeros(zero_shape, weights_.dtype(), device);
        round.full_weights = stack(rows, 0);
    }
}

Tensor ResolvedTarget::job_images(Device device) const {
    std::vector<int64_t> images;
    for (const TargetJob& job : jobs_) images.push_back(job.image);
    return index_tensor(images, device);
}

Tensor ResolvedTarget::score(const Tensor& output, const Tensor& weights) {
    const int64_t n = weights.size(0);
    ENGINE_CHECK(output.dim() == weights.dim() && output.size(0) % n == 0, "target: output of shape ",
                 shape_str(output.shape()), " is not a stack of copies of ", n, " images with weights ",
                 shape_str(weights.shape()));
    const int64_t k = output.size(0) / n, d = weights.numel() / n;
    return sum(mul(output.reshape({k, n, d}), weights.reshape({1, n, d})), {2}).reshape({k * n});
}

Tensor ResolvedTarget::probability(const Tensor& output, const Tensor& weights) {
    const int64_t n = weights.size(0);
    const Tensor mass = sum(weights.reshape({n, -1}), {1});  // (n)
    const Tensor p = score(softmax(output, 1), weights);     // (k*n)
    const int64_t k = p.size(0) / n;
    return div(p.reshape({k, n}), mass.reshape({1, n})).reshape({k * n});
}

Tensor ResolvedTarget::seed(const Tensor& weights, int64_t copies) {
    if (copies == 1) return weights.contiguous();
    Shape expanded = weights.shape();
    expanded.insert(expanded.begin(), copies);
    Shape flat = weights.shape();
    flat[0] *= copies;
    return weights.unsqueeze(0).expand(expanded).reshape(flat);
}

Tensor ResolvedTarget::job_scores(const Tensor& output) const {
    const int64_t n = num_images();
    if (rounds_.size() == 1 && rounds_[0].weights.is_same(weights_) && num_jobs() == n)
        return score(output, weights_).reshape({-1, n});
    std::vector<Tensor> rows;
    for (const Round& round : rounds_) rows.push_back(score(output, round.full_weights).reshape({-1, n}).t());
    return gather_jobs(rows, true).t().contiguous();
}

Tensor ResolvedTarget::gather_jobs(const std::vector<Tensor>& round_rows, bool full_rows) const {
    ENGINE_CHECK(round_rows.size() == rounds_.size(), "target: ", round_rows.size(), " round results for ",
                 rounds_.size(), " rounds");
    if (rounds_.size() == 1 && num_jobs() == num_images() && rounds_[0].weights.is_same(weights_)) return round_rows[0];
    const Device device = round_rows[0].device();
    std::vector<Tensor> parts;
    std::vector<int64_t> position(num_jobs(), -1);
    int64_t at = 0;
    for (size_t r = 0; r < rounds_.size(); ++r) {
        const Round& round = rounds_[r];
        parts.push_back(full_rows ? index_select(round_rows[r], 0, index_tensor(round.images, device)) : round_rows[r]);
        for (int64_t j : round.jobs) position[j] = at++;
    }
    const Tensor all = parts.size() == 1 ? parts[0] : cat(parts, 0);
    return index_select(all, 0, index_tensor(position, device));
}

}  // namespace engine::explain
