// SLIC superpixels: Lab conversion, skimage's grid of initial centres, the k-means iterations and the
// connectivity enforcement.
#include "apps/explain/render/slic.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <numeric>

#include "runtime/error.h"
#include "runtime/parallel.h"

namespace engine::explain::render {

namespace {

// skimage.util.regular_grid for an array of `shape` and n_points: per dim, (start, step).
std::vector<std::pair<int64_t, int64_t>> regular_grid(const std::vector<int64_t>& shape, int64_t n_points) {
    const size_t ndim = shape.size();
    std::vector<size_t> order(ndim);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return shape[a] < shape[b]; });
    std::vector<double> sorted(ndim);
    for (size_t i = 0; i < ndim; ++i) sorted[i] = static_cast<double>(shape[order[i]]);
    double space = 1.0;
    for (double s : sorted) space *= s;
    std::vector<std::pair<int64_t, int64_t>> out(ndim, {0, 1});
    if (space <= static_cast<double>(n_points)) return out;
    std::vector<double> steps(ndim, std::pow(space / static_cast<double>(n_points), 1.0 / static_cast<double>(ndim)));
    auto any_smaller = [&] {
        for (size_t i = 0; i < ndim; ++i)
            if (sorted[i] < steps[i]) return true;
        return false;
    };
    if (any_smaller()) {
        for (size_t dim = 0; dim < ndim; ++dim) {
            steps[dim] = sorted[dim];
            double rest = 1.0;
            for (size_t i = dim + 1; i < ndim; ++i) rest *= sorted[i];
            for (size_t i = dim + 1; i < ndim; ++i)
                steps[i] = std::pow(rest / static_cast<double>(n_points), 1.0 / static_cast<double>(ndim - dim - 1));
            if (!any_smaller()) break;
        }
    }
    for (size_t i = 0; i < ndim; ++i) {
        const auto start = static_cast<int64_t>(std::floor(steps[i] / 2));
        const auto step = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(steps[i])));  // np.round: to even
        out[order[i]] = {start, step};
    }
    return out;
}

struct Centre {
    double y = 0, x = 0, l = 0, a = 0, b = 0;
    bool alive = true;
};

struct Window {
    int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};

// skimage's _enforce_label_connectivity_cython in 2-D (4-neighbourhood), with new ids from 0.
std::vector<int64_t> enforce_connectivity(const std::vector<int32_t>& labels, int64_t h, int64_t w, int64_t min_size,
                                          int64_t max_size) {
    std::vector<int64_t> out(labels.size(), -1);
    std::vector<int64_t> queue(static_cast<size_t>(std::max<int64_t>(max_size, 1)));
    const int64_t dy[4] = {1, -1, 0, 0}, dx[4] = {0, 0, 1, -1};
    int64_t next_label = 0;
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            const int64_t start = y * w + x;
            if (out[static_cast<size_t>(start)] >= 0) continue;
            const int32_t label = labels[static_cast<size_t>(start)];
            int64_t adjacent = -1, size = 1, visited = 0;
            out[static_cast<size_t>(start)] = next_label;
            queue[0] = start;
            while (visited < size && size < max_size) {
                const int64_t p = queue[static_cast<size_t>(visited)], py = p / w, px = p % w;
                for (int i = 0; i < 4; ++i) {
                    const int64_t yy = py + dy[i], xx = px + dx[i];
                    if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                    const int64_t q = yy * w + xx;
                    const int64_t assigned = out[static_cast<size_t>(q)];
                    if (labels[static_cast<size_t>(q)] == label && assigned == -1) {
                        out[static_cast<size_t>(q)] = next_label;
                        queue[static_cast<size_t>(size++)] = q;
                        if (size >= max_size) break;
                    } else if (assigned >= 0 && assigned != next_label) {
                        adjacent = assigned;
                    }
                }
                ++visited;
            }
            if (size < min_size && adjacent >= 0) {
                for (int64_t i = 0; i < size; ++i) out[static_cast<size_t>(queue[static_cast<size_t>(i)])] = adjacent;
            } else {
                ++next_label;
            }
        }
    return out;
}

