// Forward tests of gather, scatter (src / value / add), index_select, index_add and one_hot against naive
// loops, including the one-hot mask of a segmentation argmax, plus the bad-index errors.
#include <gtest/gtest.h>

#include <functional>

#include "common/test_util.h"
#include "kernels/backend.h"

using namespace engine;
using engine::test::all_close;
using engine::test::random_tensor;
using engine::test::flat_index;
using engine::test::for_each_position;

namespace {

// Integer indices in [0, bound) from a seed.
Tensor random_index(const Shape& shape, int64_t bound, uint64_t seed, DType dtype = DType::Int64) {
    const std::vector<double> u = random_tensor(shape, seed, DType::Float64, 0.0, 1.0).to_vector<double>();
    std::vector<int64_t> v;
    for (double x : u) v.push_back(std::min<int64_t>(bound - 1, static_cast<int64_t>(x * bound)));
    return from_vector<int64_t>(v, shape).to(dtype);
}


Tensor naive_gather(const Tensor& x, int64_t dim, const Tensor& index) {
    const std::vector<double> xv = x.to_vector<double>();
    const std::vector<int64_t> iv = index.to_vector<int64_t>();
    std::vector<double> out(iv.size());
    for_each_position(index.shape(), [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q = p;
        q[dim] = iv[flat_index(p, index.shape())];
        out[flat_index(p, index.shape())] = xv[flat_index(q, x.shape())];
    });
    return from_vector<double>(out, index.shape());
}

// src undefined: scatter `value`.
Tensor naive_scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, double value, bool add) {
    std::vector<double> out = self.to_vector<double>();
    const std::vector<int64_t> iv = index.to_vector<int64_t>();
    const std::vector<double> sv = src.defined() ? src.to_vector<double>() : std::vector<double>();
    for_each_position(index.shape(), [&](const std::vector<int64_t>& p) {
        std::vector<int64_t> q = p;
        q[dim] = iv[flat_index(p, index.shape())];
        const double v = src.defined() ? sv[flat_index(p, src.shape())] : value;
        double& dst = out[flat_index(q, self.shape())];
        dst = add ? dst + v : v;
    });
    return from_vector<double>(out, self.shape());
}

}  // namespace

TEST(GatherTest, MatchesReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        for (DType idtype : {DType::Int64, DType::Int32}) {
            const Tensor x = random_tensor({4, 5, 6}, 1, dtype);
            for (int64_t dim = 0; dim < 3; ++dim) {
                Shape ishape{3, 4, 5};  // smaller than x outside dim
                ishape[dim] = 7;        // and any size along dim
                const Tensor index = random_index(ishape, x.shape()[dim], 2 + dim, idtype);
                EXPECT_TRUE(all_close(gather(x, dim, index), naive_gather(x, dim, index), 0)) << dim;
                EXPECT_TRUE(all_close(gather(x, dim - 3, index), naive_gather(x, dim, index), 0));
            }
            // Strided input and index.
            const Tensor xt = x.transpose(0, 2);
            const Tensor it = random_index({5, 6, 4}, 5, 9, idtype).transpose(0, 1);
            EXPECT_TRUE(all_close(gather(xt, 1, it), naive_gather(xt.contiguous(), 1, it.contiguous()), 0));
        }
    }
    const Tensor ints = arange(0, 12).view({3, 4});
    EXPECT_EQ(gather(ints, 1, from_vector<int64_t>({3, 0, 1, 1, 2, 2}, {3, 2})).to_vector<int64_t>(),
              (std::vector<int64_t>{3, 0, 5, 5, 10, 10}));
    EXPECT_EQ(gather(ints, 0, zeros({0, 4}, DType::Int64)).shape(), (Shape{0, 4}));
}

