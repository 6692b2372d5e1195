// float32 convolution on oneDNN 2.x primitives. Each (pass, geometry) gets a plan: the primitive, with the
// algorithm choose_algo picks (direct or Winograd) in the layout choose_layout picks (usually format_tag::any, so
// oneDNN uses its blocked layouts), and the reorders between our plain NCHW/OIHW tensors and that layout. Plans
// are cached, so a training loop builds each primitive once; reordered weights are cached across calls with
// unchanged weights (conv_weight_cache.h).
#if ENGINE_WITH_ONEDNN  // the whole file: builds without oneDNN use conv_im2col.cpp
#include <algorithm>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <dnnl.hpp>

#include "runtime/settings.h"
#include "runtime/views.h"
#include "kernels/backend.h"
#include "kernels/cpu/conv_impl.h"
#include "kernels/cpu/conv_weight_cache.h"
#include "kernels/cpu/conv_workspace.h"

namespace engine::cpu {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& onednn_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

enum class Pass : int64_t { Forward, BackwardData, BackwardWeights };

// How the primitive's tensors are laid out. Any: oneDNN's choice (blocked nChw16c / OIhw16i16o, direct JIT
// kernels), reordered from and to our plain tensors around each call. Plain: our NCHW / OIHW tensors as they
// are (oneDNN's im2col + sgemm), which skips the reorders. ChannelsLast: NHWC activations (brgemm kernels).
// ENGINE_CONV_LAYOUT=any|plain|nhwc forces one (runtime/settings.h; for measurements).
using Layout = ConvLayout;

// Measured on AVX-512 (bench_cpu and per-pass timings of the three layouts, 2 threads): blocked layouts win
// wherever the activations dominate, but when the weights outweigh the activations several times over (the
// deep, low-resolution layers of a UNet), reordering the weights on every call costs about what the direct
// kernels save, and the plain GEMM-based primitives are as fast or faster (UNet width 64's 16x16 layers and its
// first transposed convolution: weights 6-18x the activations). At width 16, batch 4, the 8x8 layers (4.5x)
// still run 1.5x faster blocked.
Layout choose_layout(const ConvShape& g) {
    if (const std::optional<Layout> forced = setting(&Settings::conv_layout)) return *forced;
    const int64_t weights = g.o * g.group_in() * g.kh * g.kw;
    const int64_t activations = g.n * (g.c * g.h * g.w + g.o * g.oh * g.ow);
    return weights > 5 * activations ? Layout::Plain : Layout::Any;
}

// Direct convolution, or Winograd F(4x4, 3x3) (oneDNN 2.x's jit_wino_4x3 kernels, AVX-512 only) which needs
// about a quarter of the multiplications. ENGINE_CONV_ALGO=direct|winograd forces one (runtime/settings.h;
// measurements; direct gives bit-for-bit the results of engines without Winograd).
using Algo = ConvAlgo;

// Measured per layer of the UNet at widths 16 and 64 (AVX-512, 1 and 2 threads, each pass): Winograd runs all
// three passes of a 3x3, stride-1 convolution with 32 or more input channels 1.3-2.5x faster than the direct
// kernels once the batch holds 1024 or more output positions of 16x16 or larger images; with 3 or 16 input
// channels, on 8x8 images or on one 16x16 image it is no faster (forward, with two threads) or slower, and
// layers that use plain layouts keep them (their transformed weights would be 4x the plain ones). Its float32
// error stays within a few 1e-6 of the largest output (direct: a few 1e-7; our tests' tolerance: 1e-4).
Algo choose_algo(const ConvShape& g) {
    if (const std::optional<Algo> forced = setting(&Settings::conv_algo)) return *forced;
    const bool eligible = g.kh == 3 && g.kw == 3 && g.p.stride_h == 1 && g.p.stride_w == 1 && g.p.dilation_h == 1 &&
                          g.p.dilation_w == 1 && g.p.groups == 1 && g.c >= 32 && g.o >= 8 && g.oh >= 16 &&
                          g.ow >= 16 && g.n * g.oh * g.ow >= 1024;
    return eligible && choose_layout(g) == Layout::Any ? Algo::Winograd : Algo::Direct;
}

// Winograd's scratchpad (the transformed tiles) grows with channels times spatial size and is kept per thread
// (conv_workspace): past this size the direct kernels are used instead.
constexpr size_t kMaxWinogradScratchpad = size_t{256} << 20;

// One primitive argument and, when its layout differs from our plain one, the reorder to or from it.
struct Operand {
    int arg = 0;
    memory::desc plain, used;
    bool reordered = false;
    dnnl::reorder reorder;
};

struct Plan {
    dnnl::primitive primitive;
    Operand inputs[2];
    Operand output;
    bool has_bias = false;
    memory::desc scratchpad;
};

using Key = std::array<int64_t, 20>;

struct KeyHash {
    size_t operator()(const Key& key) const {
        size_t h = 1469598103934665603ull;
        for (int64_t v : key) h = (h ^ static_cast<size_t>(v)) * 1099511628211ull;
        return h;
    }
};

Key plan_key(Pass pass, const ConvShape& g, bool has_bias) {
    return {static_cast<int64_t>(pass), static_cast<int64_t>(choose_layout(g)), has_bias ? 1 : 0, g.n, g.c, g.h,
            g.w, g.o, g.kh, g.kw, g.oh, g.ow, g.p.stride_h, g.p.stride_w, g.p.pad_h, g.p.pad_w,
            g.p.dilation_h, g.p.dilation_w, g.p.groups, static_cast<int64_t>(choose_algo(g))};
}

memory::desc plain_desc(const memory::dims& dims, Tag tag) { return memory::desc(dims, memory::data_type::f32, tag); }

struct Descs {
    memory::desc src, weights, dst, bias;
    memory::desc src_any, weights_any, dst_any;
    memory::dims strides, dilates, pad_l, pad_r;
};

Descs make_descs(const ConvShape& g) {
    Descs d;
    const memory::dims src{g.n, g.c, g.h, g.w}, dst{g.n, g.o, g.oh, g.ow};
    const memory::dims weights = g.p.groups == 1
                                     ? memory::dims{g.o, g.c, g.kh, g.kw}
                                     : memory::dims{g.p.groups, g.group_out(), g.group_in(), g.kh, g.kw};
    d.src = plain_desc(src, Tag::nchw);
    d.dst = plain_desc(dst, Tag::nchw);
    d.weights = plain_desc(weights, g.p.groups == 1 ? Tag::oihw : Tag::goihw);
    d.bias = plain_desc({g.o}, Tag::x);
    const Layout layout = choose_layout(g);
    const Tag activations = layout == Layout::Any ? Tag::any : layout == Layout::Plain ? Tag::nchw : Tag::nhwc;
    d.src_any = plain_desc(src, activations);
    d.dst_any = plain_desc(dst, activations);
    d.weights_any = layout == Layout::Plain ? d.weights : plain_desc(weights, Tag::any);
    d.strides = {g.p.stride_h, g.p.stride_w};
    d.dilates = {g.p.dilation_h - 1, g.p.dilation_w - 1};  // oneDNN counts the gaps: 0 means no dilation
    d.pad_l = {g.p.pad_h, g.p.pad_w};
    d.pad_r = {g.pad_bottom(), g.pad_right()};
    return d;
}

dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

Operand make_operand(int arg, const memory::desc& plain, const memory::desc& used, bool is_output) {
    Operand op;
    op.arg = arg;
    op.plain = plain;
    op.used = used;
    op.reordered = plain != used;
    if (op.reordered) {
        auto& eng = onednn_engine();
        op.reorder = is_output ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, used, eng, plain))
                               : dnnl::reorder(dnnl::reorder::primitive_desc(eng, plain, eng, used));
    }
    return op;
}

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, bool with_bias,
                                                     const dnnl::primitive_attr& attr, dnnl::algorithm algo) {
    using Conv = dnnl::convolution_forward;
    const auto desc = with_bias ? Conv::desc(dnnl::prop_kind::forward_training, algo, d.src_any, d.weights_any,
                                             d.bias, d.dst_any, d.strides, d.dilates, d.pad_l, d.pad_r)
                                : Conv::desc(dnnl::prop_kind::forward_training, algo, d.src_any, d.weights_any,
                                             d.dst_any, d.strides, d.dilates, d.pad_l, d.pad_r);
    return Conv::primitive_desc(desc, attr, onednn_engine());
}