void check_options(int64_t h, int64_t w, const SlicOptions& o) {
    ENGINE_CHECK(h > 0 && w > 0, "slic: empty image");
    ENGINE_CHECK(o.n_segments >= 1, "slic: n_segments must be >= 1, got ", o.n_segments);
    ENGINE_CHECK(o.compactness > 0 && std::isfinite(o.compactness), "slic: compactness must be > 0, got ",
                 o.compactness);
    ENGINE_CHECK(o.max_iter >= 1, "slic: max_iter must be >= 1, got ", o.max_iter);
    ENGINE_CHECK(o.min_size_factor >= 0 && o.max_size_factor > o.min_size_factor,
                 "slic: need 0 <= min_size_factor < max_size_factor, got ", o.min_size_factor, " and ",
                 o.max_size_factor);
}

// Planes of Lab / compactness (skimage scales the image by 1 / compactness).
struct LabPlanes {
    std::vector<float> L, A, B;
};

LabPlanes scaled_planes(const std::vector<float>& lab, int64_t n, double compactness) {
    const float ratio = static_cast<float>(1.0 / compactness);
    LabPlanes p{std::vector<float>(static_cast<size_t>(n)), std::vector<float>(static_cast<size_t>(n)),
                std::vector<float>(static_cast<size_t>(n))};
    for (int64_t i = 0; i < n; ++i) {
        p.L[static_cast<size_t>(i)] = lab[static_cast<size_t>(3 * i)] * ratio;
        p.A[static_cast<size_t>(i)] = lab[static_cast<size_t>(3 * i + 1)] * ratio;
        p.B[static_cast<size_t>(i)] = lab[static_cast<size_t>(3 * i + 2)] * ratio;
    }
    return p;
}

// One assignment step: every pixel to the closest centre whose window covers it (distance and nearest updated).
void assign_pixels(const LabPlanes& p, int64_t h, int64_t w, const std::vector<Centre>& centres, double step,
                   float spatial_weight, std::vector<float>& distance, std::vector<int32_t>& nearest) {
    const auto k_count = static_cast<int64_t>(centres.size());
    // Each centre's window, and per row the centres whose window covers it (ascending, so that every pixel
    // sees the centres in the same order as skimage's loop over centres): rows are then independent.
    std::vector<Window> windows(static_cast<size_t>(k_count));
    std::vector<std::vector<int32_t>> by_row(static_cast<size_t>(h));
    for (int64_t k = 0; k < k_count; ++k) {
        const Centre& c = centres[static_cast<size_t>(k)];
        if (!c.alive) continue;
        Window& win = windows[static_cast<size_t>(k)];
        win.y0 = static_cast<int64_t>(std::max(c.y - 2 * step, 0.0));
        win.y1 = static_cast<int64_t>(std::min(c.y + 2 * step + 1, static_cast<double>(h)));
        win.x0 = static_cast<int64_t>(std::max(c.x - 2 * step, 0.0));
        win.x1 = static_cast<int64_t>(std::min(c.x + 2 * step + 1, static_cast<double>(w)));
        for (int64_t y = win.y0; y < win.y1; ++y) by_row[static_cast<size_t>(y)].push_back(static_cast<int32_t>(k));
    }
    parallel_for(0, h, grain_for(16 * w), [&](int64_t row_begin, int64_t row_end) {
        for (int64_t y = row_begin; y < row_end; ++y) {
            const size_t row = static_cast<size_t>(y * w);
            const float* l = p.L.data() + row;
            const float* a = p.A.data() + row;
            const float* b = p.B.data() + row;
            float* dist = distance.data() + row;
            int32_t* near = nearest.data() + row;
            for (const int32_t k : by_row[static_cast<size_t>(y)]) {
                const Centre& c = centres[static_cast<size_t>(k)];
                const Window& win = windows[static_cast<size_t>(k)];
                const auto cy = static_cast<float>(c.y), cx = static_cast<float>(c.x);
                const auto cl = static_cast<float>(c.l), ca = static_cast<float>(c.a), cb = static_cast<float>(c.b);
                const float dy = (cy - static_cast<float>(y)) * (cy - static_cast<float>(y));
                for (int64_t x = win.x0; x < win.x1; ++x) {
                    const float dx = cx - static_cast<float>(x);
                    const float dl = l[x] - cl, da = a[x] - ca, db = b[x] - cb;
                    const float d = (dy + dx * dx) * spatial_weight + dl * dl + da * da + db * db;
                    const bool closer = d < dist[x];
                    dist[x] = closer ? d : dist[x];
                    near[x] = closer ? k : near[x];
                }
            }
        }
    });
}

