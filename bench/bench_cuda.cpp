// bench_cuda: on a CUDA device, our float32 GEMM against cuBLAS (square sizes and the seed UNet's convolutions
// written as GEMMs), our convolutions against cuDNN on the seed UNet's layer shapes (forward, input gradient,
// weight gradient), and the fill kernel's and the staged transfers' bandwidth against the device's peak. Each
// figure is the median of CUDA-event timings after a warm-up; ours and the vendor's outputs are compared too.
// Every call is checked: a failing row is reported and the run goes on (exit status 1 at the end).
//
//   bench_cuda [--json PATH] [--quick] [--batch N] [--budget SECONDS]
//
// Without a usable device it prints "no CUDA device: <reason>; nothing to benchmark" and exits 0.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "bench/bench_util.h"
#include "kernels/backend.h"
#include "layers/optim.h"
#include "models/models.h"
#include "runtime/allocator.h"
#include "runtime/cuda_device.h"
#include "runtime/settings.h"

#if ENGINE_WITH_CUDA
#include "kernels/cuda/kernel_choice.h"
#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_api.h"
#include "runtime/cuda_check.h"
#endif

using namespace engine;

namespace {

struct Options {
    std::string json_path = "bench_cuda.json";
    bool quick = false;
    int64_t batch = 8;
    double budget_s = 50.0;
};

[[noreturn]] void usage(const std::string& msg, int status = 2) {
    bench::exit_with_usage("bench_cuda", msg, status,
                           "usage: bench_cuda [--json PATH] [--quick] [--batch N] [--budget SECONDS]\n");
}

Options parse(int argc, char** argv) {
    Options o;
    bench::Args args(argc, argv, [](const std::string& msg) { usage(msg); });
    while (args.next()) {
        const std::string& arg = args.arg();
        if (arg == "--json") {
            o.json_path = args.value();
        } else if (arg == "--quick") {
            o.quick = true;
        } else if (arg == "--batch") {
            o.batch = std::atoll(args.value().c_str());
            if (o.batch < 1) usage("--batch must be >= 1");
        } else if (arg == "--budget") {
            o.budget_s = std::atof(args.value().c_str());
            if (!(o.budget_s > 0)) usage("--budget must be > 0");
        } else if (arg == "--help" || arg == "-h") {
            usage("GEMM and convolution against cuBLAS and cuDNN, and memory bandwidth", 0);
        } else {
            usage("unknown argument " + arg);
        }
    }
    if (o.quick) o.batch = std::min<int64_t>(o.batch, 2);
    return o;
}

#if ENGINE_WITH_CUDA

constexpr int kDevice = 0;

// Times one call on the current stream with CUDA events.
class EventTimer {
public:
    EventTimer() {
        ENGINE_CUDA_CHECK(cudaEventCreate(&start_), "bench: cudaEventCreate");
        ENGINE_CUDA_CHECK(cudaEventCreate(&stop_), "bench: cudaEventCreate");
    }
    ~EventTimer() {
        cudaEventDestroy(start_);
        cudaEventDestroy(stop_);
    }
    EventTimer(const EventTimer&) = delete;
    EventTimer& operator=(const EventTimer&) = delete;

    double ms(const std::function<void()>& f) {
        const cudaStream_t stream = cuda::current_stream(kDevice);
        ENGINE_CUDA_CHECK(cudaEventRecord(start_, stream), "bench: cudaEventRecord");
        f();
        ENGINE_CUDA_CHECK(cudaEventRecord(stop_, stream), "bench: cudaEventRecord");
        ENGINE_CUDA_CHECK(cudaEventSynchronize(stop_), "bench: cudaEventSynchronize");
        float elapsed = 0;
        ENGINE_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start_, stop_), "bench: cudaEventElapsedTime");
        return elapsed;
    }

private:
    cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// Median of enough repetitions to fill ~target_ms (3 to 25), after one warm-up call (which also picks the cuDNN
// algorithm and fills the allocator's cache).
double median_ms(const std::function<void()>& f, double target_ms) {
    EventTimer timer;
    f();
    cuda::synchronize(kDevice);
    const double first = timer.ms(f);
    const int reps = static_cast<int>(std::clamp(std::ceil(target_ms / std::max(first, 1e-3)), 3.0, 25.0));
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) times.push_back(timer.ms(f));
    return bench::median(times);
}

