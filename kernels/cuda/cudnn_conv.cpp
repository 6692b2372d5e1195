// Convolutions through cuDNN (real build only): NCHW descriptors in RAII wrappers, groups through the
// convolution descriptor, algorithms chosen once per shape with the v7 heuristics and cached, workspaces from
// the caching allocator. float32 runs with FMA math (no TF32) unless ENGINE_CUDA_ALLOW_TF32 is set, so that it
// matches the CPU backend to float32 rounding.
#if ENGINE_WITH_CUDNN

#include "runtime/cuda_api.h"

#include <cudnn.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "kernels/cuda/conv_cuda.h"
#include "kernels/cuda/kernel_choice.h"
#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {
namespace {

#define ENGINE_CUDNN_CHECK(expr, ...)                                                                         \
    do {                                                                                                      \
        const cudnnStatus_t engine_cudnn_status_ = (expr);                                                    \
        if (engine_cudnn_status_ != CUDNN_STATUS_SUCCESS) {                                                   \
            throw ::engine::DeviceError(::engine::detail::concat(__VA_ARGS__, ": ", #expr, " failed: ",      \
                                                                 cudnnGetErrorString(engine_cudnn_status_))); \
        }                                                                                                     \
    } while (0)

// Algorithms whose workspace exceeds this are skipped.
constexpr size_t kMaxWorkspace = size_t{1} << 30;

class CudnnHandle {
public:
    explicit CudnnHandle(int device) {
        ENGINE_CUDA_CHECK(cudaSetDevice(device), "cudnnCreate");
        ENGINE_CUDNN_CHECK(cudnnCreate(&handle_), "conv2d: creating the cuDNN handle on cuda:", device);
    }
    ~CudnnHandle() {
        if (handle_ != nullptr) cudnnDestroy(handle_);
    }
    CudnnHandle(const CudnnHandle&) = delete;
    CudnnHandle& operator=(const CudnnHandle&) = delete;
    cudnnHandle_t get() const { return handle_; }

private:
    cudnnHandle_t handle_ = nullptr;
};

// One handle per device and thread; the stream is set on every call.
cudnnHandle_t handle_for(int device, cudaStream_t stream) {
    thread_local std::unordered_map<int, std::unique_ptr<CudnnHandle>> handles;
    auto& slot = handles[device];
    if (!slot) slot = std::make_unique<CudnnHandle>(device);
    ENGINE_CUDNN_CHECK(cudnnSetStream(slot->get(), stream), "conv2d: cudnnSetStream");
    return slot->get();
}

class TensorDesc {
public:
    TensorDesc(cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w) {
        ENGINE_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_), "conv2d: tensor descriptor");
        const cudnnStatus_t status = cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, type, static_cast<int>(n),
                                                                static_cast<int>(c), static_cast<int>(h),
                                                                static_cast<int>(w));
        if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyTensorDescriptor(desc_);
        ENGINE_CUDNN_CHECK(status, "conv2d: tensor descriptor ", shape_str({n, c, h, w}));
    }
    ~TensorDesc() { cudnnDestroyTensorDescriptor(desc_); }
    TensorDesc(const TensorDesc&) = delete;
    TensorDesc& operator=(const TensorDesc&) = delete;
    cudnnTensorDescriptor_t get() const { return desc_; }

private:
    cudnnTensorDescriptor_t desc_ = nullptr;
};

class FilterDesc {
public:
    FilterDesc(cudnnDataType_t type, int64_t o, int64_t c, int64_t kh, int64_t kw) {
        ENGINE_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_), "conv2d: filter descriptor");
        const cudnnStatus_t status = cudnnSetFilter4dDescriptor(desc_, type, CUDNN_TENSOR_NCHW, static_cast<int>(o),
                                                                static_cast<int>(c), static_cast<int>(kh),
                                                                static_cast<int>(kw));
        if (status != CUDNN_STATUS_SUCCESS) cudnnDestroyFilterDescriptor(desc_);
        ENGINE_CUDNN_CHECK(status, "conv2d: filter descriptor ", shape_str({o, c, kh, kw}));
    }
    ~FilterDesc() { cudnnDestroyFilterDescriptor(desc_); }
    FilterDesc(const FilterDesc&) = delete;
    FilterDesc& operator=(const FilterDesc&) = delete;
    cudnnFilterDescriptor_t get() const { return desc_; }

