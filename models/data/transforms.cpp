// Rng (Philox streams per sample) and the standard sample transforms.
#include "models/data/transforms.h"

#include <cmath>
#include <cstring>

#include "models/data/image.h"
#include "runtime/philox.h"

namespace engine::data {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

bool is_mask_of(const Tensor& target, const Tensor& image) {
    return target.defined() && target.dim() == 2 && image.dim() == 3 && target.size(0) == image.size(1) &&
           target.size(1) == image.size(2);
}

void check_sample(const Sample& s, const char* op) {
    ENGINE_CHECK(s.image.defined() && s.image.dim() == 3, op, ": expected a (C,H,W) image, got ",
                 s.image.defined() ? shape_str(s.image.shape()) : std::string("none"));
}

// (planes, H, W) view of the geometry plus the element size, for byte-level copies.
struct Planes {
    Tensor src;
    int64_t planes, h, w, elem;
};
Planes planes_of(const Tensor& image, const char* op) {
    ENGINE_CHECK(image.defined() && (image.dim() == 2 || image.dim() == 3), op, ": expected (C,H,W) or (H,W), got ",
                 image.defined() ? shape_str(image.shape()) : std::string("undefined"));
    Tensor src = image.is_contiguous() ? image : image.contiguous();
    return {src, src.dim() == 3 ? src.size(0) : 1, src.size(src.dim() - 2), src.size(src.dim() - 1),
            static_cast<int64_t>(dtype_size(src.dtype()))};
}

Shape with_hw(const Tensor& t, int64_t h, int64_t w) { return t.dim() == 3 ? Shape{t.size(0), h, w} : Shape{h, w}; }

template <class F>
class FnTransform final : public Transform {
public:
    explicit FnTransform(F f) : f_(std::move(f)) {}
    void apply(Sample& sample, Rng& rng) const override { f_(sample, rng); }

private:
    F f_;
};
template <class F>
TransformPtr make(F f) {
    return std::make_shared<FnTransform<F>>(std::move(f));
}

void crop_sample(Sample& s, int64_t top, int64_t left, int64_t h, int64_t w) {
    if (is_mask_of(s.target, s.image)) s.target = crop(s.target, top, left, h, w);
    s.image = crop(s.image, top, left, h, w);
}

void check_window(const Sample& s, int64_t h, int64_t w, const char* op) {
    check_sample(s, op);
    ENGINE_CHECK(s.image.size(1) >= h && s.image.size(2) >= w, op, ": sample of ", s.image.size(1), "x",
                 s.image.size(2), " is smaller than the ", h, "x", w, " window; resize first");
}

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) : key_(splitmix64(seed ^ splitmix64(stream))) {}

Rng Rng::from(Generator& gen) { return Rng(gen.seed(), gen.reserve(1)); }

uint32_t Rng::next_u32() {
    if (used_ == 4) {
        const philox::Block b = philox::generate(counter_++, key_);
        std::memcpy(buffer_, b.x, sizeof(buffer_));
        used_ = 0;
    }
    return buffer_[used_++];
}