// New centres: the mean position and colour of their pixels; a centre without pixels dies.
void update_centres(const LabPlanes& p, int64_t h, int64_t w, const std::vector<int32_t>& nearest,
                    std::vector<Centre>& centres) {
    std::vector<std::array<double, 6>> sums(centres.size(), std::array<double, 6>{});
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
            const size_t i = static_cast<size_t>(y * w + x);
            if (nearest[i] < 0) continue;
            auto& s = sums[static_cast<size_t>(nearest[i])];
            s[0] += 1;
            s[1] += static_cast<double>(y);
            s[2] += static_cast<double>(x);
            s[3] += p.L[i];
            s[4] += p.A[i];
            s[5] += p.B[i];
        }
    for (size_t k = 0; k < centres.size(); ++k) {
        const auto& s = sums[k];
        Centre& c = centres[k];
        if (s[0] == 0) {
            c.alive = false;
            continue;
        }
        c = {s[1] / s[0], s[2] / s[0], s[3] / s[0], s[4] / s[0], s[5] / s[0], true};
    }
}

// Pixels out of every window (possible only when centres died): the nearest centre by position.
void assign_orphans(int64_t n, int64_t w, const std::vector<Centre>& centres, std::vector<int32_t>& nearest) {
    for (int64_t i = 0; i < n; ++i)
        if (nearest[static_cast<size_t>(i)] < 0) {
            double best = INFINITY;
            for (size_t k = 0; k < centres.size(); ++k) {
                const Centre& c = centres[k];
                const double d =
                    (c.y - double(i / w)) * (c.y - double(i / w)) + (c.x - double(i % w)) * (c.x - double(i % w));
                if (c.alive && d < best) {
                    best = d;
                    nearest[static_cast<size_t>(i)] = static_cast<int32_t>(k);
                }
            }
        }
}

// Segment ids from the labels: connected (skimage's connectivity enforcement), or the labels in use renumbered
// 0..K-1 in raster order of first appearance.
std::vector<int64_t> segment_ids(const std::vector<int32_t>& nearest, int64_t h, int64_t w, int64_t k_count,
                                 const SlicOptions& o) {
    const int64_t n = h * w;
    if (o.enforce_connectivity) {
        const double segment_size = static_cast<double>(n) / static_cast<double>(k_count);
        const auto min_size = static_cast<int64_t>(o.min_size_factor * segment_size);
        const auto max_size = std::max<int64_t>(1, static_cast<int64_t>(o.max_size_factor * segment_size));
        return enforce_connectivity(nearest, h, w, min_size, max_size);
    }
    std::vector<int64_t> remap(static_cast<size_t>(k_count), -1), ids(static_cast<size_t>(n));
    int64_t next = 0;
    for (int64_t i = 0; i < n; ++i) {
        int64_t& r = remap[static_cast<size_t>(nearest[static_cast<size_t>(i)])];
        if (r < 0) r = next++;
        ids[static_cast<size_t>(i)] = r;
    }
    return ids;
}

