// bfloat16 and float16 on the CPU and on the CUDA device (emulated in cuda_emu_tests): conversion from float32
// bit for bit as PyTorch's, every 16-bit pattern back to float exactly, and the elementwise ops and reductions
// against PyTorch 2.15's results for the same inputs (tests/golden/make_golden.py half): exact where PyTorch
// computes in float and rounds once, within one unit in the last place where the float math libraries differ.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "autograd/ops.h"
#include "common/test_util.h"
#include "cuda/cuda_test_util.h"
#include "golden/golden_util.h"
#include "kernels/factories.h"
#include "runtime/half.h"
#include "runtime/safetensors.h"

using namespace engine;
using namespace engine::test;

namespace {

std::vector<Device> devices() {
    std::vector<Device> all{Device::cpu()};
    if (cuda::is_available()) all.push_back(cuda_device());
    return all;
}

// The raw 16-bit patterns of a bfloat16 / float16 tensor, on the host.
std::vector<uint16_t> bits_of(const Tensor& t) {
    EXPECT_TRUE(is_half(t.dtype())) << dtype_name(t.dtype());
    const Tensor host = t.to(Device::cpu()).contiguous();
    std::vector<uint16_t> bits(static_cast<size_t>(host.numel()));
    if (!bits.empty()) std::memcpy(bits.data(), host.raw_data(), bits.size() * 2);
    return bits;
}

bool is_nan_bits(uint16_t h, DType dtype) {
    return dtype == DType::BFloat16 ? (h & 0x7FFF) > 0x7F80 : (h & 0x7FFF) > 0x7C00;
}

// How many representable 16-bit values apart two patterns are (both finite or both the same infinity; NaN
// equals NaN). Patterns are sign-magnitude: map them onto a line first.
int64_t ulps_apart(uint16_t a, uint16_t b, DType dtype) {
    if (is_nan_bits(a, dtype) || is_nan_bits(b, dtype)) return is_nan_bits(a, dtype) == is_nan_bits(b, dtype) ? 0 : 1 << 20;
    auto line = [](uint16_t h) { return (h & 0x8000) ? -int64_t{h & 0x7FFF} : int64_t{h}; };
    return std::llabs(line(a) - line(b));
}

::testing::AssertionResult within_ulps(const Tensor& got, const Tensor& expected, int64_t ulps) {
    if (got.dtype() != expected.dtype())
        return ::testing::AssertionFailure() << "dtype " << dtype_name(got.dtype()) << ", expected "
                                             << dtype_name(expected.dtype());
    if (got.shape() != expected.shape()) return ::testing::AssertionFailure() << "shape " << shape_str(got.shape());
    const std::vector<uint16_t> g = bits_of(got), e = bits_of(expected);
    for (size_t i = 0; i < g.size(); ++i)
        if (ulps_apart(g[i], e[i], got.dtype()) > ulps)
            return ::testing::AssertionFailure() << "element " << i << ": bits 0x" << std::hex << g[i]
                                                 << ", expected 0x" << e[i] << " (" << float(bfloat16::from_bits(g[i]))
                                                 << " as bf16)";
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_values(const Tensor& got, const Tensor& expected) {
    if (got.dtype() != expected.dtype() || got.shape() != expected.shape())
        return ::testing::AssertionFailure() << dtype_name(got.dtype()) << shape_str(got.shape()) << " vs "
                                             << dtype_name(expected.dtype()) << shape_str(expected.shape());
    const std::vector<double> g = got.to(Device::cpu()).to(DType::Float64).to_vector<double>();
    const std::vector<double> e = expected.to(DType::Float64).to_vector<double>();
    for (size_t i = 0; i < g.size(); ++i)
        if (!(g[i] == e[i] || (std::isnan(g[i]) && std::isnan(e[i]))))
            return ::testing::AssertionFailure() << "element " << i << ": " << g[i] << ", expected " << e[i];
    return ::testing::AssertionSuccess();
}

// float16 patterns by the IEEE definition, independently of runtime/half.h.
double float16_by_definition(uint16_t h) {
    const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
    double magnitude = exponent == 0    ? std::ldexp(mantissa, -24)
                       : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                        : std::ldexp(1024 + mantissa, exponent - 25);
    return sign ? -magnitude : magnitude;
}

}  // namespace

TEST(HalfTest, EveryPatternConvertsToFloatExactlyAndBack) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const uint16_t bits = static_cast<uint16_t>(h);
        const float b = bfloat16::from_bits(bits), f = float16::from_bits(bits);
        uint32_t b_as_float;
        std::memcpy(&b_as_float, &b, 4);
        ASSERT_EQ(b_as_float, uint32_t{bits} << 16) << h;  // bfloat16 is the top half of a float32
        const double expected = float16_by_definition(bits);
        if (std::isnan(expected)) {
            ASSERT_TRUE(std::isnan(f)) << h;
            continue;
        }
        ASSERT_EQ(static_cast<double>(f), expected) << h;
        ASSERT_EQ(std::signbit(f), std::signbit(expected)) << h;
        ASSERT_EQ(float16(f).bits, bits) << h;  // every float16 survives the round trip
        if (!std::isnan(b)) ASSERT_EQ(bfloat16(b).bits, bits) << h;
    }
}