private:
    cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvDesc {
public:
    ConvDesc(cudnnDataType_t type, const Conv2dParams& p) {
        ENGINE_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_), "conv2d: convolution descriptor");
        try {
            ENGINE_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
                                   desc_, static_cast<int>(p.pad_h), static_cast<int>(p.pad_w),
                                   static_cast<int>(p.stride_h), static_cast<int>(p.stride_w),
                                   static_cast<int>(p.dilation_h), static_cast<int>(p.dilation_w),
                                   CUDNN_CROSS_CORRELATION, type),
                               "conv2d: convolution descriptor");
            ENGINE_CUDNN_CHECK(cudnnSetConvolutionGroupCount(desc_, static_cast<int>(p.groups)),
                               "conv2d: convolution descriptor with ", p.groups, " groups");
        } catch (...) {
            cudnnDestroyConvolutionDescriptor(desc_);
            throw;
        }
    }
    ~ConvDesc() { cudnnDestroyConvolutionDescriptor(desc_); }
    ConvDesc(const ConvDesc&) = delete;
    ConvDesc& operator=(const ConvDesc&) = delete;
    cudnnConvolutionDescriptor_t get() const { return desc_; }
    void set_math(cudnnMathType_t math) const {
        ENGINE_CUDNN_CHECK(cudnnSetConvolutionMathType(desc_, math), "conv2d: cudnnSetConvolutionMathType");
    }

private:
    cudnnConvolutionDescriptor_t desc_ = nullptr;
};

enum class Direction { Forward, BackwardData, BackwardFilter };

const char* direction_name(Direction d) {
    return d == Direction::Forward ? "conv2d forward (cudnn)"
                                   : d == Direction::BackwardData ? "conv2d backward input (cudnn)"
                                                                  : "conv2d backward weight (cudnn)";
}

struct Problem {
    Direction direction;
    DType dtype;
    ConvShape s;
    int device;
    bool tf32;
    cudnnDataType_t type() const { return dtype == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT; }
    // The math type every algorithm must run with: FMA only for float32 without TF32.
    bool fma_only() const { return dtype == DType::Float32 && !tf32; }
};

struct Descriptors {
    TensorDesc x, y;
    FilterDesc w;
    ConvDesc conv;
    explicit Descriptors(const Problem& pr)
        : x(pr.type(), pr.s.n, pr.s.c, pr.s.h, pr.s.w),
          y(pr.type(), pr.s.n, pr.s.o, pr.s.oh, pr.s.ow),
          w(pr.type(), pr.s.o, pr.s.group_in(), pr.s.kh, pr.s.kw),
          conv(pr.type(), pr.s.p) {
        conv.set_math(pr.fma_only() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH);
    }
};

struct Algorithm {
    int algo;
    cudnnMathType_t math;
    size_t workspace;
};

// The first usable result of the heuristics (they come sorted by expected speed).
template <class Perf>
std::optional<Algorithm> pick(const Perf* perf, int count, bool fma_only) {
    for (int i = 0; i < count; ++i) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspace) continue;
        if (fma_only && (perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
                         perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)) {
            continue;
        }
        return Algorithm{static_cast<int>(perf[i].algo), perf[i].mathType, perf[i].memory};
    }
    return std::nullopt;
}

std::optional<Algorithm> find_algorithm(const Problem& pr, const Descriptors& d, cudnnHandle_t handle) {
    const char* op = direction_name(pr.direction);
    int returned = 0;
    std::optional<Algorithm> chosen;
    if (pr.direction == Direction::Forward) {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        ENGINE_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.get(), d.w.get(), d.conv.get(),
                                                                  d.y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                                  &returned, perf),
                           op, " ", pr.s.str());
        chosen = pick(perf, returned, pr.fma_only());
    } else if (pr.direction == Direction::BackwardData) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        ENGINE_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w.get(), d.y.get(), d.conv.get(),
                                                                       d.x.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                                                       &returned, perf),
                           op, " ", pr.s.str());
        chosen = pick(perf, returned, pr.fma_only());
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        ENGINE_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                               handle, d.x.get(), d.y.get(), d.conv.get(), d.w.get(),
                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf),
                           op, " ", pr.s.str());
        chosen = pick(perf, returned, pr.fma_only());
    }
    return chosen;
}

using AlgorithmKey = std::array<int64_t, 22>;

AlgorithmKey key_of(const Problem& pr) {
    const ConvShape& s = pr.s;
    return {static_cast<int64_t>(pr.direction), static_cast<int64_t>(pr.dtype), pr.device, pr.tf32,
            s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.oh, s.ow, s.p.stride_h, s.p.stride_w, s.p.pad_h, s.p.pad_w,
            s.p.dilation_h, s.p.dilation_w, s.p.groups, 0, 0};
}

// Cached per problem; nullopt (also cached) sends the problem to our kernels.
std::optional<Algorithm> algorithm_for(const Problem& pr, const Descriptors& d, cudnnHandle_t handle) {
    static std::mutex mutex;
    static std::map<AlgorithmKey, std::optional<Algorithm>> cache;
    const AlgorithmKey key = key_of(pr);
    {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = cache.find(key);
        if (it != cache.end()) return it->second;
    }
    const std::optional<Algorithm> chosen = find_algorithm(pr, d, handle);
    std::lock_guard<std::mutex> lock(mutex);
    cache.emplace(key, chosen);
    return chosen;
}

