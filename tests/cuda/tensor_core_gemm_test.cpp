// The tensor-core GEMM (kernels/cuda/gemm_tensor_core.cu) against a float64 product of the same inputs: bf16 and
// fp16 inputs are exact in both, TF32 inputs are rounded as the kernel rounds them (cvt.rna), so what is left is
// fp32 accumulation error, bounded by a small multiple of K * 2^-24 * sum|a_ik * b_kj|. Sizes that are not
// multiples of any tile, several batches, leading dimensions with padding and ones that break 16-byte
// alignment (the kernel's plain-load path), alpha/beta, and outputs in the 16-bit type. Under the emulator the
// mma.sync / ldmatrix / cp.async instructions run with the PTX ISA's fragment layouts (tensor_core.cuh).
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "kernels/cuda/gemm_tensor_core.h"
#include "kernels/cuda/kernel_choice.h"
#include "runtime/settings.h"
#include "runtime/cuda/stream.h"
#include "runtime/half.h"
#include "runtime/tensor.h"

using namespace engine;
using namespace engine::test;
using engine::cuda::gemm_tensor_core;
using engine::cuda::TensorCoreGemm;

namespace {

struct Case {
    int64_t m, n, k, batch;
    int64_t lda_pad, ldb_pad, ldc_pad;  // extra elements per row
    float alpha, beta;
};

std::string describe(const Case& c) {
    return detail::concat(c.batch, " x (", c.m, " x ", c.k, ") @ (", c.k, " x ", c.n, "), pads ", c.lda_pad, "/",
                          c.ldb_pad, "/", c.ldc_pad, ", alpha ", c.alpha, ", beta ", c.beta);
}

// Host copies of the operands as the kernel reads them (after rounding to In, and to TF32 for float).
template <class In>
double as_read(In v) {
    if constexpr (std::is_same_v<In, float>) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        bits = (bits + 0x1000u) & ~0x1FFFu;  // cvt.rna.tf32.f32 for finite values
        float r;
        std::memcpy(&r, &bits, 4);
        return r;
    } else {
        return static_cast<float>(v);
    }
}

template <class T>
Tensor device_copy(const std::vector<T>& host) {
    Tensor t = empty({static_cast<int64_t>(host.size())}, dtype_of<T>());
    std::memcpy(t.raw_data(), host.data(), host.size() * sizeof(T));
    return t.to(cuda_device());
}

template <class T>
std::vector<T> host_copy(const Tensor& t) {
    const Tensor h = t.to(Device::cpu());
    std::vector<T> out(static_cast<size_t>(h.numel()));
    std::memcpy(out.data(), h.raw_data(), out.size() * sizeof(T));
    return out;
}

// Runs one case; returns the largest error relative to the case's accumulation bound (must stay below 1).
template <class In, class Out>
double run_case(const Case& c, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    const int64_t lda = c.k + c.lda_pad, ldb = c.n + c.ldb_pad, ldc = c.n + c.ldc_pad;
    const int64_t a_batch = c.m * lda, b_batch = c.k * ldb, c_batch = c.m * ldc;
    std::vector<In> a(static_cast<size_t>(c.batch * a_batch)), b(static_cast<size_t>(c.batch * b_batch));
    std::vector<Out> out(static_cast<size_t>(c.batch * c_batch));
    for (auto& v : a) v = static_cast<In>(uniform(rng));
    for (auto& v : b) v = static_cast<In>(uniform(rng));
    for (auto& v : out) v = static_cast<Out>(uniform(rng));
    const Tensor da = device_copy(a), db = device_copy(b), dc = device_copy(out);
    TensorCoreGemm<In, Out> p;
    p.m = c.m, p.n = c.n, p.k = c.k, p.batch = c.batch;
    p.a = static_cast<const In*>(da.raw_data()), p.lda = lda, p.a_batch = a_batch;
    p.b = static_cast<const In*>(db.raw_data()), p.ldb = ldb, p.b_batch = b_batch;
    p.c = static_cast<Out*>(dc.raw_data()), p.ldc = ldc, p.c_batch = c_batch;
    p.alpha = c.alpha, p.beta = c.beta;
    gemm_tensor_core(p, cuda::current_stream(0), "tensor_core_gemm_test");
    const std::vector<Out> got = host_copy<Out>(dc);
    double worst = 0;
    for (int64_t z = 0; z < c.batch; ++z)
        for (int64_t i = 0; i < c.m; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
                const size_t at = static_cast<size_t>(z * c_batch + i * ldc + j);
                if (j >= c.n) {  // the padding of C is never written
                    if (std::memcmp(&got[at], &out[at], sizeof(Out)) != 0) return 1e9;
                    continue;
                }
                double exact = 0, magnitude = 0;
                for (int64_t k = 0; k < c.k; ++k) {
                    const double prod = as_read(a[static_cast<size_t>(z * a_batch + i * lda + k)]) *
                                        as_read(b[static_cast<size_t>(z * b_batch + k * ldb + j)]);
                    exact += prod;
                    magnitude += std::fabs(prod);
                }
                const double before = static_cast<float>(out[at]);
                const double expected = c.alpha * exact + c.beta * before;
                // fp32 accumulation (2^-24 per add, K adds) plus the final rounding to Out.
                const double out_eps = sizeof(Out) == 2 ? (std::is_same_v<Out, bfloat16> ? 0x1p-8 : 0x1p-11) : 0x1p-24;
                const double bound = 4 * (c.k + 2) * 0x1p-24 * (std::fabs(c.alpha) * magnitude + std::fabs(c.beta * before)) +
                                     out_eps * std::fabs(expected) + 1e-30;
                worst = std::max(worst, std::fabs(static_cast<float>(got[at]) - expected) / bound);
            }
    return worst;
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {128, 128, 32, 1, 0, 0, 0, 1.0f, 0.0f},     // exactly one tile, one K step
        {256, 128, 96, 1, 0, 0, 0, 1.0f, 0.0f},     // the pipeline: 3 K steps, 2 block rows
        {77, 45, 61, 2, 0, 0, 0, 1.0f, 0.0f},       // no size a multiple of anything, two batches
        {130, 260, 33, 1, 8, 8, 3, 0.5f, 0.25f},    // padded leading dims (still aligned), alpha, beta
        {50, 70, 40, 1, 1, 3, 1, 1.0f, 1.0f},       // odd leading dims: rows not 16-byte aligned
        {1, 1, 1, 1, 0, 0, 0, 1.0f, 0.0f},          // tiny
        {16, 8, 0, 1, 0, 0, 0, 1.0f, 0.5f},         // K = 0: C = beta * C
    };
    return all;
}

