// bench_cpu: float32 GEMM and convolution speed of the engine's CPU backend against oneDNN's sgemm and PyTorch,
// measured in the same run. Ours and the references alternate over several rounds (so load changes hit both)
// and every figure is a median. Prints a table and writes a JSON file.
//
//   bench_cpu [--python PATH] [--json PATH] [--only gemm|conv] [--quick] [--threads N] [--rounds N]
//             [--script PATH]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "bench/reference.h"
#include "runtime/parallel.h"

#if ENGINE_WITH_ONEDNN
#include <dnnl.h>
#endif

#ifndef ENGINE_BENCH_DIR
#define ENGINE_BENCH_DIR "bench"
#endif

using namespace engine;

namespace {

struct Options {
    std::string python;
    std::string script = std::string(ENGINE_BENCH_DIR) + "/torch_reference.py";
    std::string json_path = "bench_cpu.json";
    std::string only;
    bool quick = false;
    int threads = 0;
    int rounds = 0;
};

[[noreturn]] void usage(const char* msg, int status = 2) {
    std::fprintf(status ? stderr : stdout,
                 "bench_cpu: %s\nusage: bench_cpu [--python PATH] [--json PATH] [--only gemm|conv] [--quick] "
                 "[--threads N] [--rounds N] [--script PATH]\n",
                 msg);
    std::exit(status);
}

Options parse(int argc, char** argv) {
    Options o;
    const char* env_python = std::getenv("ENGINE_BENCH_PYTHON");
    o.python = env_python && *env_python ? env_python : "python3";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
            return argv[++i];
        };
        if (arg == "--python") o.python = value();
        else if (arg == "--json") o.json_path = value();
        else if (arg == "--script") o.script = value();
        else if (arg == "--only") o.only = value();
        else if (arg == "--threads") o.threads = std::atoi(value().c_str());
        else if (arg == "--rounds") o.rounds = std::atoi(value().c_str());
        else if (arg == "--quick") o.quick = true;
        else if (arg == "--help" || arg == "-h") usage("GEMM and convolution speed against oneDNN and PyTorch", 0);
        else usage(("unknown argument " + arg).c_str());
    }
    if (!o.only.empty() && o.only != "gemm" && o.only != "conv") usage("--only takes gemm or conv");
    if (o.rounds <= 0) o.rounds = o.quick ? 2 : 5;
    return o;
}

double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");
    std::sort(v.begin(), v.end());
    const size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// The 1-minute load average, to tell a quiet machine from a busy one in the report (-1 when unknown).
double load_average() {
    double load = -1.0;
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = -1.0;
        std::fclose(f);
    }
    return load;
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// `warmup` calls, then the median of `reps` timed calls, in milliseconds.
double median_ms(const std::function<void()>& fn, int warmup, int reps) {
    for (int i = 0; i < warmup; ++i) fn();
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        const double t0 = now_ms();
        fn();
        times.push_back(now_ms() - t0);
    }
    return median(times);
}

struct Timing {
    int warmup, reps;
};

// Repetitions so that one measurement takes about the budget, from one timed call.
Timing plan_timing(const std::function<void()>& fn, const Options& o) {
    fn();  // first call: primitive creation, allocation
    const double t0 = now_ms();
    fn();
    const double est = std::max(1e-3, now_ms() - t0);
    const double budget = o.quick ? 80.0 : 300.0;
    const int hi = o.quick ? 10 : 50;
    return {1, std::clamp(static_cast<int>(budget / est), 3, hi)};
}

