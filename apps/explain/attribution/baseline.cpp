// Baselines: constant, blurred, seeded uniform noise, or a given image.
#include "apps/explain/attribution/baseline.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "apps/explain/attribution/host.h"
#include "autograd/ops.h"

namespace engine::explain {
namespace {

std::vector<std::string> split_colon(const std::string& s) {
    std::vector<std::string> parts;
    std::string cur;
    for (char ch : s) {
        if (ch == ':') {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    parts.push_back(cur);
    return parts;
}

double parse_number(const std::string& text, const std::string& spec) {
    try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size()) return v;
    } catch (const std::exception&) {
    }
    throw Error("baseline: '" + text + "' in '" + spec + "' is not a number");
}

}  // namespace

Baseline Baseline::constant(double v) {
    Baseline b;
    b.value = v;
    return b;
}

Baseline Baseline::blur(double sigma) {
    ENGINE_CHECK(sigma > 0, "baseline: blur sigma must be > 0, got ", sigma);
    Baseline b;
    b.kind = Kind::Blur;
    b.sigma = sigma;
    return b;
}

Baseline Baseline::uniform(double low, double high, uint64_t seed) {
    ENGINE_CHECK(low < high, "baseline: uniform noise needs low < high, got [", low, ", ", high, ")");
    Baseline b;
    b.kind = Kind::Uniform;
    b.low = low;
    b.high = high;
    b.seed = seed;
    return b;
}

Baseline Baseline::from_image(Tensor image) {
    ENGINE_CHECK(image.defined(), "baseline: from_image() needs a defined image");
    Baseline b;
    b.kind = Kind::Image;
    b.image = std::move(image);
    return b;
}

Baseline Baseline::parse(const std::string& spec) {
    const std::vector<std::string> p = split_colon(spec);
    const std::string& name = p[0];
    if ((name == "zeros" || name == "black") && p.size() == 1) return zeros();
    if (name == "constant" && p.size() == 2) return constant(parse_number(p[1], spec));
    if (name == "blur" && p.size() <= 2) return blur(p.size() == 2 ? parse_number(p[1], spec) : 5.0);
    if (name == "uniform" && (p.size() == 1 || p.size() == 3 || p.size() == 4)) {
        if (p.size() == 1) return uniform(0.0, 1.0);
        const uint64_t seed = p.size() == 4 ? static_cast<uint64_t>(parse_number(p[3], spec)) : 0;
        return uniform(parse_number(p[1], spec), parse_number(p[2], spec), seed);
    }
    throw Error("baseline: cannot parse '" + spec +
                "'; expected zeros, constant:V, blur, blur:SIGMA, uniform or uniform:LOW:HIGH[:SEED]");
}

std::string Baseline::str() const {
    std::ostringstream os;
    switch (kind) {
        case Kind::Constant:
            if (value == 0.0)
                os << "zeros";
            else
                os << "constant:" << value;
            break;
        case Kind::Blur:
            os << "blur:" << sigma;
            break;
        case Kind::Uniform:
            os << "uniform:" << low << ":" << high << ":" << seed;
            break;
        case Kind::Image:
            os << "image " << shape_str(image.shape());
            break;
    }
    return os.str();
}

Tensor gaussian_blur(const Tensor& x, double sigma) {
    ENGINE_CHECK(x.dim() == 4, "gaussian_blur: expected (N, C, H, W), got ", shape_str(x.shape()));
    if (sigma <= 0) return x;
    NoGradGuard no_grad;
    const int64_t c = x.size(1), h = x.size(2), w = x.size(3);
    auto blur_along = [&](const Tensor& in, bool vertical) {
        const int64_t extent = vertical ? h : w;
        const int64_t radius = std::min<int64_t>(static_cast<int64_t>(std::ceil(3.0 * sigma)), extent - 1);
        if (radius <= 0) return in;
        std::vector<double> k(2 * radius + 1);
        double total = 0;
        for (int64_t i = -radius; i <= radius; ++i) total += k[i + radius] = std::exp(-0.5 * i * i / (sigma * sigma));
        for (double& v : k) v /= total;
        const Shape kshape = vertical ? Shape{1, 1, 2 * radius + 1, 1} : Shape{1, 1, 1, 2 * radius + 1};
        Tensor kernel = host_tensor(k, kshape, x.dtype(), x.device());
        kernel = kernel.expand({c, 1, kshape[2], kshape[3]}).contiguous();
        const std::vector<int64_t> pads =
            vertical ? std::vector<int64_t>{0, 0, radius, radius} : std::vector<int64_t>{radius, radius, 0, 0};
        Conv2dParams p;
        p.groups = c;
        return conv2d(pad(in, pads, PadMode::Replicate), kernel, Tensor(), p);
    };
    return blur_along(blur_along(x, true), false);
}

Tensor make_baseline(const Baseline& baseline, const Tensor& x) {
    NoGradGuard no_grad;
    switch (baseline.kind) {
        case Baseline::Kind::Constant:
            return full(x.shape(), baseline.value, x.dtype(), x.device());
        case Baseline::Kind::Blur:
            return gaussian_blur(x.detach(), baseline.sigma);
        case Baseline::Kind::Uniform: {
            // One noise image shared by the batch, so that an image gets the same baseline alone or batched.
            Generator gen(baseline.seed);
            return uniform({1, x.size(1), x.size(2), x.size(3)}, baseline.low, baseline.high, gen, x.dtype(),
                           x.device())
                .expand(x.shape())
                .contiguous();
        }
        case Baseline::Kind::Image: {
            Tensor img = baseline.image;
            if (img.dim() == 3) img = img.unsqueeze(0);
            ENGINE_CHECK(img.dim() == 4 && (img.size(0) == 1 || img.size(0) == x.size(0)) && img.size(1) == x.size(1) &&
                             img.size(2) == x.size(2) && img.size(3) == x.size(3),
                         "baseline: image of shape ", shape_str(baseline.image.shape()), " does not match the input ",
                         shape_str(x.shape()));
            return img.to(x.device()).to(x.dtype()).expand(x.shape()).contiguous();
        }
    }
    throw Error("baseline: unknown kind");
}

}  // namespace engine::explain
