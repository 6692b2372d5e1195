// CPU losses: negative log-likelihood over (N, C, d1, ...) with class weights and ignore_index, and binary
// cross-entropy with logits with weight / pos_weight, as PyTorch computes them. Sums accumulate in double
// over fixed-size chunks merged in order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/loops.h"
#include "kernels/nll_layout.h"
#include "runtime/parallel.h"

namespace engine::cpu {
namespace {

constexpr int64_t kLossChunk = 16384;

// Throws for the first target outside [0, classes) that is not ignore_index (before any parallel work).
template <class I>
void check_targets(const I* target, int64_t count, const Shape& target_shape, int64_t classes, int64_t ignore_index) {
    for (int64_t i = 0; i < count; ++i) {
        const int64_t t = static_cast<int64_t>(target[i]);
        if (t != ignore_index && (t < 0 || t >= classes))
            throw_nll_target_out_of_range(t, i, target_shape, classes, ignore_index);
    }
}

template <class T, class I>
std::pair<Tensor, Tensor> nll_forward(const Tensor& lp, const Tensor& target, const Tensor& weight,
                                      int64_t ignore_index, Reduction reduction) {
    const NllLayout l = nll_layout(lp.shape());
    const int64_t count = l.batch * l.spatial;
    const T* x = lp.data<T>();
    const I* t = target.data<I>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    check_targets(t, count, target.shape(), l.classes, ignore_index);

    Tensor out = empty(reduction == Reduction::None ? target.shape() : Shape{}, lp.dtype());
    T* o = out.data<T>();
    const int64_t chunks = (count + kLossChunk - 1) / kLossChunk;
    std::vector<double> loss_sum(static_cast<size_t>(chunks), 0.0), weight_sum(static_cast<size_t>(chunks), 0.0);
    parallel_for(0, chunks, 2, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
            double ls = 0, ws = 0;
            const int64_t end = std::min(count, (c + 1) * kLossChunk);
            for (int64_t i = c * kLossChunk; i < end; ++i) {
                const int64_t cls = static_cast<int64_t>(t[i]);
                T value = T(0);
                if (cls != ignore_index) {
                    const int64_t n = i / l.spatial, s = i % l.spatial;
                    const T wt = w ? w[cls] : T(1);
                    value = -wt * x[(n * l.classes + cls) * l.spatial + s];
                    ws += static_cast<double>(wt);
                }
                if (reduction == Reduction::None) o[i] = value;
                ls += static_cast<double>(value);
            }
            loss_sum[c] = ls;
            weight_sum[c] = ws;
        }
    });
    double total = 0, total_weight = 0;
    for (int64_t c = 0; c < chunks; ++c) {
        total += loss_sum[c];
        total_weight += weight_sum[c];
    }
    if (reduction == Reduction::Sum) o[0] = static_cast<T>(total);
    if (reduction == Reduction::Mean) o[0] = static_cast<T>(total / total_weight);  // 0/0 = nan, as PyTorch
    return {out, full({}, total_weight, lp.dtype())};
}

template <class T, class I>
Tensor nll_backward(const Tensor& grad_loss, const Shape& lp_shape, const Tensor& target, const Tensor& weight,
                    int64_t ignore_index, Reduction reduction, const Tensor& total_weight) {
    const NllLayout l = nll_layout(lp_shape);
    const int64_t count = l.batch * l.spatial;
    const I* t = target.data<I>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    check_targets(t, count, target.shape(), l.classes, ignore_index);
    const T* g = grad_loss.data<T>();
    const T scale = reduction == Reduction::Mean ? T(1) / read_element<T>(total_weight) : T(1);

    Tensor gx = zeros(lp_shape, grad_loss.dtype());
    T* out = gx.data<T>();
    parallel_for(0, count, kLossChunk, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
            const int64_t cls = static_cast<int64_t>(t[i]);
            if (cls == ignore_index) continue;
            const int64_t n = i / l.spatial, s = i % l.spatial;
            const T gi = reduction == Reduction::None ? g[i] : g[0] * scale;
            out[(n * l.classes + cls) * l.spatial + s] = -(w ? w[cls] : T(1)) * gi;
        }
    });
    return gx;
}