TEST(HalfTest, Float32ConvertsAsPyTorchOnEveryDevice) {
    const GoldenCase c = golden_cases("half", "convert")[0];
    const Tensor& x = c["x"];
    ASSERT_EQ(c["bf16"].dtype(), DType::BFloat16);  // the safetensors reader keeps BF16 and F16
    ASSERT_EQ(c["f16"].dtype(), DType::Float16);
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        const Tensor on_device = x.to(d);
        EXPECT_TRUE(within_ulps(on_device.to(DType::BFloat16), c["bf16"], 0));
        EXPECT_TRUE(within_ulps(on_device.to(DType::Float16), c["f16"], 0));
        // Back to float32 exactly, and between the two 16-bit types through float.
        EXPECT_TRUE(same_values(c["bf16"].to(d).to(DType::Float32), c["bf16"].to(DType::Float64).to(DType::Float32)));
        EXPECT_TRUE(within_ulps(c["f16"].to(d).to(DType::BFloat16), c["f16"].to(DType::Float32).to(DType::BFloat16), 0));
    }
}

TEST(HalfTest, OpsComputeInFloatAndRoundOnceAsPyTorch) {
    for (const GoldenCase& c : golden_cases("half", "ops_")) {
        for (Device d : devices()) {
            SCOPED_TRACE(c.name + " on " + d.str());
            const Tensor a = c["a"].to(d), b = c["b"].to(d), pos = c["pos"].to(d);
            // Rounded once from an exact float result: the same bits.
            EXPECT_TRUE(within_ulps(add(a, b), c["add"], 0));
            EXPECT_TRUE(within_ulps(sub(a, b), c["sub"], 0));
            EXPECT_TRUE(within_ulps(mul(a, b), c["mul"], 0));
            EXPECT_TRUE(within_ulps(div(a, b), c["div"], 0));
            EXPECT_TRUE(within_ulps(maximum(a, b), c["maximum"], 0));
            EXPECT_TRUE(within_ulps(mul(a, 0.1), c["mul_scalar"], 0));  // the scalar is not rounded first
            EXPECT_TRUE(within_ulps(add(a, 1e-3), c["add_scalar"], 0));
            EXPECT_TRUE(within_ulps(relu(a), c["relu"], 0));
            EXPECT_TRUE(within_ulps(neg(a), c["neg"], 0));
            EXPECT_TRUE(same_values(lt(a, b), c["lt"]));
            EXPECT_TRUE(same_values(a.to(DType::Float32), c["to_f32"]));
            EXPECT_TRUE(same_values(mul(a, 10.0).to(DType::Int64), c["to_i64"]));
            // Float math libraries may differ in the last float bit, which can move a rounding by one.
            EXPECT_TRUE(within_ulps(exp(a), c["exp"], 1));
            EXPECT_TRUE(within_ulps(log(pos), c["log"], 1));
            EXPECT_TRUE(within_ulps(sqrt(pos), c["sqrt"], 0));  // correctly rounded everywhere
            EXPECT_TRUE(within_ulps(tanh(a), c["tanh"], 1));
            EXPECT_TRUE(within_ulps(sigmoid(a), c["sigmoid"], 1));
            // Reductions accumulate in float or wider; the order differs from PyTorch's, so one unit.
            EXPECT_TRUE(within_ulps(sum(a, {1}), c["sum_dim1"], 1));
            EXPECT_TRUE(within_ulps(mean(a), c["mean_all"], 1));
            EXPECT_TRUE(within_ulps(var(a, {0}), c["var_dim0"], 1));
            const auto [big, index] = max(a, 1);
            EXPECT_TRUE(within_ulps(big, c["max_dim1"], 0));
            EXPECT_TRUE(same_values(index, c["argmax_dim1"]));
        }
    }
}

TEST(HalfTest, SafetensorsRoundTripKeepsTheBitsAndPrintingShowsValues) {
    const GoldenCase c = golden_cases("half", "ops_bf16")[0];
    const std::string path =
        (std::filesystem::temp_directory_path() / ("engine_half_test_" + std::to_string(::getpid()) + ".safetensors"))
            .string();
    safetensors::save(path, {{"a", c["a"]}, {"h", c["a"].to(DType::Float16)}});
    const safetensors::Contents back = safetensors::load(path);
    std::filesystem::remove(path);
    EXPECT_TRUE(within_ulps(back.at("a"), c["a"], 0));
    EXPECT_TRUE(within_ulps(back.at("h"), c["a"].to(DType::Float16), 0));
    std::ostringstream printed;
    printed << from_vector<double>({1.5, -0.1, 3e38}, {3}).to(DType::BFloat16);
    EXPECT_NE(printed.str().find("dtype=bfloat16"), std::string::npos) << printed.str();
    EXPECT_NE(printed.str().find("-0.1001"), std::string::npos) << printed.str();  // -0.1 rounded to bfloat16
}

TEST(HalfTest, FillPadGatherAndIndexSelectMoveHalfElements) {
    for (Device d : devices()) {
        SCOPED_TRACE(d.str());
        const Tensor t = full({2, 3}, 0.1, DType::BFloat16, d);
        EXPECT_TRUE(within_ulps(t, from_vector<double>(std::vector<double>(6, 0.1), {2, 3}).to(DType::BFloat16), 0));
        const Tensor x = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).to(DType::Float16).to(d);
        const Tensor picked = index_select(x, 1, from_vector<int64_t>({2, 0}, {2}).to(d));
        EXPECT_TRUE(same_values(picked.to(DType::Float32), from_vector<double>({3, 1, 6, 4}, {2, 2}).to(DType::Float32)));
        const Tensor g = gather(x, 1, from_vector<int64_t>({1, 1, 0, 2}, {2, 2}).to(d));
        EXPECT_TRUE(same_values(g.to(DType::Float32), from_vector<double>({2, 2, 4, 6}, {2, 2}).to(DType::Float32)));
        const Tensor padded = pad(x, {1, 0}, PadMode::Constant, 0.5);
        EXPECT_TRUE(same_values(padded.to(DType::Float32),
                                from_vector<double>({0.5, 1, 2, 3, 0.5, 4, 5, 6}, {2, 4}).to(DType::Float32)));
    }
}
