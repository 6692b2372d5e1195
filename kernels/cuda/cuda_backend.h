// The CUDA backend: the same Backend interface as the CPU, implemented with hand-written kernels
// (kernels/cuda/*.cu, launched through launch.cuh), cuDNN convolutions and cuBLAS matmuls in the real build,
// and our own GEMM and convolution kernels (always available, and the only ones in the emulated build).
// Each op family lives in its own .cu file; this class only lists what is overridden.
#pragma once

#include "kernels/backend.h"

namespace engine {

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device_index) : device_index_(device_index) {}
    const char* name() const override { return "cuda"; }
    int device_index() const { return device_index_; }

    // --- memory, elementwise, reductions, softmax, losses, randomness, optimizer steps
    // clang-format off
    void fill_(Tensor& out, double value) override;
    void copy_(Tensor& dst, const Tensor& src) override;
    Tensor unary(UnaryOp op, const Tensor& x) override;
    Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad_y) override;
    Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) override;
    Tensor binary_scalar(BinaryOp op, const Tensor& a, double s, bool scalar_first) override;
    void binary_(BinaryOp op, Tensor& a, const Tensor& b) override;
    Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) override;
    Tensor compare_scalar(CompareOp op, const Tensor& a, double s) override;
    Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) override;
    Tensor clamp(const Tensor& x, double lo, double hi) override;
    Tensor clamp_backward(const Tensor& x, double lo, double hi, const Tensor& grad_y) override;
    Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) override;
    std::pair<Tensor, Tensor> reduce_with_index(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) override;
    Tensor var(const Tensor& x, const std::vector<int64_t>& dims, double correction, bool keepdim) override;
    Tensor softmax(const Tensor& x, int64_t dim, bool log) override;
    Tensor softmax_backward(const Tensor& y, const Tensor& grad_y, int64_t dim, bool log) override;
    std::pair<Tensor, Tensor> nll_loss_forward(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                                               int64_t ignore_index, Reduction reduction) override;
    Tensor nll_loss_backward(const Tensor& grad_loss, const Shape& log_probs_shape, const Tensor& target,
                             const Tensor& weight, int64_t ignore_index, Reduction reduction,
                             const Tensor& total_weight) override;
    Tensor bce_with_logits_forward(const Tensor& x, const Tensor& target, const Tensor& weight,
                                   const Tensor& pos_weight, Reduction reduction) override;
    Tensor bce_with_logits_backward(const Tensor& grad_loss, const Tensor& x, const Tensor& target,
                                    const Tensor& weight, const Tensor& pos_weight, Reduction reduction) override;
    void random_(Tensor& out, RandomKind kind, double a, double b, uint64_t seed, uint64_t offset) override;
    void sgd_step_(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& p,
                   bool first_step) override;
    void adam_step_(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq, Tensor& max_exp_avg_sq,
                    int64_t step, const AdamParams& p) override;
    // clang-format on

    // --- pooling, batch norm, interpolation, shape and index ops
    std::pair<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dParams& p) override;
    Tensor max_pool2d_backward(const Tensor& grad_y, const Tensor& indices, const Shape& x_shape) override;
    Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) override;
    Tensor avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape, const Pool2dParams& p) override;
    Tensor adaptive_avg_pool2d_forward(const Tensor& x, int64_t out_h, int64_t out_w) override;
    Tensor adaptive_avg_pool2d_backward(const Tensor& grad_y, const Shape& x_shape) override;
    BatchNormForward batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                        Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                                        double eps) override;
    BatchNormGrads batch_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight,
                                       const Tensor& save_mean, const Tensor& save_invstd, bool training) override;
    Tensor interpolate_forward(const Tensor& x, int64_t out_h, int64_t out_w, const InterpParams& p) override;
    Tensor interpolate_backward(const Tensor& grad_y, const Shape& x_shape, const InterpParams& p) override;
    Tensor cat(const std::vector<Tensor>& xs, int64_t dim) override;
    Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, PadMode mode, double value) override;
    Tensor pad_backward(const Tensor& grad_y, const Shape& x_shape, const std::vector<int64_t>& pads,
                        PadMode mode) override;
    Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) override;
    Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                   ScatterReduce reduce) override;
    Tensor scatter_value(const Tensor& self, int64_t dim, const Tensor& index, double value) override;
    Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) override;
    Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) override;

    // --- matmul and convolution
    Tensor matmul(const Tensor& a, const Tensor& b) override;
    Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) override;
    Tensor conv2d_backward_data(const Tensor& grad_y, const Tensor& w, const Shape& x_shape,
                                const Conv2dParams& p) override;
    Tensor conv2d_backward_weight(const Tensor& grad_y, const Tensor& x, const Shape& w_shape,
                                  const Conv2dParams& p) override;

private:
    int device_index_;
};

// One backend per device ordinal; the caller has checked that the device exists.
Backend& cuda_backend(int device_index);

}  // namespace engine