// max |a - b| / max |b|: how far our result is from the vendor's.
double relative_difference(const Tensor& ours, const Tensor& vendor) {
    const std::vector<float> a = ours.to_vector<float>(), b = vendor.to_vector<float>();
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
        if (std::isnan(a[i]) != std::isnan(b[i])) diff = INFINITY;
    }
    return scale > 0 ? diff / scale : diff;
}

Tensor random_device(const Shape& shape, uint64_t seed) {
    Generator gen(seed);
    return uniform(shape, -1.0, 1.0, gen, DType::Float32).to(Device::cuda(kDevice));
}

struct Row {
    Row(std::string group_name, std::string row_name, double flop_count = 0)
        : group(std::move(group_name)), name(std::move(row_name)), flops(flop_count) {}
    std::string group, name;
    double flops = 0;
    double ours_ms = NAN, vendor_ms = NAN, difference = NAN;
    bool vendor_fell_back = false;  // the vendor library declined the problem and our kernel ran instead
    double tolerance = 1e-3;        // relative difference that flags a row (float32: both sides exact math)
    double peak_tflops = 0;         // the device's peak for the row's precision (0: not known)
    std::string error;
};

// Runs ours and the vendor's version of one product, each under its KernelChoiceGuard.
Row compare(const std::string& group, const std::string& name, double flops, const std::function<Tensor()>& run,
            double target_ms) {
    Row row(group, name, flops);
    try {
        Tensor ours, vendor;
        {
            cuda::KernelChoiceGuard guard(cuda::GemmImpl::Own, cuda::ConvImpl::Own);
            row.ours_ms = median_ms([&] { ours = run(); }, target_ms);
        }
        {
            cuda::KernelChoiceGuard guard(cuda::GemmImpl::Cublas, cuda::ConvImpl::Cudnn);
            row.vendor_ms = median_ms([&] { vendor = run(); }, target_ms);
            row.vendor_fell_back = group == "gemm" ? cuda::last_gemm_impl() != cuda::GemmImpl::Cublas
                                                   : cuda::last_conv_impl() != cuda::ConvImpl::Cudnn;
        }
        row.difference = relative_difference(ours, vendor);
    } catch (const std::exception& e) {
        row.error = e.what();
    }
    return row;
}

struct Layer {
    const char* name;
    int64_t c, o, size;  // input channels, output channels, input height = width
    bool transposed;     // ConvTranspose2d(c, o, 3, stride 2, padding 1, output_padding 1): size -> 2 * size
};

// The seed UNet's distinct convolution shapes (3x256x256 input, width 64).
std::vector<Layer> unet_layers(bool quick) {
    std::vector<Layer> layers = {{"conv 3->64 @256", 3, 64, 256, false},
                                 {"conv 64->64 @256", 64, 64, 256, false},
                                 {"conv 128->128 @128", 128, 128, 128, false},
                                 {"conv 256->256 @64", 256, 256, 64, false},
                                 {"conv 512->1024 @16", 512, 1024, 16, false},
                                 {"convT 1024->512 @16->32", 1024, 512, 16, true}};
    if (quick) layers.erase(layers.begin() + 2, layers.begin() + 4);
    return layers;
}

void print_rows(const char* title, const char* vendor, const std::vector<Row>& rows) {
    std::printf("\n%-42s %9s %9s %10s %9s %8s %10s\n", title, "ours ms", "TFLOP/s", (std::string(vendor) + " ms").c_str(),
                "TFLOP/s", "ratio", "rel diff");
    for (const Row& r : rows) {
        if (!r.error.empty()) {
            std::printf("%-42s error: %s\n", r.name.c_str(), r.error.c_str());
            continue;
        }
        std::printf("%-42s %9.3f %9.2f %10.3f %9.2f %8.2f %10.1e%s%s\n", r.name.c_str(), r.ours_ms,
                    r.flops / r.ours_ms * 1e-9, r.vendor_ms, r.flops / r.vendor_ms * 1e-9, r.vendor_ms / r.ours_ms,
                    r.difference, r.difference > r.tolerance ? "  MISMATCH" : "",
                    r.vendor_fell_back ? "  (vendor declined: ours ran)" : "");
        if (r.peak_tflops > 0)
            std::printf("%-42s ours %.0f%% and vendor %.0f%% of the %.0f TFLOP/s peak\n", "", 100.0 * r.flops / r.ours_ms * 1e-9 / r.peak_tflops,
                        100.0 * r.flops / r.vendor_ms * 1e-9 / r.peak_tflops, r.peak_tflops);
    }
}

