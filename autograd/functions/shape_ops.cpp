// Shape ops: cat (dtype promotion, PyTorch's skipping of legacy empty 1-D tensors), stack (unsqueeze + cat),
// split / split_sizes (views via narrow) and pad (constant / reflect / replicate) with their gradients.
#include "autograd/function.h"
#include "autograd/ops.h"
#include "kernels/backend.h"

namespace engine {
namespace {

const char* pad_mode_name(PadMode mode) {
    switch (mode) {
        case PadMode::Constant: return "constant";
        case PadMode::Reflect: return "reflect";
        case PadMode::Replicate: return "replicate";
    }
    return "?";
}

void check_pads(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
    const int64_t n = static_cast<int64_t>(pads.size());
    ENGINE_CHECK(n % 2 == 0, "pad: the padding length must be even, got ", n, " values ", shape_str(pads));
    ENGINE_CHECK(n / 2 <= x.dim(), "pad: ", n, " padding values pad ", n / 2, " dims but the input of shape ",
                 shape_str(x.shape()), " has ", x.dim());
    if (mode != PadMode::Constant) {
        const char* name = pad_mode_name(mode);
        ENGINE_CHECK(value == 0.0, "pad: padding mode ", name, " does not take a value (got ", value, ")");
        ENGINE_CHECK((n == 2 && (x.dim() == 2 || x.dim() == 3)) || (n == 4 && (x.dim() == 3 || x.dim() == 4)),
                     "pad: ", name,
                     " padding takes 2 values for a 2-D or 3-D input, or 4 values for a 3-D or 4-D "
                     "input; got ",
                     n, " values for shape ", shape_str(x.shape()));
    }
    for (int64_t i = 0; i < n / 2; ++i) {
        const int64_t d = x.dim() - 1 - i;
        const int64_t size = x.shape()[d], before = pads[2 * i], after = pads[2 * i + 1];
        ENGINE_CHECK(size + before + after >= 0, "pad: input size ", size, " at dim ", d, " with padding (", before,
                     ", ", after, ") gives a negative output size");
        if (mode == PadMode::Constant) continue;
        ENGINE_CHECK(size > 0, "pad: ", pad_mode_name(mode), " padding needs a non-empty dim ", d, " (input shape ",
                     shape_str(x.shape()), ")");
        if (mode == PadMode::Reflect) {
            ENGINE_CHECK(before < size && after < size, "pad: reflect padding (", before, ", ", after,
                         ") must be less than the input size ", size, " at dim ", d);
        }
    }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
    ENGINE_CHECK(!xs.empty(), "cat: expected a non-empty list of tensors");
    std::vector<size_t> used;  // PyTorch skips 1-D tensors of size 0 whatever the other shapes are
    DType dtype = DType::Bool;
    for (size_t i = 0; i < xs.size(); ++i) {
        ENGINE_CHECK(xs[i].defined(), "cat: tensor ", i, " is undefined");
        check_same_device("cat", xs[0], xs[i]);
        dtype = i == 0 ? xs[i].dtype() : promote_types(dtype, xs[i].dtype());
        if (!(xs[i].dim() == 1 && xs[i].numel() == 0)) used.push_back(i);
    }
    if (used.empty()) return empty({0}, dtype, xs[0].device());
    const Tensor& ref = xs[used[0]];
    ENGINE_CHECK(ref.dim() > 0, "cat: tensor ", used[0], " is 0-d and cannot be concatenated");
    const int64_t d = normalize_dim(dim, ref.dim(), "cat");
    TensorList parts;
    for (size_t i : used) {
        const Tensor& x = xs[i];
        ENGINE_CHECK(x.dim() == ref.dim(), "cat: tensors must have the same number of dims; tensor ", used[0],
                     " has shape ", shape_str(ref.shape()), " and tensor ", i, " has shape ", shape_str(x.shape()));
        for (int64_t k = 0; k < x.dim(); ++k) {
            ENGINE_CHECK(k == d || x.shape()[k] == ref.shape()[k], "cat: sizes of tensors must match except in dim ", d,
                         "; tensor ", used[0], " has shape ", shape_str(ref.shape()), " and tensor ", i, " has shape ",
                         shape_str(x.shape()));
        }
        parts.push_back(x.to(dtype));
    }
    Tensor out = backend_for(ref).cat(parts, d);
    if (needs_grad(parts)) {
        std::vector<int64_t> sizes;
        for (const Tensor& p : parts) sizes.push_back(p.shape()[d]);
        record("cat", parts, {out}, [d, sizes](const TensorList& g, const std::vector<bool>& needs) {
            TensorList grads(sizes.size());
            int64_t at = 0;
            for (size_t i = 0; i < sizes.size(); ++i) {
                if (needs[i]) grads[i] = g[0].narrow(d, at, sizes[i]);
                at += sizes[i];
            }
            return grads;
        });
    }
    return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
    ENGINE_CHECK(!xs.empty(), "stack: expected a non-empty list of tensors");
    for (size_t i = 0; i < xs.size(); ++i) {
        ENGINE_CHECK(xs[i].defined(), "stack: tensor ", i, " is undefined");
        ENGINE_CHECK(xs[i].shape() == xs[0].shape(), "stack: expects tensors of equal shape, got ",
                     shape_str(xs[0].shape()), " at entry 0 and ", shape_str(xs[i].shape()), " at entry ", i);
    }
    const int64_t d = normalize_dim(dim, xs[0].dim() + 1, "stack");
    TensorList parts;
    for (const Tensor& x : xs) parts.push_back(x.unsqueeze(d));
    return cat(parts, d);
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
    ENGINE_CHECK(x.defined(), "split: the input is undefined");
    ENGINE_CHECK(x.dim() > 0, "split: expected a tensor with at least one dim, got a 0-d tensor");
    const int64_t d = normalize_dim(dim, x.dim(), "split");
    const int64_t size = x.shape()[d];
    ENGINE_CHECK(split_size > 0 || (split_size == 0 && size == 0), "split: split_size must be positive (or 0 for an ",
                 "empty dim), got ", split_size, " for dim ", d, " of size ", size);
    if (size == 0) return {x.narrow(d, 0, 0)};
    std::vector<Tensor> parts;
    for (int64_t start = 0; start < size; start += split_size)
        parts.push_back(x.narrow(d, start, std::min(split_size, size - start)));
    return parts;
}

std::vector<Tensor> split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
    ENGINE_CHECK(x.defined(), "split_sizes: the input is undefined");
    ENGINE_CHECK(x.dim() > 0, "split_sizes: expected a tensor with at least one dim, got a 0-d tensor");
    const int64_t d = normalize_dim(dim, x.dim(), "split_sizes");
    int64_t total = 0;
    for (int64_t s : sizes) {
        ENGINE_CHECK(s >= 0, "split_sizes: sizes must be non-negative, got ", shape_str(sizes));
        total += s;
    }
    ENGINE_CHECK(total == x.shape()[d], "split_sizes: sizes ", shape_str(sizes), " sum to ", total, " but dim ", d,
                 " has size ", x.shape()[d], " (input shape ", shape_str(x.shape()), ")");
    std::vector<Tensor> parts;
    int64_t at = 0;
    for (int64_t s : sizes) {
        parts.push_back(x.narrow(d, at, s));
        at += s;
    }
    return parts;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) {
    ENGINE_CHECK(x.defined(), "pad: the input is undefined");
    check_pads(x, pads, mode, value);
    Tensor y = backend_for(x).pad(x, pads, mode, value);
    if (needs_grad({x})) {
        record("pad", {x}, {y}, [pads, mode, shape = x.shape()](const TensorList& g, const std::vector<bool>&) {
            return TensorList{backend_for(g[0]).pad_backward(g[0], shape, pads, mode)};
        });
    }
    return y;
}

}  // namespace engine