double Rng::uniform() {
    const uint64_t hi = next_u32(), lo = next_u32();
    return static_cast<double>(((hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

int64_t Rng::uniform_int(int64_t n) {
    ENGINE_CHECK(n >= 1, "Rng::uniform_int: n must be >= 1, got ", n);
    return std::min<int64_t>(static_cast<int64_t>(uniform() * static_cast<double>(n)), n - 1);
}

Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width) {
    const Planes p = planes_of(image, "crop");
    ENGINE_CHECK(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= p.h && left + width <= p.w,
                 "crop: window ", height, "x", width, " at (", top, ", ", left, ") outside a ", p.h, "x", p.w,
                 " image");
    Tensor out = empty(with_hw(p.src, height, width), p.src.dtype());
    const auto* src = static_cast<const char*>(p.src.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for (int64_t c = 0; c < p.planes; ++c)
        for (int64_t y = 0; y < height; ++y)
            std::memcpy(dst + ((c * height + y) * width) * p.elem, src + ((c * p.h + top + y) * p.w + left) * p.elem,
                        static_cast<size_t>(width * p.elem));
    return out;
}

Tensor flip_horizontal(const Tensor& image) {
    const Planes p = planes_of(image, "flip_horizontal");
    Tensor out = empty(p.src.shape(), p.src.dtype());
    const auto* src = static_cast<const char*>(p.src.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    for (int64_t row = 0; row < p.planes * p.h; ++row)
        for (int64_t x = 0; x < p.w; ++x)
            std::memcpy(dst + (row * p.w + x) * p.elem, src + (row * p.w + p.w - 1 - x) * p.elem,
                        static_cast<size_t>(p.elem));
    return out;
}

Tensor flip_vertical(const Tensor& image) {
    const Planes p = planes_of(image, "flip_vertical");
    Tensor out = empty(p.src.shape(), p.src.dtype());
    const auto* src = static_cast<const char*>(p.src.raw_data());
    auto* dst = static_cast<char*>(out.raw_data());
    const auto row_bytes = static_cast<size_t>(p.w * p.elem);
    for (int64_t c = 0; c < p.planes; ++c)
        for (int64_t y = 0; y < p.h; ++y)
            std::memcpy(dst + (c * p.h + y) * row_bytes, src + (c * p.h + p.h - 1 - y) * row_bytes, row_bytes);
    return out;
}

namespace transforms {

TransformPtr compose(std::vector<TransformPtr> steps) {
    return make([steps = std::move(steps)](Sample& s, Rng& rng) {
        for (const TransformPtr& t : steps)
            if (t) t->apply(s, rng);
    });
}

TransformPtr resize(int64_t height, int64_t width) {
    ENGINE_CHECK(height > 0 && width > 0, "transforms::resize: size must be positive, got ", height, "x", width);
    return make([height, width](Sample& s, Rng&) {
        check_sample(s, "transforms::resize");
        if (is_mask_of(s.target, s.image)) s.target = resize_nearest(s.target, height, width);
        s.image = resize_bilinear(s.image, height, width);
    });
}

TransformPtr random_crop(int64_t height, int64_t width) {
    ENGINE_CHECK(height > 0 && width > 0, "transforms::random_crop: size must be positive, got ", height, "x", width);
    return make([height, width](Sample& s, Rng& rng) {
        check_window(s, height, width, "transforms::random_crop");
        const int64_t top = rng.uniform_int(s.image.size(1) - height + 1);
        const int64_t left = rng.uniform_int(s.image.size(2) - width + 1);
        crop_sample(s, top, left, height, width);
    });
}

TransformPtr center_crop(int64_t height, int64_t width) {
    ENGINE_CHECK(height > 0 && width > 0, "transforms::center_crop: size must be positive, got ", height, "x", width);
    return make([height, width](Sample& s, Rng&) {
        check_window(s, height, width, "transforms::center_crop");
        // Python's round() (halves to even), as torchvision computes the offsets.
        const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(s.image.size(1) - height) / 2.0));
        const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(s.image.size(2) - width) / 2.0));
        crop_sample(s, top, left, height, width);
    });
}

TransformPtr horizontal_flip(double p) {
    return make([p](Sample& s, Rng& rng) {
        check_sample(s, "transforms::horizontal_flip");
        if (!rng.bernoulli(p)) return;
        if (is_mask_of(s.target, s.image)) s.target = flip_horizontal(s.target);
        s.image = flip_horizontal(s.image);
    });
}

TransformPtr vertical_flip(double p) {
    return make([p](Sample& s, Rng& rng) {
        check_sample(s, "transforms::vertical_flip");
        if (!rng.bernoulli(p)) return;
        if (is_mask_of(s.target, s.image)) s.target = flip_vertical(s.target);
        s.image = flip_vertical(s.image);
    });
}

TransformPtr normalize(std::vector<double> mean, std::vector<double> std) {
    ENGINE_CHECK(!mean.empty() && mean.size() == std.size(), "transforms::normalize: ", mean.size(), " means and ",
                 std.size(), " stds");
    return make([mean = std::move(mean), std = std::move(std)](Sample& s, Rng&) {
        check_sample(s, "transforms::normalize");
        s.image = data::normalize(s.image, mean, std);
    });
}

TransformPtr lambda(std::function<void(Sample&, Rng&)> f) {
    ENGINE_CHECK(f != nullptr, "transforms::lambda: empty function");
    return make(std::move(f));
}

}  // namespace transforms
}  // namespace engine::data
