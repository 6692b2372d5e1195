#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "kernels/backend.h"

namespace engine {
namespace {

// Pointer to logical element `index` (row-major over the shape) of a CPU float64 view.
double* element_ptr(const Tensor& t, int64_t index) {
    double* base = t.data<double>();
    int64_t offset = 0;
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
        const int64_t size = t.shape()[d];
        offset += (index % size) * t.strides()[d];
        index /= size;
    }
    return base + offset;
}

std::vector<double> flat_values(const Tensor& t) { return t.detach().to(DType::Float64).to_vector<double>(); }

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                          const GradcheckOptions& options) {
    std::vector<size_t> checked;
    for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].defined() && inputs[i].requires_grad()) {
            ENGINE_CHECK(inputs[i].dtype() == DType::Float64 && inputs[i].device().is_cpu(),
                         "gradcheck: input ", i, " must be a float64 CPU tensor");
            checked.push_back(i);
        }
    }
    ENGINE_CHECK(!checked.empty(), "gradcheck: no input requires grad");

    Tensor out = f(inputs);
    const int64_t out_numel = out.numel();
    TensorList wrt;
    for (size_t i : checked) wrt.push_back(inputs[i]);

    // Analytic Jacobian, one output element (row) at a time.
    std::vector<std::vector<std::vector<double>>> analytic(checked.size());  // [input][out][in]
    for (size_t c = 0; c < checked.size(); ++c) analytic[c].resize(out_numel);
    for (int64_t k = 0; k < out_numel; ++k) {
        Tensor seed = zeros(out.shape(), out.dtype());
        *element_ptr(seed, k) = 1.0;
        const TensorList grads = autograd::grad({out}, wrt, {seed}, /*retain_graph=*/true, /*allow_unused=*/true);
        for (size_t c = 0; c < checked.size(); ++c) {
            analytic[c][k] = grads[c].defined() ? flat_values(grads[c])
                                                : std::vector<double>(inputs[checked[c]].numel(), 0.0);
        }
    }

    // Numerical Jacobian by central differences, one input element (column) at a time.
    for (size_t c = 0; c < checked.size(); ++c) {
        const Tensor& x = inputs[checked[c]];
        for (int64_t j = 0; j < x.numel(); ++j) {
            double* p = element_ptr(x, j);
            const double original = *p;
            std::vector<double> plus, minus;
            {
                NoGradGuard no_grad;
                *p = original + options.eps;
                plus = flat_values(f(inputs));
                *p = original - options.eps;
                minus = flat_values(f(inputs));
                *p = original;
            }
            for (int64_t k = 0; k < out_numel; ++k) {
                const double numerical = (plus[k] - minus[k]) / (2.0 * options.eps);
                const double a = analytic[c][k][j];
                if (!(std::abs(a - numerical) <= options.atol + options.rtol * std::abs(numerical))) {
                    std::ostringstream os;
                    os.precision(10);
                    os << "gradcheck: mismatch for input " << checked[c] << " (shape " << shape_str(x.shape())
                       << ") element " << j << ", output element " << k << " (output shape "
                       << shape_str(out.shape()) << "): analytic " << a << ", numerical " << numerical;
                    return {false, os.str()};
                }
            }
        }
    }
    return {};
}

}  // namespace engine