// Calls f(x, t, w, pw, g) -> value for every element of x's shape and stores it in out (contiguous); the
// other operands broadcast to that shape.
template <class T, class F>
void bce_map(const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& w, const Tensor& pw, const Tensor& g,
             const F& f) {
    auto ops = loop_operands<6>(out.shape(), {&out, &x, &t, &w, &pw, &g});
    for_each_row<6>(out.shape(), ops, [&](std::array<char*, 6> p, std::array<int64_t, 6> s, int64_t n) {
        std::array<int64_t, 6> step;
        for (int k = 0; k < 6; ++k) step[k] = s[k] / static_cast<int64_t>(sizeof(T));
        T* o = reinterpret_cast<T*>(p[0]);
        const T* xp = reinterpret_cast<const T*>(p[1]);
        const T* tp = reinterpret_cast<const T*>(p[2]);
        const T* wp = reinterpret_cast<const T*>(p[3]);
        const T* pwp = reinterpret_cast<const T*>(p[4]);
        const T* gp = reinterpret_cast<const T*>(p[5]);
        for (int64_t i = 0; i < n; ++i) {
            o[i * step[0]] = f(xp[i * step[1]], tp[i * step[2]], wp[i * step[3]], pwp[i * step[4]], gp[i * step[5]]);
        }
    });
}

Tensor or_one(const Tensor& t, DType dtype) { return t.defined() ? t : ones({}, dtype); }

}  // namespace

std::pair<Tensor, Tensor> CpuBackend::nll_loss_forward(const Tensor& log_probs, const Tensor& target,
                                                       const Tensor& weight, int64_t ignore_index,
                                                       Reduction reduction) {
    const Tensor lp = dense(log_probs), t = dense(target);
    const Tensor w = weight.defined() ? dense(weight) : Tensor();
    return ENGINE_DISPATCH_FLOATING(lp.dtype(), "nll_loss", [&] {
        return ENGINE_DISPATCH_INDEX(t.dtype(), "nll_loss",
                                     [&] { return nll_forward<scalar_t, index_t>(lp, t, w, ignore_index, reduction); });
    });
}

Tensor CpuBackend::nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target,
                                     const Tensor& weight, int64_t ignore_index, Reduction reduction,
                                     const Tensor& total_weight) {
    const Tensor g = dense(grad_loss), t = dense(target);
    const Tensor w = weight.defined() ? dense(weight) : Tensor();
    return ENGINE_DISPATCH_FLOATING(g.dtype(), "nll_loss_backward", [&] {
        return ENGINE_DISPATCH_INDEX(t.dtype(), "nll_loss_backward", [&] {
            return nll_backward<scalar_t, index_t>(g, log_probs_shape, t, w, ignore_index, reduction, total_weight);
        });
    });
}

// loss = w * ((1 - t) * x + (1 + (pw - 1) * t) * softplus(-x)), softplus(-x) = log1p(exp(-|x|)) + max(-x, 0).
Tensor CpuBackend::bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight,
                                           const Tensor& pos_weight, Reduction reduction) {
    Tensor loss = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_FLOATING(x.dtype(), "binary_cross_entropy_with_logits", [&] {
        using T = scalar_t;
        bce_map<T>(loss, x, target, or_one(weight, x.dtype()), or_one(pos_weight, x.dtype()), ones({}, x.dtype()),
                   [](T xv, T tv, T wv, T pwv, T) {
                       const T softplus_neg = std::log1p(std::exp(-std::abs(xv))) + std::max(-xv, T(0));
                       return wv * ((T(1) - tv) * xv + (T(1) + (pwv - T(1)) * tv) * softplus_neg);
                   });
    });
    if (reduction == Reduction::None) return loss;
    return reduce(reduction == Reduction::Mean ? ReduceOp::Mean : ReduceOp::Sum, loss, {}, false);
}

// d loss / dx = w * ((1 + (pw - 1) * t) * sigmoid(x) - pw * t).
Tensor CpuBackend::bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target,
                                            const Tensor& weight, const Tensor& pos_weight, Reduction reduction) {
    Tensor gx = empty(x.shape(), x.dtype());
    ENGINE_DISPATCH_FLOATING(x.dtype(), "binary_cross_entropy_with_logits_backward", [&] {
        using T = scalar_t;
        const T scale = reduction == Reduction::Mean && x.numel() > 0 ? T(1) / static_cast<T>(x.numel()) : T(1);
        bce_map<T>(gx, x, target, or_one(weight, x.dtype()), or_one(pos_weight, x.dtype()), grad_loss,
                   [scale](T xv, T tv, T wv, T pwv, T gv) {
                       const T sig = T(1) / (T(1) + std::exp(-xv));
                       return wv * ((T(1) + (pwv - T(1)) * tv) * sig - pwv * tv) * gv * scale;
                   });
    });
    return gx;
}

}  // namespace engine::cpu
