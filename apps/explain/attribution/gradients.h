// Input-gradient methods: the gradient itself, Saliency (|gradient|, Captum's abs=True default),
// InputXGradient, and IntegratedGradients with Captum's five quadratures, streamed over chunks of steps.
//
// Integrated gradients (Captum's IntegratedGradients, multiply_by_inputs=True):
//   attr = (x - x') * sum_i s_i * dF/dx (x' + a_i (x - x'))
// with Captum's step sizes s_i and alphas a_i (captum/attr/_utils/approximation_methods.py):
//   riemann_left    a = linspace(0, 1 - 1/n, n)          s = 1/n
//   riemann_right   a = linspace(1/n, 1, n)              s = 1/n
//   riemann_middle  a = linspace(1/(2n), 1 - 1/(2n), n)  s = 1/n
//   riemann_trapezoid a = linspace(0, 1, n)              s = 1/n, halved at both ends (as Captum: the weights
//                                                        sum to 1 - 1/n, so even a linear model keeps a gap of
//                                                        (F(x) - F(x'))/n; a true trapezoid would use 1/(n-1))
//   gausslegendre   a = (1 + nodes)/2, s = weights/2 of the n-point Gauss-Legendre rule (Captum's default)
// (linspace as torch.linspace in float32, bit for bit; Riemann rules need n >= 2). Interpolated inputs are
// evaluated internal_batch_size model inputs at a time (steps x images, at least one step of every image per
// forward) and their weighted gradients summed as they come, so memory stays at one chunk whatever n_steps.
// The completeness gap sum(attr) - (F(x) - F(x')) (Captum's convergence delta) is reported for every job.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "apps/explain/attribution/baseline.h"
#include "apps/explain/attribution/common.h"

namespace engine::explain {

// d score / d input per job: map (M, C, H, W). One forward, one backward per target round.
Explanation input_gradient(nn::Module& model, const Tensor& x, const Target& target);
// Captum's Saliency: |gradient| (abs=true, the default) or the signed gradient. Map (M, C, H, W).
Explanation saliency(nn::Module& model, const Tensor& x, const Target& target, bool abs = true);
// Captum's InputXGradient: x * gradient. Map (M, C, H, W).
Explanation input_x_gradient(nn::Module& model, const Tensor& x, const Target& target);

enum class IgMethod { RiemannLeft, RiemannRight, RiemannMiddle, RiemannTrapezoid, GaussLegendre };
const char* ig_method_name(IgMethod method);  // Captum's names: "riemann_left", ..., "gausslegendre"
IgMethod parse_ig_method(const std::string& name);
// (step sizes, alphas) exactly as Captum computes them.
std::pair<std::vector<double>, std::vector<double>> ig_steps_and_alphas(IgMethod method, int64_t n_steps);

struct IgOptions {
    Baseline baseline;  // zeros (Captum's default)
    int64_t n_steps = 50;
    IgMethod method = IgMethod::GaussLegendre;
    // Model inputs per forward (steps x images of a round). 0: auto, about 2M input elements per forward (at
    // least the number of images); Captum's None (every step at once) is n_steps * N.
    int64_t internal_batch_size = 0;
    bool multiply_by_inputs = true;
};

struct IgResult : Explanation {            // map (M, C, H, W)
    std::vector<double> gap;               // sum(attr) - (F(x) - F(x')) per job
    std::vector<double> baseline_scores;   // F(x') per job
    std::vector<double> attribution_sums;  // sum(attr) per job
    Tensor baseline;                       // (N, C, H, W)
    int64_t forwards = 0;                  // model forwards run (chunks, plus the two endpoint evaluations)
};

IgResult integrated_gradients(nn::Module& model, const Tensor& x, const Target& target, const IgOptions& options = {});

}  // namespace engine::explain
