// bench_cpu: float32 GEMM and convolution speed of the engine's CPU backend against oneDNN's sgemm and PyTorch,
// measured in the same run. Ours and the references alternate over several rounds (so load changes hit both)
// and every figure is a median. Prints a table and writes a JSON file.
//
//   bench_cpu [--python PATH] [--json PATH] [--only gemm|conv] [--quick] [--threads N] [--rounds N]
//             [--script PATH]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "bench/bench_util.h"
#include "bench/reference.h"
#include "runtime/parallel.h"

#if ENGINE_WITH_ONEDNN
#include <dnnl.h>
#endif

using namespace engine;

namespace {

using bench::fmt;
using bench::json_num;
using bench::median;

struct Options : bench::ReferenceOptions {
    Options() : ReferenceOptions("torch_reference.py", "bench_cpu.json") {}
    std::string only;
};

[[noreturn]] void usage(const std::string& msg, int status = 2) {
    bench::exit_with_usage("bench_cpu", msg, status,
                           "usage: bench_cpu [--python PATH] [--json PATH] [--only gemm|conv] [--quick] "
                           "[--threads N] [--rounds N] [--script PATH]\n");
}

Options parse(int argc, char** argv) {
    Options o;
    bench::Args args(argc, argv, [](const std::string& msg) { usage(msg); });
    while (args.next()) {
        const std::string& arg = args.arg();
        if (o.read(args)) continue;
        if (arg == "--only") o.only = args.value();
        else if (arg == "--help" || arg == "-h") usage("GEMM and convolution speed against oneDNN and PyTorch", 0);
        else usage("unknown argument " + arg);
    }
    if (!o.only.empty() && o.only != "gemm" && o.only != "conv") usage("--only takes gemm or conv");
    if (o.rounds <= 0) o.rounds = o.quick ? 2 : 5;
    return o;
}

struct Timing {
    int warmup, reps;
};

// Repetitions so that one measurement takes about the budget, from one timed call.
Timing plan_timing(const std::function<void()>& fn, const Options& o) {
    fn();  // first call: primitive creation, allocation
    bench::Stopwatch clock;
    fn();
    const double est = std::max(1e-3, clock.ms());
    const double budget = o.quick ? 80.0 : 300.0;
    const int hi = o.quick ? 10 : 50;
    return {1, std::clamp(static_cast<int>(budget / est), 3, hi)};
}

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
        ours_ms.push_back(bench::median_ms(ours, t.warmup, t.reps));
#if ENGINE_WITH_ONEDNN
        dnnl_ms.push_back(bench::median_ms(raw, t.warmup, t.reps));
#endif
        bench::time_reference(ref, js.str(), c.name, torch_ms);
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
        of.push_back(bench::median_ms(ours_fwd, tf.warmup, tf.reps));
        bench::time_reference(ref, js_fwd, c.name, tf_ms);
        ot.push_back(bench::median_ms(ours_train, tt.warmup, tt.reps));
        bench::time_reference(ref, js_train, c.name, tt_ms);
    }
    return {c, median(of), median(tf_ms), median(ot), median(tt_ms)};
}

// ------------------------------------------------------------------------------------------------ report

void write_json(const Options& o, int threads, double load_before, const bench::TorchReference& ref,
                const std::vector<GemmResult>& gemm, const std::vector<ConvResult>& conv) {
    std::ostringstream f;
    f << "{\n  \"threads\": " << threads << ",\n  \"rounds\": " << o.rounds << ",\n  \"load_average_before\": "
      << json_num(load_before) << ",\n  \"onednn\": "
      << (ENGINE_WITH_ONEDNN ? "true" : "false") << ",\n  \"torch\": "
      << bench::torch_version_json(ref) << ",\n  \"gemm\": [";
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
    bench::write_text_file(o.json_path, f.str(), "bench_cpu");
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.threads > 0) set_num_threads(o.threads);
    const int threads = num_threads();
    const double load_before = bench::load_average_noted();

    bench::TorchReference ref;
    bench::start_reported(ref, o.python, o.script, threads, o.rounds);
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
            std::printf("%-28s %9s %9s %7s | %9s %9s %7s\n", c.name.c_str(), fmt(r.ours_fwd, 2).c_str(),
                        fmt(r.torch_fwd, 2).c_str(), fmt(r.ours_fwd / r.torch_fwd, 2).c_str(),
                        fmt(r.ours_train, 2).c_str(), fmt(r.torch_train, 2).c_str(),
                        fmt(r.ours_train / r.torch_train, 2).c_str());
            std::fflush(stdout);
        }
        std::printf("f+b = forward + backward (input gradient, except for first layers, + weight + bias gradients)\n");
    }

    write_json(o, threads, load_before, ref, gemm, conv);
    std::printf("\nwrote %s\n", o.json_path.c_str());
    return 0;
}