std::string fmt(double v, int precision = 2) {
    if (!std::isfinite(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.*f", precision, v);
    return buf;
}

std::string json_num(double v) { return std::isfinite(v) ? fmt(v, 4) : "null"; }

Tensor random_f32(const Shape& shape, uint64_t seed, double scale = 1.0) {
    Generator gen(seed);
    return uniform(shape, -scale, scale, gen, DType::Float32);
}

// ------------------------------------------------------------------------------------------------ GEMM

struct GemmCase {
    std::string name;
    int64_t m, n, k;
    bool trans_b;  // b = (n, k)^T, as linear's x @ weight^T
};

struct GemmResult {
    GemmCase c;
    double ours_ms, dnnl_ms, torch_ms;
};

double gflops(const GemmCase& c, double ms) { return 2.0 * c.m * c.n * c.k / (ms * 1e6); }

// The faster reference's GFLOP/s, ignoring a reference that was not measured (NaN).
double best_reference(const GemmCase& c, double dnnl_ms, double torch_ms) {
    const double a = gflops(c, dnnl_ms), b = gflops(c, torch_ms);
    if (std::isnan(a)) return b;
    if (std::isnan(b)) return a;
    return std::max(a, b);
}

GemmResult run_gemm(const GemmCase& c, const Options& o, bench::TorchReference& ref) {
    const Tensor a = random_f32({c.m, c.k}, 1);
    const Tensor b = c.trans_b ? random_f32({c.n, c.k}, 2).t() : random_f32({c.k, c.n}, 2);
    const auto ours = [&] { (void)matmul(a, b); };
#if ENGINE_WITH_ONEDNN
    const Tensor bc = b.contiguous();
    const Tensor braw = c.trans_b ? b.t().contiguous() : bc;  // the contiguous (n, k) or (k, n) storage
    Tensor out = empty({c.m, c.n}, DType::Float32);
    const auto raw = [&] {
        dnnl_sgemm('N', c.trans_b ? 'T' : 'N', c.m, c.n, c.k, 1.0f, a.data<float>(), c.k, braw.data<float>(),
                   c.trans_b ? c.k : c.n, 0.0f, out.data<float>(), c.n);
    };
#endif
    const Timing t = plan_timing(ours, o);
    std::ostringstream js;
    js << "{\"kind\": \"gemm\", \"m\": " << c.m << ", \"n\": " << c.n << ", \"k\": " << c.k
       << ", \"trans_b\": " << (c.trans_b ? "true" : "false") << ", \"warmup\": " << t.warmup
       << ", \"reps\": " << t.reps << "}";
    std::vector<double> ours_ms, dnnl_ms, torch_ms;
    for (int r = 0; r < o.rounds; ++r) {
        ours_ms.push_back(median_ms(ours, t.warmup, t.reps));
#if ENGINE_WITH_ONEDNN
        dnnl_ms.push_back(median_ms(raw, t.warmup, t.reps));
#endif
        if (ref.available()) {
            if (auto ms = ref.time_ms(js.str())) torch_ms.push_back(*ms);
            else std::fprintf(stderr, "PyTorch reference failed on %s: %s\n", c.name.c_str(), ref.last_error().c_str());
        }
    }
    return {c, median(ours_ms), median(dnnl_ms), median(torch_ms)};
}

// ------------------------------------------------------------------------------------------------ conv

struct ConvCase {
    std::string name;
    int64_t n, c, h, w, o, k, stride, pad;
    bool transposed;
    int64_t output_padding;
    bool input_grad;  // false for a network's first layer: training never needs the image's gradient
};

struct ConvResult {
    ConvCase c;
    double ours_fwd, torch_fwd, ours_train, torch_train;
};

ConvResult run_conv(const ConvCase& c, const Options& o, bench::TorchReference& ref) {
    Conv2dParams p;
    p.stride_h = p.stride_w = c.stride;
    p.pad_h = p.pad_w = c.pad;
    Tensor x = random_f32({c.n, c.c, c.h, c.w}, 3);
    Tensor w = c.transposed ? random_f32({c.c, c.o, c.k, c.k}, 4, 0.05) : random_f32({c.o, c.c, c.k, c.k}, 4, 0.05);
    Tensor b = random_f32({c.o}, 5);
    const auto forward = [&] {
        return c.transposed ? conv_transpose2d(x, w, b, p, c.output_padding, c.output_padding) : conv2d(x, w, b, p);
    };
    x.requires_grad_(c.input_grad);
    w.requires_grad_(true);
    b.requires_grad_(true);
    TensorList inputs;
    if (c.input_grad) inputs.push_back(x);
    inputs.push_back(w);
    inputs.push_back(b);
    Tensor grad_y;
    {
        NoGradGuard no_grad;
        const Tensor y = forward();
        grad_y = random_f32(y.shape(), 6);
    }
    const auto ours_fwd = [&] {
        NoGradGuard no_grad;
        (void)forward();
    };
    const auto ours_train = [&] { (void)autograd::grad({forward()}, inputs, {grad_y}); };

    auto case_json = [&](const char* mode, const Timing& t) {
        std::ostringstream js;
        js << "{\"kind\": \"conv\", \"mode\": \"" << mode << "\", \"n\": " << c.n << ", \"c\": " << c.c
           << ", \"h\": " << c.h << ", \"w\": " << c.w << ", \"o\": " << c.o << ", \"kh\": " << c.k
           << ", \"kw\": " << c.k << ", \"stride\": " << c.stride << ", \"pad\": " << c.pad
           << ", \"dilation\": 1, \"groups\": 1, \"transposed\": " << (c.transposed ? "true" : "false")
           << ", \"output_padding\": " << c.output_padding << ", \"input_grad\": " << (c.input_grad ? "true" : "false")
           << ", \"warmup\": " << t.warmup << ", \"reps\": " << t.reps << "}";
        return js.str();
    };
    const Timing tf = plan_timing(ours_fwd, o), tt = plan_timing(ours_train, o);
    const std::string js_fwd = case_json("fwd", tf), js_train = case_json("fwdbwd", tt);
    std::vector<double> of, tf_ms, ot, tt_ms;
    for (int r = 0; r < o.rounds; ++r) {
        of.push_back(median_ms(ours_fwd, tf.warmup, tf.reps));
        if (ref.available()) {
            if (auto ms = ref.time_ms(js_fwd)) tf_ms.push_back(*ms);
            else std::fprintf(stderr, "PyTorch reference failed on %s: %s\n", c.name.c_str(), ref.last_error().c_str());
        }
        ot.push_back(median_ms(ours_train, tt.warmup, tt.reps));
        if (ref.available()) {
            if (auto ms = ref.time_ms(js_train)) tt_ms.push_back(*ms);
            else std::fprintf(stderr, "PyTorch reference failed on %s: %s\n", c.name.c_str(), ref.last_error().c_str());
        }
    }
    return {c, median(of), median(tf_ms), median(ot), median(tt_ms)};
}

// ------------------------------------------------------------------------------------------------ report

void write_json(const Options& o, int threads, double load_before, const bench::TorchReference& ref,
                const std::vector<GemmResult>& gemm, const std::vector<ConvResult>& conv) {
    std::ofstream f(o.json_path);
    if (!f) {
        std::fprintf(stderr, "bench_cpu: cannot write %s\n", o.json_path.c_str());
        return;
    }
    f << "{\n  \"threads\": " << threads << ",\n  \"rounds\": " << o.rounds << ",\n  \"load_average_before\": "
      << json_num(load_before) << ",\n  \"onednn\": "
      << (ENGINE_WITH_ONEDNN ? "true" : "false") << ",\n  \"torch\": "
      << (ref.available() ? "\"" + ref.torch_version() + "\"" : std::string("null")) << ",\n  \"gemm\": [";
    for (size_t i = 0; i < gemm.size(); ++i) {
        const GemmResult& r = gemm[i];
        const double best = best_reference(r.c, r.dnnl_ms, r.torch_ms);
        f << (i ? "," : "") << "\n    {\"name\": \"" << r.c.name << "\", \"m\": " << r.c.m << ", \"n\": " << r.c.n
          << ", \"k\": " << r.c.k << ", \"trans_b\": " << (r.c.trans_b ? "true" : "false")
          << ", \"ours_ms\": " << json_num(r.ours_ms) << ", \"onednn_ms\": " << json_num(r.dnnl_ms)
          << ", \"torch_ms\": " << json_num(r.torch_ms) << ", \"ours_gflops\": " << json_num(gflops(r.c, r.ours_ms))
          << ", \"onednn_gflops\": " << json_num(gflops(r.c, r.dnnl_ms))
          << ", \"torch_gflops\": " << json_num(gflops(r.c, r.torch_ms))
          << ", \"ours_over_best\": " << json_num(gflops(r.c, r.ours_ms) / best) << "}";
    }
    f << "\n  ],\n  \"conv\": [";
    for (size_t i = 0; i < conv.size(); ++i) {
        const ConvResult& r = conv[i];
        f << (i ? "," : "") << "\n    {\"name\": \"" << r.c.name << "\", \"n\": " << r.c.n << ", \"c\": " << r.c.c
          << ", \"h\": " << r.c.h << ", \"w\": " << r.c.w << ", \"o\": " << r.c.o << ", \"k\": " << r.c.k
          << ", \"stride\": " << r.c.stride << ", \"pad\": " << r.c.pad
          << ", \"transposed\": " << (r.c.transposed ? "true" : "false")
          << ", \"output_padding\": " << r.c.output_padding
          << ", \"input_grad\": " << (r.c.input_grad ? "true" : "false")
          << ", \"ours_fwd_ms\": " << json_num(r.ours_fwd) << ", \"torch_fwd_ms\": " << json_num(r.torch_fwd)
          << ", \"fwd_ratio\": " << json_num(r.ours_fwd / r.torch_fwd)
          << ", \"ours_fwdbwd_ms\": " << json_num(r.ours_train) << ", \"torch_fwdbwd_ms\": " << json_num(r.torch_train)
          << ", \"fwdbwd_ratio\": " << json_num(r.ours_train / r.torch_train) << "}";
    }
    f << "\n  ]\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.threads > 0) set_num_threads(o.threads);
    const int threads = num_threads();
    const double load_before = load_average();
    if (load_before > 0.5)
        std::printf("note: 1-minute load average %.2f before starting; time on a quiet machine\n", load_before);

    bench::TorchReference ref;
    if (ref.start(o.python, o.script, threads)) {
        std::printf("PyTorch %s reference (%s), %d threads on both sides, %d rounds\n", ref.torch_version().c_str(),
                    o.python.c_str(), threads, o.rounds);
    } else {
        std::printf("PyTorch not available: %s; skipping the reference comparison\n", ref.reason().c_str());
        std::printf("%d threads, %d rounds\n", threads, o.rounds);
    }
    std::fflush(stdout);

    std::vector<GemmResult> gemm;
    if (o.only.empty() || o.only == "gemm") {
        std::vector<GemmCase> cases = {{"square 2048", 2048, 2048, 2048, false},
                                       {"square 1024", 1024, 1024, 1024, false},
                                       {"square 512", 512, 512, 512, false},
                                       {"LeNet fc1 (64x256 @ W^T)", 64, 120, 256, true},
                                       {"LeNet fc2 (64x120 @ W^T)", 64, 84, 120, true},
                                       {"LeNet fc3 (64x84 @ W^T)", 64, 10, 84, true}};
        if (o.quick) cases.erase(cases.begin());
        std::printf("\nGEMM float32 (GFLOP/s, higher is better)\n");
        std::printf("%-28s %10s %10s %10s %11s\n", "shape (m x n x k)", "ours", "oneDNN", "PyTorch", "ours/best");
        for (const GemmCase& c : cases) {
            gemm.push_back(run_gemm(c, o, ref));
            const GemmResult& r = gemm.back();
            const double best = best_reference(c, r.dnnl_ms, r.torch_ms);
            std::printf("%-28s %10s %10s %10s %11s\n", c.name.c_str(), fmt(gflops(c, r.ours_ms), 1).c_str(),
                        fmt(gflops(c, r.dnnl_ms), 1).c_str(), fmt(gflops(c, r.torch_ms), 1).c_str(),
                        fmt(gflops(c, r.ours_ms) / best, 2).c_str());
            std::fflush(stdout);
        }
    }

    std::vector<ConvResult> conv;
    if (o.only.empty() || o.only == "conv") {
        const std::vector<ConvCase> cases = {
            {"UNet 3->64 256x256 (first)", 1, 3, 256, 256, 64, 3, 1, 1, false, 0, false},
            {"UNet 64->64 256x256", 1, 64, 256, 256, 64, 3, 1, 1, false, 0, true},
            {"UNet 512->1024 16x16", 1, 512, 16, 16, 1024, 3, 1, 1, false, 0, true},
            {"UNet up 1024->512 16->32", 1, 1024, 16, 16, 512, 3, 2, 1, true, 1, true},
            {"LeNet 1->6 k5 28x28 b64", 64, 1, 28, 28, 6, 5, 1, 0, false, 0, false},
            {"LeNet 6->16 k5 12x12 b64", 64, 6, 12, 12, 16, 5, 1, 0, false, 0, true},
        };
        std::printf("\nConvolution float32 (ms, lower is better; ratio = ours / PyTorch)\n");
        std::printf("%-28s %9s %9s %7s | %9s %9s %7s\n", "case", "fwd ours", "PyTorch", "ratio", "f+b ours",
                    "PyTorch", "ratio");
        for (const ConvCase& c : cases) {
            conv.push_back(run_conv(c, o, ref));
            const ConvResult& r = conv.back();
            std::printf("%-28s %9s %9s %7s | %9s %9s %7s\n", c.name.c_str(), fmt(r.ours_fwd).c_str(),
                        fmt(r.torch_fwd).c_str(), fmt(r.ours_fwd / r.torch_fwd).c_str(), fmt(r.ours_train).c_str(),
                        fmt(r.torch_train).c_str(), fmt(r.ours_train / r.torch_train).c_str());
            std::fflush(stdout);
        }
        std::printf("f+b = forward + backward (input gradient, except for first layers, + weight + bias gradients)\n");
    }

    write_json(o, threads, load_before, ref, gemm, conv);
    std::printf("\nwrote %s\n", o.json_path.c_str());
    return 0;
}