template <class In, class Out>
void check_all_cases() {
    uint32_t seed = 1;
    for (const Case& c : cases()) {
        SCOPED_TRACE(describe(c));
        const double worst = run_case<In, Out>(c, seed++);
        EXPECT_LT(worst, 1.0) << "largest error relative to the accumulation bound";
    }
}

}  // namespace

class TensorCoreGemmTest : public CudaTest {};

TEST_F(TensorCoreGemmTest, Bf16InputsFp32Output) { check_all_cases<bfloat16, float>(); }
TEST_F(TensorCoreGemmTest, Fp16InputsFp32Output) { check_all_cases<float16, float>(); }
TEST_F(TensorCoreGemmTest, Tf32InputsFp32Output) { check_all_cases<float, float>(); }
TEST_F(TensorCoreGemmTest, Bf16OutputRoundsOnce) { check_all_cases<bfloat16, bfloat16>(); }
TEST_F(TensorCoreGemmTest, Fp16OutputRoundsOnce) { check_all_cases<float16, float16>(); }

namespace {

Tensor random_matrix(const Shape& shape, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> values(static_cast<size_t>(shape_numel(shape)));
    for (double& v : values) v = uniform(rng);
    return from_vector<double>(values, shape).to(DType::Float32);
}

// max |got - expected| / (|a| @ |b|), elementwise over the product.
double worst_relative_to_magnitude(const Tensor& got, const Tensor& expected, const Tensor& a, const Tensor& b) {
    const Tensor magnitude = cpu_backend().matmul(cpu_backend().unary(UnaryOp::Abs, a.to(DType::Float64)),
                                                  cpu_backend().unary(UnaryOp::Abs, b.to(DType::Float64)));
    const std::vector<double> g = got.to(Device::cpu()).to(DType::Float64).to_vector<double>();
    const std::vector<double> e = expected.to(DType::Float64).to_vector<double>();
    const std::vector<double> m = magnitude.to_vector<double>();
    double worst = 0;
    for (size_t i = 0; i < g.size(); ++i) worst = std::max(worst, std::fabs(g[i] - e[i]) / (m[i] + 1e-30));
    return worst;
}

}  // namespace

// Through the backend: bfloat16 / float16 products on the tensor cores against the CPU's (float products of the
// same values, rounded once): within the 16-bit type's rounding; float32 with TF32 allowed and our GEMM chosen
// runs the TF32 kernel (its error is TF32's, visibly above float32's), and without it stays float32-exact.
TEST_F(TensorCoreGemmTest, MatmulRunsHalfTypesAndAllowedTf32OnTheTensorCores) {
    const Tensor a = random_matrix({2, 70, 50}, 7), b = random_matrix({2, 50, 90}, 8);
    for (DType dtype : {DType::BFloat16, DType::Float16}) {
        SCOPED_TRACE(dtype_name(dtype));
        const Tensor ah = a.to(dtype), bh = b.to(dtype);
        const Tensor expected = cpu_backend().matmul(ah, bh);
        const Tensor got = backend_for(cuda_device()).matmul(ah.to(cuda_device()), bh.to(cuda_device()));
        ASSERT_EQ(got.dtype(), dtype);
        const double unit = dtype == DType::BFloat16 ? 0x1p-8 : 0x1p-11;  // half an ulp of the 16-bit type
        EXPECT_LT(worst_relative_to_magnitude(got, expected, ah, bh), 2 * unit + 1e-6);
    }
    const Tensor expected = cpu_backend().matmul(a, b);
    cuda::KernelChoiceGuard own(cuda::GemmImpl::Own);
    {
        ScopedSetting tf32(&Settings::cuda_allow_tf32, true);
        const Tensor got = backend_for(cuda_device()).matmul(a.to(cuda_device()), b.to(cuda_device()));
        const double worst = worst_relative_to_magnitude(got, expected, a, b);
        EXPECT_LT(worst, 0x1p-10);  // each input rounded to 11 significant bits
        EXPECT_GT(worst, 1e-5) << "float32-exact: the TF32 kernel did not run";
    }
    const Tensor got = backend_for(cuda_device()).matmul(a.to(cuda_device()), b.to(cuda_device()));
    EXPECT_LT(worst_relative_to_magnitude(got, expected, a, b), 1e-6);
}