bool fits_int(int64_t v) { return v > 0 && v <= INT32_MAX; }

// cuDNN takes int sizes, non-empty tensors, and an input whose size gives exactly the output size.
bool supported(const ConvShape& s) {
    for (int64_t v : {s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.oh, s.ow, s.n * s.c * s.h * s.w, s.n * s.o * s.oh * s.ow,
                      s.o * s.group_in() * s.kh * s.kw}) {
        if (!fits_int(v)) return false;
    }
    const int64_t oh = (s.h + 2 * s.p.pad_h - s.p.dilation_h * (s.kh - 1) - 1) / s.p.stride_h + 1;
    const int64_t ow = (s.w + 2 * s.p.pad_w - s.p.dilation_w * (s.kw - 1) - 1) / s.p.stride_w + 1;
    return oh == s.oh && ow == s.ow;
}

// Scaling factors are double for double data and float otherwise.
struct Scale {
    float f;
    double d;
    const void* get(DType dtype) const { return dtype == DType::Float64 ? static_cast<const void*>(&d) : &f; }
};

template <class Run>
bool run_cudnn(Direction direction, DType dtype, const ConvShape& s, int device, const Run& run) {
    if (!supported(s)) return false;
    const Problem pr{direction, dtype, s, device, allow_tf32()};
    const cudaStream_t stream = current_stream(device);
    cudnnHandle_t handle = handle_for(device, stream);
    Descriptors d(pr);
    const std::optional<Algorithm> algorithm = algorithm_for(pr, d, handle);
    if (!algorithm) return false;
    if (!pr.fma_only()) d.conv.set_math(algorithm->math);
    DeviceBuffer workspace(device, algorithm->workspace);
    run(handle, d, *algorithm, workspace);
    return true;
}

}  // namespace

bool conv2d_forward_cudnn(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ConvShape& s,
                          int device) {
    return run_cudnn(Direction::Forward, x.dtype(), s, device,
                     [&](cudnnHandle_t h, const Descriptors& d, const Algorithm& a, const DeviceBuffer& ws) {
                         const Scale one{1.0f, 1.0}, zero{0.0f, 0.0};
                         const DType t = x.dtype();
                         ENGINE_CUDNN_CHECK(cudnnConvolutionForward(
                                                h, one.get(t), d.x.get(), x.raw_data(), d.w.get(), w.raw_data(),
                                                d.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(a.algo),
                                                ws.get(), ws.size(), zero.get(t), d.y.get(), y.raw_data()),
                                            "conv2d forward (cudnn) ", s.str());
                         if (bias.defined()) {
                             TensorDesc bias_desc(t == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT, 1, s.o,
                                                  1, 1);
                             ENGINE_CUDNN_CHECK(cudnnAddTensor(h, one.get(t), bias_desc.get(), bias.raw_data(),
                                                               one.get(t), d.y.get(), y.raw_data()),
                                                "conv2d forward (cudnn) bias ", s.str());
                         }
                     });
}

bool conv2d_backward_data_cudnn(const Tensor& grad_y, const Tensor& w, Tensor& grad_x, const ConvShape& s,
                                int device) {
    return run_cudnn(Direction::BackwardData, grad_y.dtype(), s, device,
                     [&](cudnnHandle_t h, const Descriptors& d, const Algorithm& a, const DeviceBuffer& ws) {
                         const Scale one{1.0f, 1.0}, zero{0.0f, 0.0};
                         const DType t = grad_y.dtype();
                         ENGINE_CUDNN_CHECK(
                             cudnnConvolutionBackwardData(h, one.get(t), d.w.get(), w.raw_data(), d.y.get(),
                                                          grad_y.raw_data(), d.conv.get(),
                                                          static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo),
                                                          ws.get(), ws.size(), zero.get(t), d.x.get(),
                                                          grad_x.raw_data()),
                             "conv2d backward input (cudnn) ", s.str());
                     });
}

bool conv2d_backward_weight_cudnn(const Tensor& grad_y, const Tensor& x, Tensor& grad_w, const ConvShape& s,
                                  int device) {
    return run_cudnn(Direction::BackwardFilter, grad_y.dtype(), s, device,
                     [&](cudnnHandle_t h, const Descriptors& d, const Algorithm& a, const DeviceBuffer& ws) {
                         const Scale one{1.0f, 1.0}, zero{0.0f, 0.0};
                         const DType t = grad_y.dtype();
                         ENGINE_CUDNN_CHECK(
                             cudnnConvolutionBackwardFilter(h, one.get(t), d.x.get(), x.raw_data(), d.y.get(),
                                                            grad_y.raw_data(), d.conv.get(),
                                                            static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo),
                                                            ws.get(), ws.size(), zero.get(t), d.w.get(),
                                                            grad_w.raw_data()),
                             "conv2d backward weight (cudnn) ", s.str());
                     });
}

}  // namespace engine::cuda

#endif  // ENGINE_WITH_CUDNN