nlohmann::json rows_json(const std::vector<Row>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
        nlohmann::json j{{"name", r.name}, {"gflop", r.flops * 1e-9}};
        if (r.error.empty()) {
            j["ours_ms"] = r.ours_ms;
            j["vendor_ms"] = r.vendor_ms;
            j["ours_tflops"] = r.flops / r.ours_ms * 1e-9;
            j["vendor_tflops"] = r.flops / r.vendor_ms * 1e-9;
            j["speed_vs_vendor"] = r.vendor_ms / r.ours_ms;
            j["relative_difference"] = r.difference;
            j["vendor_fell_back"] = r.vendor_fell_back;
            j["mismatch"] = r.difference > r.tolerance;
            if (r.peak_tflops > 0) {
                j["peak_tflops"] = r.peak_tflops;
                j["ours_fraction_of_peak"] = r.flops / r.ours_ms * 1e-9 / r.peak_tflops;
                j["vendor_fraction_of_peak"] = r.flops / r.vendor_ms * 1e-9 / r.peak_tflops;
            }
        } else {
            j["error"] = r.error;
        }
        out.push_back(j);
    }
    return out;
}

// Dense tensor-core FLOP per SM and clock with fp32 accumulation, from NVIDIA's A100 and H100 whitepapers
// (bf16 = fp16 = 2 x tf32); 0 for other devices, which then get no roofline column.
double tensor_core_peak_tflops(const cudaDeviceProp& prop, int clock_khz, const std::string& precision) {
    const int cc = prop.major * 10 + prop.minor;
    const double half_per_sm_clock = cc == 90 ? 4096 : cc == 80 ? 2048 : 0;
    const double per_sm_clock = precision == "tf32" ? half_per_sm_clock / 2 : half_per_sm_clock;
    return per_sm_clock * prop.multiProcessorCount * clock_khz * 1e3 * 1e-12;
}

// Our tensor-core GEMM against cuBLAS per precision (TF32 on float32 inputs, BF16, FP16; fp32 accumulation):
// square sizes and the seed UNet's convolutions as GEMMs.
std::vector<Row> tensor_core_gemm_rows(const Options& o, const cudaDeviceProp& prop, int clock_khz,
                                       const std::function<bool()>& over_budget, double target_ms) {
    Backend& gpu = backend_for(Device::cuda(kDevice));
    std::vector<Row> rows;
    std::vector<int64_t> squares = {512, 1024, 2048, 4096, 8192};
    if (o.quick) squares = {1024, 4096};
    uint64_t seed = 100;
    for (const std::string precision : {"tf32", "bf16", "fp16"}) {
        const DType dtype = precision == "tf32" ? DType::Float32 : precision == "bf16" ? DType::BFloat16 : DType::Float16;
        ScopedSetting tf32(&Settings::cuda_allow_tf32, precision == "tf32");
        std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> shapes;
        for (int64_t n : squares) shapes.emplace_back(std::to_string(n) + "^3", n, n, n);
        for (const Layer& l : unet_layers(o.quick)) {
            const int64_t out = l.transposed ? 2 * l.size : l.size;
            const int64_t m = l.o, k = l.c * 9, n = o.batch * out * out;
            shapes.emplace_back(std::string(l.name) + " " + std::to_string(m) + "x" + std::to_string(k) + "x" +
                                    std::to_string(n), m, k, n);
        }
        for (const auto& [label, m, k, n] : shapes) {
            const std::string name = precision + " " + label;
            if (over_budget()) {
                Row r("gemm", name);
                r.error = "skipped: over the time budget (--budget)";
                rows.push_back(r);
                continue;
            }
            const Tensor a = random_device({m, k}, seed++).to(dtype), b = random_device({k, n}, seed++).to(dtype);
            Row r = compare("gemm", name, 2.0 * m * n * k, [&] { return gpu.matmul(a, b); }, target_ms);
            // Both sides round the inputs (TF32) or the output (16-bit) and sum in their own order.
            r.tolerance = precision == "bf16" ? 2e-2 : precision == "fp16" ? 4e-3 : 4e-3;
            r.peak_tflops = tensor_core_peak_tflops(prop, clock_khz, precision);
            rows.push_back(r);
        }
    }
    return rows;
}

