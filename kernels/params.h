// Parameter structs and op enums shared by every backend, the autograd layer, the tests and the benches:
// named fields instead of long positional int lists.
#pragma once

#include <cstdint>

namespace engine {

enum class UnaryOp {
    Neg, Exp, Log, Log1p, Sqrt, Rsqrt, Abs, Sign, Relu, Sigmoid, Tanh, Floor, Ceil, Round, Sin, Cos, Square,
    Reciprocal
};
const char* unary_op_name(UnaryOp op);

enum class BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum };
const char* binary_op_name(BinaryOp op);

enum class CompareOp { Eq, Ne, Lt, Le, Gt, Ge };
const char* compare_op_name(CompareOp op);

enum class ReduceOp { Sum, Mean, Max, Min };
const char* reduce_op_name(ReduceOp op);

enum class Reduction { None, Mean, Sum };

// Output size per spatial dim: (in + 2*pad - dilation*(kernel-1) - 1) / stride + 1.
struct Conv2dParams {
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    int64_t groups = 1;

    // The same stride, padding and dilation along both spatial dims (nn.Conv2d's int arguments).
    static Conv2dParams make(int64_t stride, int64_t padding, int64_t dilation = 1, int64_t groups = 1) {
        return {stride, stride, padding, padding, dilation, dilation, groups};
    }
};

// As nn.MaxPool2d / nn.AvgPool2d. stride 0 means "equal to the kernel size".
struct Pool2dParams {
    int64_t kernel_h = 2, kernel_w = 2;
    int64_t stride_h = 0, stride_w = 0;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;  // max pooling only
    bool ceil_mode = false;
    bool count_include_pad = true;  // average pooling only
};

enum class InterpMode { Nearest, Bilinear };

// scale_h/scale_w > 0 are the user's scale factors (PyTorch maps output to input coordinates with 1/scale
// when they are given); 0 means "derive from the sizes".
struct InterpParams {
    InterpMode mode = InterpMode::Nearest;
    bool align_corners = false;  // bilinear only
    double scale_h = 0.0, scale_w = 0.0;
};

enum class PadMode { Constant, Reflect, Replicate };

enum class ScatterReduce { None, Add };

struct SgdParams {
    double lr = 1e-2;
    double momentum = 0.0;
    double dampening = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;
};

// Adam when decoupled_weight_decay is false (L2 added to the gradient), AdamW when true.
struct AdamParams {
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
    bool decoupled_weight_decay = false;
    bool amsgrad = false;
};

enum class RandomKind { Uniform, Normal, Bernoulli };

}  // namespace engine