std::shared_ptr<const Plan> build_plan(Pass pass, const ConvShape& g, bool has_bias, dnnl::algorithm algo) {
    const Descs d = make_descs(g);
    const dnnl::primitive_attr attr = user_scratchpad();
    auto plan = std::make_shared<Plan>();
    plan->has_bias = has_bias;
    if (pass == Pass::Forward) {
        const auto pd = forward_pd(d, has_bias, attr, algo);
        plan->primitive = dnnl::convolution_forward(pd);
        plan->inputs[0] = make_operand(DNNL_ARG_SRC, d.src, pd.src_desc(), false);
        plan->inputs[1] = make_operand(DNNL_ARG_WEIGHTS, d.weights, pd.weights_desc(), false);
        plan->output = make_operand(DNNL_ARG_DST, d.dst, pd.dst_desc(), true);
        plan->scratchpad = pd.scratchpad_desc();
    } else if (pass == Pass::BackwardData) {
        using Conv = dnnl::convolution_backward_data;
        const auto hint = forward_pd(d, false, dnnl::primitive_attr(), algo);
        const Conv::desc desc(algo, d.src_any, d.weights_any, d.dst_any, d.strides, d.dilates, d.pad_l, d.pad_r);
        const Conv::primitive_desc pd(desc, attr, onednn_engine(), hint);
        plan->primitive = Conv(pd);
        plan->inputs[0] = make_operand(DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(), false);
        plan->inputs[1] = make_operand(DNNL_ARG_WEIGHTS, d.weights, pd.weights_desc(), false);
        plan->output = make_operand(DNNL_ARG_DIFF_SRC, d.src, pd.diff_src_desc(), true);
        plan->scratchpad = pd.scratchpad_desc();
    } else {
        using Conv = dnnl::convolution_backward_weights;
        const auto hint = forward_pd(d, false, dnnl::primitive_attr(), algo);
        const Conv::desc desc(algo, d.src_any, d.weights_any, d.dst_any, d.strides, d.dilates, d.pad_l, d.pad_r);
        const Conv::primitive_desc pd(desc, attr, onednn_engine(), hint);
        plan->primitive = Conv(pd);
        plan->inputs[0] = make_operand(DNNL_ARG_DIFF_DST, d.dst, pd.diff_dst_desc(), false);
        plan->inputs[1] = make_operand(DNNL_ARG_SRC, d.src, pd.src_desc(), false);
        plan->output = make_operand(DNNL_ARG_DIFF_WEIGHTS, d.weights, pd.diff_weights_desc(), true);
        plan->scratchpad = pd.scratchpad_desc();
    }
    if (algo == dnnl::algorithm::convolution_winograd && plan->scratchpad.get_size() > kMaxWinogradScratchpad)
        return nullptr;
    return plan;
}