Tensor slic_lab(const std::vector<float>& lab, int64_t h, int64_t w, const SlicOptions& o) {
    check_options(h, w, o);
    const int64_t n = h * w;
    const LabPlanes planes = scaled_planes(lab, n, o.compactness);
    // The image as skimage sees it: (1, H, W).
    const auto grid = regular_grid({1, h, w}, o.n_segments);
    std::vector<Centre> centres;
    for (int64_t y = grid[1].first; y < h; y += grid[1].second)
        for (int64_t x = grid[2].first; x < w; x += grid[2].second) centres.push_back({double(y), double(x)});
    const double step = static_cast<double>(std::max({grid[0].second, grid[1].second, grid[2].second}));
    const float spatial_weight = static_cast<float>(1.0 / (step * step));

    std::vector<int32_t> nearest(static_cast<size_t>(n), -1), previous;
    std::vector<float> distance(static_cast<size_t>(n));
    for (int64_t iter = 0; iter < o.max_iter; ++iter) {
        std::fill(distance.begin(), distance.end(), FLT_MAX);
        previous = nearest;
        assign_pixels(planes, h, w, centres, step, spatial_weight, distance, nearest);
        if (nearest == previous) break;
        update_centres(planes, h, w, nearest, centres);
    }
    assign_orphans(n, w, centres, nearest);
    return from_vector<int64_t>(segment_ids(nearest, h, w, static_cast<int64_t>(centres.size()), o), {h, w});
}

// sRGB (0..255) -> linear, as skimage's rgb2xyz.
const std::array<double, 256>& linear_table() {
    static const std::array<double, 256> table = [] {
        std::array<double, 256> t{};
        for (int i = 0; i < 256; ++i) {
            const double v = i / 255.0;
            t[static_cast<size_t>(i)] = v > 0.04045 ? std::pow((v + 0.055) / 1.055, 2.4) : v / 12.92;
        }
        return t;
    }();
    return table;
}

double lab_f(double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; }

}  // namespace

std::vector<float> rgb_to_lab(const data::Image& image) {
    ENGINE_CHECK(image.channels >= 1 && image.channels <= 4 &&
                     static_cast<int64_t>(image.pixels.size()) == image.height * image.width * image.channels,
                 "rgb_to_lab: expected an 8-bit image with 1 to 4 channels");
    const auto& lin = linear_table();
    const int64_t n = image.height * image.width;
    std::vector<float> out(static_cast<size_t>(3 * n));
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t* p = image.pixels.data() + i * image.channels;
        const bool colour = image.channels >= 3;
        const double r = lin[p[0]], g = lin[colour ? p[1] : p[0]], b = lin[colour ? p[2] : p[0]];
        const double x = (0.412453 * r + 0.357580 * g + 0.180423 * b) / 0.95047;
        const double y = 0.212671 * r + 0.715160 * g + 0.072169 * b;
        const double z = (0.019334 * r + 0.119193 * g + 0.950227 * b) / 1.08883;
        const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
        out[static_cast<size_t>(3 * i)] = static_cast<float>(116.0 * fy - 16.0);
        out[static_cast<size_t>(3 * i + 1)] = static_cast<float>(500.0 * (fx - fy));
        out[static_cast<size_t>(3 * i + 2)] = static_cast<float>(200.0 * (fy - fz));
    }
    return out;
}

Tensor slic(const data::Image& image, const SlicOptions& options) {
    return slic_lab(rgb_to_lab(image), image.height, image.width, options);
}

Tensor slic(const Tensor& chw, const SlicOptions& options) {
    ENGINE_CHECK(chw.defined() && chw.dim() == 3 && (chw.size(0) == 1 || chw.size(0) == 3),
                 "slic: expected a (1 or 3, H, W) image tensor, got ",
                 chw.defined() ? shape_str(chw.shape()) : std::string("undefined"));
    return slic(data::tensor_to_image(chw), options);
}

int64_t segment_count(const Tensor& segments) {
    ENGINE_CHECK(segments.defined() && segments.dim() == 2, "segment_count: expected an (H, W) mask");
    const std::vector<int64_t> ids = segments.to_vector<int64_t>();
    int64_t largest = -1;
    for (int64_t v : ids) largest = std::max(largest, v);
    return largest + 1;
}

}  // namespace engine::explain::render
