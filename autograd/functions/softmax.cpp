// softmax and log_softmax along any dim; their gradients come from the backend's backward kernels, which
// only need the saved output.
#include "autograd/autocast.h"
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

Tensor softmax_op(const Tensor& x_in, int64_t dim, bool log) {
    const Tensor x = autocast::float32_input(x_in);
    const char* name = log ? "log_softmax" : "softmax";
    check_floating(name, x);
    const int64_t d = normalize_dim(dim, x.dim(), name);
    Tensor y = backend_for(x).softmax(x, d, log);
    if (needs_grad({x})) {
        record(name, {x}, {y}, [d, log, ys = SavedTensor(y)](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).softmax_backward(ys.get(), g[0], d, log)};
        });
    }
    return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

}  // namespace engine