int run(const Options& o) {
    const bench::Stopwatch run_clock;
    const auto over_budget = [&] { return run_clock.seconds() > o.budget_s; };
    cudaDeviceProp prop{};
    ENGINE_CUDA_CHECK(cudaGetDeviceProperties(&prop, kDevice), "bench: device properties");
    int memory_clock_khz = 0, bus_bits = 0;
    ENGINE_CUDA_CHECK(cudaDeviceGetAttribute(&memory_clock_khz, cudaDevAttrMemoryClockRate, kDevice), "bench");
    ENGINE_CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, kDevice), "bench");
    const double peak_gbs = 2.0 * memory_clock_khz * 1e3 * (bus_bits / 8.0) * 1e-9;  // double data rate
    std::printf("bench_cuda on %s: %d SMs, memory peak %.0f GB/s; batch %lld%s\n", cuda::device_name(kDevice).c_str(),
                prop.multiProcessorCount, peak_gbs, static_cast<long long>(o.batch), o.quick ? " (quick)" : "");
    Backend& gpu = backend_for(Device::cuda(kDevice));
    const double target_ms = o.quick ? 30.0 : 100.0;
    int failures = 0;
    const auto skipped = [&](const std::string& group, const std::string& name) {
        Row r(group, name);
        r.error = "skipped: over the time budget (--budget)";
        return r;
    };

    // --- GEMM
    std::vector<Row> gemm_rows;
    std::vector<int64_t> squares = {512, 1024, 2048, 4096};
    if (o.quick) squares = {512, 2048};
    uint64_t seed = 1;
    for (int64_t n : squares) {
        const std::string name = std::to_string(n) + "^3";
        if (over_budget()) {
            gemm_rows.push_back(skipped("gemm", name));
            continue;
        }
        const Tensor a = random_device({n, n}, seed++), b = random_device({n, n}, seed++);
        gemm_rows.push_back(compare("gemm", name, 2.0 * n * n * n, [&] { return gpu.matmul(a, b); }, target_ms));
    }
    for (const Layer& l : unet_layers(o.quick)) {
        // Forward as a GEMM: (O x C*9) @ (C*9 x N*H*W), with the layer's output size.
        const int64_t out = l.transposed ? 2 * l.size : l.size;
        const int64_t m = l.o, k = l.c * 9, n = o.batch * out * out;
        const std::string name = std::string(l.name) + " " + std::to_string(m) + "x" + std::to_string(k) + "x" +
                                 std::to_string(n);
        if (over_budget()) {
            gemm_rows.push_back(skipped("gemm", name));
            continue;
        }
        const Tensor a = random_device({m, k}, seed++), b = random_device({k, n}, seed++);
        gemm_rows.push_back(compare("gemm", name, 2.0 * m * n * k, [&] { return gpu.matmul(a, b); }, target_ms));
    }
    print_rows("GEMM float32", "cublas", gemm_rows);

    int clock_khz = 0;
    ENGINE_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, kDevice), "bench");
    std::vector<Row> tensor_core_rows = tensor_core_gemm_rows(o, prop, clock_khz, over_budget, target_ms);
    print_rows("GEMM tensor cores (fp32 accumulate)", "cublas", tensor_core_rows);

    // --- convolutions, 3x3 padding 1
    std::vector<Row> conv_rows;
    for (const Layer& l : unet_layers(o.quick)) {
        const int64_t bsz = o.batch;
        const std::string batch = " (N=" + std::to_string(bsz) + ")";
        if (over_budget()) {
            for (const char* dir : {" fwd", " bwd-in", " bwd-w"}) conv_rows.push_back(skipped("conv", l.name + std::string(dir)));
            continue;
        }
        try {
            Conv2dParams p = Conv2dParams::make(1, 1);
            // The convolution whose input is `big` and output `small`; a ConvTranspose2d runs it backwards.
            Shape x_shape{bsz, l.c, l.size, l.size}, w_shape{l.o, l.c, 3, 3}, y_shape{bsz, l.o, l.size, l.size};
            if (l.transposed) {
                p = Conv2dParams::make(2, 1);
                x_shape = {bsz, l.o, 2 * l.size, 2 * l.size};
                w_shape = {l.c, l.o, 3, 3};
                y_shape = {bsz, l.c, l.size, l.size};
            }
            const double flops = 2.0 * shape_numel(y_shape) * w_shape[1] * 9;
            const Tensor x = random_device(x_shape, seed++), w = random_device(w_shape, seed++);
            const Tensor gy = random_device(y_shape, seed++);
            const auto forward = [&] { return gpu.conv2d_forward(x, w, Tensor(), p); };
            const auto backward_input = [&] { return gpu.conv2d_backward_data(gy, w, x_shape, p); };
            const auto backward_weight = [&] { return gpu.conv2d_backward_weight(gy, x, w_shape, p); };
            if (l.transposed) {  // forward of ConvTranspose2d = input gradient of the convolution, and so on
                conv_rows.push_back(compare("conv", l.name + std::string(" fwd") + batch, flops, backward_input, target_ms));
                conv_rows.push_back(compare("conv", l.name + std::string(" bwd-in") + batch, flops, forward, target_ms));
            } else {
                conv_rows.push_back(compare("conv", l.name + std::string(" fwd") + batch, flops, forward, target_ms));
                conv_rows.push_back(compare("conv", l.name + std::string(" bwd-in") + batch, flops, backward_input, target_ms));
            }
            conv_rows.push_back(compare("conv", l.name + std::string(" bwd-w") + batch, flops, backward_weight, target_ms));
        } catch (const std::exception& e) {
            Row r("conv", l.name);
            r.error = e.what();
            conv_rows.push_back(r);
        }
    }
    print_rows("convolution float32", "cudnn", conv_rows);

    // --- bandwidth
    nlohmann::json bandwidth = nlohmann::json::array();
    std::printf("\n%-42s %9s %9s %9s\n", "bandwidth", "ms", "GB/s", "% peak");
    const auto report = [&](const std::string& name, double bytes, const std::function<void()>& f) {
        try {
            const double ms = median_ms(f, target_ms);
            const double gbs = bytes / ms * 1e-6;
            std::printf("%-42s %9.3f %9.1f %8.1f%%\n", name.c_str(), ms, gbs, 100.0 * gbs / peak_gbs);
            bandwidth.push_back({{"name", name}, {"ms", ms}, {"gb_per_s", gbs}, {"fraction_of_peak", gbs / peak_gbs}});
        } catch (const std::exception& e) {
            ++failures;
            std::printf("%-42s error: %s\n", name.c_str(), e.what());
            bandwidth.push_back({{"name", name}, {"error", e.what()}});
        }
    };
    const int64_t elements = (o.quick ? int64_t{64} : int64_t{256}) << 20;  // floats: 256 MiB or 1 GiB
    {
        Tensor buffer = empty({elements}, DType::Float32, Device::cuda(kDevice));
        report("fill_ float32 (write)", 4.0 * elements, [&] { buffer.fill_(1.0); });
    }
    {
        // Hand-written kernels: bytes each must read and write at least, against the memory peak.
        const int64_t n = (o.quick ? int64_t{16} : int64_t{64}) << 20;
        Generator gen(3);
        const Tensor a = rand({n}, gen).to(Device::cuda(kDevice)), b = rand({n}, gen).to(Device::cuda(kDevice));
        const Tensor rows = a.view({n / 1024, 1024});
        const Tensor square = a.view({4096, n / 4096});
        const Tensor images = a.view({16, 64, n / (16 * 64 * 256), 256});
        const Tensor gamma = ones({64}, DType::Float32, Device::cuda(kDevice));
        const Tensor beta = zeros({64}, DType::Float32, Device::cuda(kDevice));
        report("exp (unary, read + write)", 8.0 * n, [&] { (void)exp(a); });
        report("add (binary, 2 reads + write)", 12.0 * n, [&] { (void)add(a, b); });
        report("sum over all (reduce)", 4.0 * n, [&] { (void)sum(a); });
        report("sum over rows of 1024 (reduce)", 4.0 * n, [&] { (void)sum(rows, {1}); });
        report("softmax rows of 1024", 8.0 * n, [&] { (void)softmax(rows, 1); });
        report("transpose copy (strided)", 8.0 * n, [&] { (void)square.transpose(0, 1).contiguous(); });
        report("max_pool2d 2x2 (+int64 indices)", 4.0 * n + 3.0 * n, [&] {
            (void)max_pool2d_with_indices(images, Pool2dParams{});
        });
        report("batch_norm train fwd (64 ch)", 12.0 * n, [&] {
            Tensor mean = zeros({64}, DType::Float32, Device::cuda(kDevice));
            Tensor var = ones({64}, DType::Float32, Device::cuda(kDevice));
            (void)batch_norm(images, mean, var, gamma, beta, true, 0.1, 1e-5);
        });
        Tensor param = a.clone(), m = zeros({n}, DType::Float32, Device::cuda(kDevice)),
               v = zeros({n}, DType::Float32, Device::cuda(kDevice)), vmax;
        report("adam step (p, g, m, v)", 28.0 * n, [&] { adam_step(param, b, m, v, vmax, 1, AdamParams{}); });
    }
    {
        const int64_t n = int64_t{64} << 20;  // 256 MiB each way through the pinned staging buffers
        Tensor host = zeros({n}, DType::Float32);
        Tensor device = empty({n}, DType::Float32, Device::cuda(kDevice));
        const size_t bytes = static_cast<size_t>(n) * 4;
        report("cpu -> cuda (pageable, staged)", 4.0 * n, [&] {
            copy_bytes(device.raw_data(), device.device(), host.raw_data(), Device::cpu(), bytes);
        });
        report("cuda -> cpu (pageable, staged)", 4.0 * n, [&] {
            copy_bytes(host.raw_data(), Device::cpu(), device.raw_data(), device.device(), bytes);
        });
    }
    if (peak_gbs <= 0) std::printf("(the device reports no memory clock: %% of peak is meaningless)\n");

    // --- the seed UNet's training step (width 64, 3x256x256, batch 1, 10 classes, Adam), vendor and own kernels
    nlohmann::json unet_steps = nlohmann::json::array();
    std::printf("\n%-42s %9s\n", "UNet w64 3x256x256 b1 train step", "ms");
    for (const auto& [label, gemm, conv] :
         {std::tuple{"cublas + cudnn", cuda::GemmImpl::Cublas, cuda::ConvImpl::Cudnn},
          std::tuple{"own GEMM + own conv", cuda::GemmImpl::Own, cuda::ConvImpl::Own}}) {
        try {
            cuda::KernelChoiceGuard choice(gemm, conv);
            Generator gen(1);
            auto unet = models::make_model(models::ModelConfig{"unet", 3, 10, 64}, gen);
            unet->to(Device::cuda(kDevice));
            unet->train();
            optim::Adam adam(unet->parameters(), optim::AdamOptions{});  // lr 1e-3
            const Tensor image = rand({1, 3, 256, 256}, gen).to(Device::cuda(kDevice));
            const Tensor target = floor(rand({1, 256, 256}, gen) * 10.0).to(DType::Int64).to(Device::cuda(kDevice));
            const double ms = median_ms(
                [&] {
                    adam.zero_grad();
                    Tensor loss = cross_entropy((*unet)(image), target);
                    loss.backward();
                    adam.step();
                },
                200.0);
            std::printf("%-42s %9.1f\n", label, ms);
            unet_steps.push_back({{"kernels", label}, {"ms", ms}});
        } catch (const std::exception& e) {
            ++failures;
            std::printf("%-42s error: %s\n", label, e.what());
            unet_steps.push_back({{"kernels", label}, {"error", e.what()}});
        }
    }

    for (const auto* rows : {&gemm_rows, &tensor_core_rows, &conv_rows}) {
        for (const Row& r : *rows) {
            if ((!r.error.empty() && r.error.rfind("skipped", 0) != 0) || r.difference > r.tolerance) ++failures;
        }
    }
    const cuda::MemoryStats stats = cuda::memory_stats(kDevice);
    std::printf("\ncaching allocator: %s\n", cuda::memory_stats_str(stats).c_str());
    const double seconds = run_clock.seconds();
    std::printf("%.1f s, %d failure%s\n", seconds, failures, failures == 1 ? "" : "s");

    nlohmann::json doc{{"device", cuda::device_name(kDevice)},
                       {"multiprocessors", prop.multiProcessorCount},
                       {"memory_peak_gb_per_s", peak_gbs},
                       {"batch", o.batch},
                       {"quick", o.quick},
                       {"gemm", rows_json(gemm_rows)},
                       {"gemm_tensor_cores", rows_json(tensor_core_rows)},
                       {"conv", rows_json(conv_rows)},
                       {"bandwidth", bandwidth},
                       {"unet_train_step", unet_steps},
                       {"seconds", seconds},
                       {"failures", failures}};
    if (!bench::write_text_file(o.json_path, doc.dump(2) + "\n", "bench_cuda")) return 1;
    std::printf("wrote %s\n", o.json_path.c_str());
    return failures == 0 ? 0 : 1;
}

#endif  // ENGINE_WITH_CUDA

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    if (!cuda::is_available()) {
        std::printf("no CUDA device: %s; nothing to benchmark\n", cuda::unavailable_reason().c_str());
        return 0;
    }
#if ENGINE_WITH_CUDA
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_cuda: %s\n", e.what());
        return 1;
    }
#else
    return 0;
#endif
}