TEST(ScatterTest, SrcValueAndAddMatchReference) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor self = random_tensor({4, 5, 6}, 3, dtype);
        for (int64_t dim = 0; dim < 3; ++dim) {
            Shape ishape{3, 4, 5};
            ishape[dim] = 6;  // repeated indices along dim
            const Tensor index = random_index(ishape, self.shape()[dim], 10 + dim);
            const Tensor src = random_tensor({6, 6, 7}, 4, dtype);  // at least index's size, larger in places
            EXPECT_TRUE(
                all_close(scatter_add(self, dim, index, src), naive_scatter(self, dim, index, src, 0, true), 1e-6));
            EXPECT_TRUE(
                all_close(scatter(self, dim, index, 2.5), naive_scatter(self, dim, index, Tensor(), 2.5, false), 0));
        }
        // Without duplicates the result of scatter(src) is well defined: each row of a permutation.
        const Tensor perm = from_vector<int64_t>({2, 0, 1, 3, 1, 3, 0, 2, 0, 1, 2, 3}, {3, 4});
        const Tensor base = random_tensor({3, 4}, 5, dtype), src = random_tensor({3, 5}, 6, dtype);
        EXPECT_TRUE(all_close(scatter(base, 1, perm, src), naive_scatter(base, 1, perm, src, 0, false), 0));
        EXPECT_TRUE(all_close(
            scatter(base.t(), 0, perm.t(), src.t()),
            naive_scatter(base.t().contiguous(), 0, perm.t().contiguous(), src.t().contiguous(), 0, false), 0));
    }
    // Repeated indices in scatter: the last write along the dim wins, as on PyTorch's CPU.
    const Tensor out =
        scatter(zeros({1, 3}), 1, from_vector<int64_t>({1, 1}, {1, 2}), from_vector<float>({4, 7}, {1, 2}));
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0, 7, 0}));
    // Integer data.
    EXPECT_EQ(scatter_add(zeros({4}, DType::Int64), 0, from_vector<int64_t>({1, 3, 1}, {3}), full({3}, 2, DType::Int64))
                  .to_vector<int64_t>(),
              (std::vector<int64_t>{0, 4, 0, 2}));
}

TEST(ScatterTest, OneHotMaskOfSegmentationArgmax) {
    // The attribution code's pattern: scatter(zeros(N,C,H,W), 1, argmax(logits, 1, keepdim=true), 1.0).
    const int64_t n = 2, c = 5, h = 7, w = 9;
    const Tensor logits = random_tensor({n, c, h, w}, 12, DType::Float32);
    const Tensor mask = scatter(zeros({n, c, h, w}), 1, argmax(logits, 1, true), 1.0);
    const std::vector<double> lv = logits.to_vector<double>(), mv = mask.to_vector<double>();
    for (int64_t b = 0; b < n; ++b) {
        for (int64_t p = 0; p < h * w; ++p) {
            int64_t best = 0;
            for (int64_t k = 1; k < c; ++k)
                if (lv[(b * c + k) * h * w + p] > lv[(b * c + best) * h * w + p]) best = k;
            for (int64_t k = 0; k < c; ++k) EXPECT_EQ(mv[(b * c + k) * h * w + p], k == best ? 1.0 : 0.0);
        }
    }
    EXPECT_TRUE(all_close(mask, one_hot(argmax(logits, 1), c).permute({0, 3, 1, 2}), 0));
}

TEST(IndexSelectTest, MatchesReferenceAndIndexAdd) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
        const Tensor x = random_tensor({4, 5, 6}, 7, dtype);
        for (int64_t dim = 0; dim < 3; ++dim) {
            // Valid for x and for its transpose (4, 5, 6) vs (6, 5, 4).
            const Tensor index = random_index({8}, dim == 1 ? 5 : 4, 20 + dim, dim == 1 ? DType::Int32 : DType::Int64);
            // index_select is gather with the index broadcast over the other dims.
            Shape ishape = x.shape();
            ishape[dim] = 8;
            Shape view(3, 1);
            view[dim] = 8;
            const Tensor full_index = index.to(DType::Int64).view(view).expand(ishape).contiguous();
            EXPECT_TRUE(all_close(index_select(x, dim, index), naive_gather(x, dim, full_index), 0));
            const Tensor xt = x.transpose(0, 2);
            Shape tshape = xt.shape();
            tshape[dim] = 8;
            const Tensor t_index = index.to(DType::Int64).view(view).expand(tshape).contiguous();
            EXPECT_TRUE(all_close(index_select(xt, dim, index), naive_gather(xt.contiguous(), dim, t_index), 0));
            // index_add adds src slices at the indices (repeats accumulate): a scatter_add with the full index.
            const Tensor src = random_tensor(ishape, 30, dtype);
            EXPECT_TRUE(all_close(cpu_backend().index_add(x, dim, index, src),
                                  naive_scatter(x, dim, full_index, src, 0, true), 1e-6));
        }
    }
    const Tensor x = arange(0, 6, 1, DType::Float32).view({3, 2});
    EXPECT_EQ(index_select(x, 0, scalar_tensor(2, DType::Int64)).shape(), (Shape{1, 2}));
    EXPECT_EQ(index_select(x, 0, zeros({0}, DType::Int64)).shape(), (Shape{0, 2}));
}