// Thread-safe plan cache; null plans record geometries oneDNN refused. Cleared when it grows past kMaxPlans
// (a workload with ever-changing shapes).
constexpr size_t kMaxPlans = 1024;

std::shared_ptr<const Plan> get_plan(Pass pass, const ConvShape& g, bool has_bias) {
    static std::mutex mutex;
    static std::unordered_map<Key, std::shared_ptr<const Plan>, KeyHash> cache;
    const Key key = plan_key(pass, g, has_bias);
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = cache.find(key);
        if (it != cache.end()) return it->second;
    }
    std::shared_ptr<const Plan> plan;
    if (choose_algo(g) == Algo::Winograd) {
        try {
            plan = build_plan(pass, g, has_bias, dnnl::algorithm::convolution_winograd);
        } catch (const dnnl::error&) {
            plan = nullptr;  // not a Winograd geometry: direct below
        }
    }
    if (!plan) {
        try {
            plan = build_plan(pass, g, has_bias, dnnl::algorithm::convolution_direct);
        } catch (const dnnl::error&) {
            plan = nullptr;  // a geometry this oneDNN has no primitive for: the caller falls back to im2col
        }
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= kMaxPlans) cache.clear();
    return cache.emplace(key, plan).first->second;
}

memory wrap(const memory::desc& desc, const void* data) {
    return memory(desc, onednn_engine(), const_cast<void*>(data));
}

// What the calling thread's Input0 workspace holds: one tensor reordered to one layout. A convolution's backward
// runs the data pass and then the weight pass on the same output gradient, usually in the same layout: the
// second reorder of it is skipped.
struct Input0Memo {
    TensorSighting tensor;
    memory::desc used;
    const void* buffer = nullptr;

    bool holds(const Tensor& t, const memory::desc& desc, const void* workspace) const {
        return workspace == buffer && desc == used && tensor.matches(t);
    }
};

thread_local Input0Memo input0_memo;