TEST(OneHotTest, ClassesAndErrors) {
    const Tensor idx = from_vector<int64_t>({0, 2, 1, 2}, {2, 2});
    const Tensor oh = one_hot(idx);
    EXPECT_EQ(oh.dtype(), DType::Int64);
    EXPECT_EQ(oh.shape(), (Shape{2, 2, 3}));
    EXPECT_EQ(oh.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1}));
    EXPECT_EQ(one_hot(idx, 5).shape(), (Shape{2, 2, 5}));
    EXPECT_EQ(one_hot(idx.to(DType::Int32), 4).to_vector<int64_t>()[4 + 2], 1);
    EXPECT_EQ(one_hot(zeros({0}, DType::Int64), 3).shape(), (Shape{0, 3}));
    EXPECT_ENGINE_ERROR(one_hot(from_vector<int64_t>({-1, 2}, {2})), "non-negative");
    EXPECT_ENGINE_ERROR(one_hot(idx, 2), "class value 2 is not smaller than num_classes 2");
    EXPECT_ENGINE_ERROR(one_hot(zeros({0}, DType::Int64)), "empty");
    EXPECT_ENGINE_ERROR(one_hot(zeros({2}, DType::Float32)), "int64");
}

TEST(IndexOpsTest, BadInputs) {
    const Tensor x = random_tensor({3, 5}, 1);
    EXPECT_ENGINE_ERROR(gather(x, 1, from_vector<int64_t>({0, 7, 1}, {3, 1})),
                        "gather: index 7 out of range for dim 1 of size 5");
    EXPECT_ENGINE_ERROR(gather(x, 1, from_vector<int64_t>({0, 7, 1}, {3, 1})), "position [1, 0]");
    EXPECT_ENGINE_ERROR(gather(x, 0, from_vector<int32_t>({0, -1}, {1, 2})),
                        "index -1 out of range for dim 0 of size 3");
    EXPECT_ENGINE_ERROR(gather(x, 1, zeros({3}, DType::Int64)), "as many dims");
    EXPECT_ENGINE_ERROR(gather(x, 1, zeros({4, 1}, DType::Int64)), "larger than");
    EXPECT_ENGINE_ERROR(gather(x, 1, zeros({3, 1}, DType::Float32)), "int64 or int32");
    EXPECT_ENGINE_ERROR(gather(x, 2, zeros({3, 1}, DType::Int64)), "out of range");
    EXPECT_ENGINE_ERROR(scatter(x, 0, from_vector<int64_t>({3}, {1, 1}), 1.0),
                        "index 3 out of range for dim 0 of size 3");
    EXPECT_ENGINE_ERROR(scatter(x, 1, zeros({2, 2}, DType::Int64), random_tensor({2, 1}, 2)), "src");
    EXPECT_ENGINE_ERROR(scatter(x, 1, zeros({2, 2}, DType::Int64), random_tensor({2, 2}, 2, DType::Float32)),
                        "same dtype");
    EXPECT_ENGINE_ERROR(scatter_add(x, 1, from_vector<int64_t>({5}, {1, 1}), random_tensor({1, 1}, 2)), "index 5");
    EXPECT_ENGINE_ERROR(index_select(x, 1, from_vector<int64_t>({1, 5}, {2})),
                        "index 5 out of range for dim 1 of size 5");
    EXPECT_ENGINE_ERROR(index_select(x, 0, zeros({1, 1}, DType::Int64)), "0-d or 1-d");
    const Tensor scalar = scalar_tensor(7.0, DType::Float64);
    EXPECT_ENGINE_ERROR(index_select(scalar, 0, zeros({2}, DType::Int64)), "can have only 1 value, got 2");
    EXPECT_EQ(index_select(scalar, 0, zeros({1}, DType::Int64)).item<double>(), 7.0);
}