// Runs a plan on contiguous plain inputs, writing the plain output `out`. Input 1 is the weight of the forward
// and backward-data passes (cache_weights), whose reordered copy conv_weight_cache() may hold.
void execute(const std::shared_ptr<const Plan>& plan_ptr, const Tensor& in0, const Tensor& in1, const Tensor& bias,
             Tensor& out, bool cache_weights) {
    const Plan& plan = *plan_ptr;
    dnnl::stream stream(onednn_engine());
    std::unordered_map<int, memory> args;
    const Tensor* inputs[2] = {&in0, &in1};
    std::shared_ptr<void> cached;
    for (int i = 0; i < 2; ++i) {
        const Operand& op = plan.inputs[i];
        memory plain = wrap(op.plain, inputs[i]->raw_data());
        if (i == 1 && cache_weights &&
            (cached = conv_weight_cache().get(plan_ptr, op.reordered ? &op.reorder : nullptr, op.plain, op.used, in1,
                                              stream))) {
            args.emplace(op.arg, wrap(op.used, cached.get()));
        } else if (op.reordered && i == 0) {
            void* workspace = conv_workspace(ConvSlot::Input0, op.used.get_size());
            memory used = wrap(op.used, workspace);
            if (!input0_memo.holds(in0, op.used, workspace)) {
                input0_memo.buffer = nullptr;  // invalid until the reorder finished
                op.reorder.execute(stream, plain, used);
                input0_memo = {TensorSighting::of(in0), op.used, workspace};
            }
            args.emplace(op.arg, used);
        } else if (op.reordered) {
            memory used = wrap(op.used, conv_workspace(ConvSlot::Input1, op.used.get_size()));
            op.reorder.execute(stream, plain, used);
            args.emplace(op.arg, used);
        } else {
            args.emplace(op.arg, plain);
        }
    }
    if (plan.has_bias) args.emplace(DNNL_ARG_BIAS, wrap(plain_desc({bias.numel()}, Tag::x), bias.raw_data()));
    memory out_plain = wrap(plan.output.plain, out.raw_data());
    memory out_used = out_plain;
    if (plan.output.reordered)
        out_used = wrap(plan.output.used, conv_workspace(ConvSlot::Output, plan.output.used.get_size()));
    args.emplace(plan.output.arg, out_used);
    if (plan.scratchpad.get_size() > 0) {
        void* scratchpad = conv_workspace(ConvSlot::Scratchpad, plan.scratchpad.get_size());
        args.emplace(DNNL_ARG_SCRATCHPAD, wrap(plan.scratchpad, scratchpad));
    }
    try {
        plan.primitive.execute(stream, args);
        if (plan.output.reordered) plan.output.reorder.execute(stream, out_used, out_plain);
        stream.wait();
    } catch (const dnnl::error& e) {
        throw Error(detail::concat("conv2d: oneDNN failed to execute a convolution: ", e.what()));
    }
}

// oneDNN needs pad_bottom >= 1 - stride; with more unused trailing input rows (dilated transposed
// convolutions with output_padding) those rows are left out of the primitive.
ConvShape cropped(const ConvShape& g) {
    ConvShape c = g;
    c.h -= std::max<int64_t>(0, 1 - g.p.stride_h - g.pad_bottom());
    c.w -= std::max<int64_t>(0, 1 - g.p.stride_w - g.pad_right());
    return c;
}

Tensor crop_input(const Tensor& x, const ConvShape& c) {
    if (x.size(2) == c.h && x.size(3) == c.w) return dense(x);
    return dense(views::narrow(views::narrow(x, 2, 0, c.h), 3, 0, c.w));
}

}  // namespace

Tensor conv2d_forward_onednn(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvShape& g) {
    const ConvShape c = cropped(g);
    const auto plan = get_plan(Pass::Forward, c, bias.defined());
    if (!plan) return conv2d_forward_im2col(x, w, bias, g);
    Tensor y = empty({g.n, g.o, g.oh, g.ow}, DType::Float32);
    execute(plan, crop_input(x, c), dense(w), bias.defined() ? dense(bias) : Tensor(), y, true);
    return y;
}

Tensor conv2d_backward_data_onednn(const Tensor& grad_y, const Tensor& w, const ConvShape& g) {
    const ConvShape c = cropped(g);
    const auto plan = get_plan(Pass::BackwardData, c, false);
    if (!plan) return conv2d_backward_data_im2col(grad_y, w, g);
    Tensor dx = empty({c.n, c.c, c.h, c.w}, DType::Float32);
    execute(plan, dense(grad_y), dense(w), Tensor(), dx, true);
    if (c.h == g.h && c.w == g.w) return dx;
    Tensor full = zeros({g.n, g.c, g.h, g.w}, DType::Float32);
    Tensor inner = views::narrow(views::narrow(full, 2, 0, c.h), 3, 0, c.w);
    cpu_backend().copy_(inner, dx);
    return full;
}

Tensor conv2d_backward_weight_onednn(const Tensor& grad_y, const Tensor& x, const ConvShape& g) {
    const ConvShape c = cropped(g);
    const auto plan = get_plan(Pass::BackwardWeights, c, false);
    if (!plan) return conv2d_backward_weight_im2col(grad_y, x, g);
    Tensor dw = empty({g.o, g.group_in(), g.kh, g.kw}, DType::Float32);
    execute(plan, dense(grad_y), crop_input(x, c), Tensor(), dw, false);
    return dw;
}

}  // namespace engine::cpu

#endif  // ENGINE_WITH_ONEDNN
